#!/usr/bin/env bash
# The main job for now: build, start sttd on a free loopback port, transcribe a
# real recording (LibriVox, from pocketsphinx-testdata) over HTTP, print the
# transcript in two formats and the server's metrics, then stop sttd.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
echo "== building"
scripts/build.sh build
clip=/usr/share/pocketsphinx/test/data/librivox/sense_and_sensibility_01_austen_64kb-0870.wav
source scripts/sttd_start.sh
sttd_start build --workers 2
url=$STTD_URL
echo "== sttd is listening on $url"
echo "== POST $url/v1/audio/transcriptions  (file: $(basename "$clip"), response_format=text)"
curl -sS -F "file=@$clip" -F model=balanced -F response_format=text "$url/v1/audio/transcriptions"
echo "== the same as subtitles (response_format=srt)"
curl -sS -F "file=@$clip" -F response_format=srt "$url/v1/audio/transcriptions"
echo "== reference: $(grep -h 0870 /usr/share/pocketsphinx/test/data/librivox/transcription | sed 's/<[^>]*>//g; s/ (.*//')"
echo "== /metrics (excerpt)"
curl -sS "$url/metrics" | grep -E '^sttd_(requests_total|audio_seconds_total|workers )' || true
sttd_stop
echo "== sttd stopped cleanly"
