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
log=$(mktemp /tmp/sttd-quickstart.XXXXXX)
build/sttd --port 0 --workers 2 2>"$log" &
pid=$!
trap 'kill $pid 2>/dev/null || true; wait $pid 2>/dev/null || true; rm -f "$log"' EXIT
port=""
for _ in $(seq 1 300); do
  port=$(sed -n 's/.*listening on http:\/\/[^:]*:\([0-9]*\).*/\1/p' "$log")
  [[ -n "$port" ]] && break
  kill -0 $pid 2>/dev/null || { cat "$log" >&2; exit 1; }
  sleep 0.1
done
[[ -n "$port" ]] || { echo "sttd did not start" >&2; cat "$log" >&2; exit 1; }
url="http://127.0.0.1:$port"
echo "== sttd is listening on $url"
echo "== POST $url/v1/audio/transcriptions  (file: $(basename "$clip"), response_format=text)"
curl -sS -F "file=@$clip" -F model=balanced -F response_format=text "$url/v1/audio/transcriptions"
echo "== the same as subtitles (response_format=srt)"
curl -sS -F "file=@$clip" -F response_format=srt "$url/v1/audio/transcriptions"
echo "== reference: $(grep -h 0870 /usr/share/pocketsphinx/test/data/librivox/transcription | sed 's/<[^>]*>//g; s/ (.*//')"
echo "== /metrics (excerpt)"
curl -sS "$url/metrics" | grep -E '^sttd_(requests_total|audio_seconds_total|workers )' || true
kill -TERM $pid
wait $pid
trap - EXIT
rm -f "$log"
echo "== sttd stopped cleanly"
