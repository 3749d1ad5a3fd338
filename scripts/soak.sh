#!/usr/bin/env bash
# soak.sh: sttd for a long time under mixed real load at 70% of its capacity,
# with a sprinkling of bad input and slow clients; says whether it stays
# healthy. Not part of CI (docs/SERVICE.md, "The soak benchmark").
#
#   scripts/soak.sh [--minutes N] [--workers W] [--build DIR] [--out DIR]
#   (default: 30 minutes, all usable CPUs, build/, results/soak/TIMESTAMP)
#
# Measures: errors beyond the bad inputs (must be 0), the memory slope of the
# process tree (PSS plus memfds; flat), open descriptors and processes (flat),
# and the p95 latency of every one-minute step and its drift. Writes
# OUT/soak.json and prints a summary. Exit status: 0 healthy, 1 a verdict
# failed (or sttd did not start or stop cleanly), 2 bad usage.
set -u -o pipefail

usage() {
    sed -n '2,13p' "$0" | sed 's/^# \{0,1\}//'
}

MINUTES=30 WORKERS="" BUILD="" OUT=""
while [ $# -gt 0 ]; do
    case "$1" in
    --minutes) MINUTES=${2:-}; shift ;;
    --workers) WORKERS=${2:-}; shift ;;
    --build) BUILD=${2:-}; shift ;;
    --out) OUT=${2:-}; shift ;;
    -h | --help) usage; exit 0 ;;
    *) echo "soak.sh: unknown option '$1'" >&2; usage >&2; exit 2 ;;
    esac
    shift
done
[[ $MINUTES =~ ^[1-9][0-9]*$ ]] || { echo "soak.sh: --minutes wants a whole number >= 1" >&2; exit 2; }
[[ -z $WORKERS || $WORKERS =~ ^[1-9][0-9]*$ ]] || { echo "soak.sh: --workers wants a number" >&2; exit 2; }
command -v jq >/dev/null || { echo "soak.sh: needs jq" >&2; exit 2; }

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BUILD=${BUILD:-$ROOT/build}
OUT=${OUT:-$ROOT/results/soak/$(date -u +%Y%m%dT%H%M%SZ)} # results/ is not committed
DATA=/usr/share/pocketsphinx/test/data
SEEDS=$ROOT/tests/fuzz/seeds/fuzz_audio
for bin in sttd sttbench; do
    [ -x "$BUILD/$bin" ] || { echo "soak.sh: $BUILD/$bin not built (scripts/build.sh)" >&2; exit 2; }
done
mkdir -p "$OUT" || exit 2
WORKERS=${WORKERS:-$(nproc)}
say() { printf '%s soak: %s\n' "$(date -u +%H:%M:%S)" "$*" >&2; }

# ---- the server ------------------------------------------------------------------------
# A deep queue: the soak measures whether sttd stays healthy, not how to size
# --queue (at 70% of capacity a queue of 2 x workers refuses Poisson bursts).
LOG=$OUT/sttd.log
"$BUILD/sttd" --port 0 --probe-port 0 --workers "$WORKERS" --queue $((8 * WORKERS)) \
    --profiles balanced 2>"$LOG" &
PID=$!
cleanup() { kill "$PID" 2>/dev/null; jobs -p | xargs -r kill 2>/dev/null; }
trap cleanup EXIT
PORT="" PROBE=""
for _ in $(seq 1 600); do
    PORT=$(sed -n 's/.*listening on http:\/\/[^:]*:\([0-9]*\).*/\1/p' "$LOG")
    PROBE=$(sed -n 's/.*probes on port \([0-9]*\).*/\1/p' "$LOG")
    [ -n "$PORT" ] && break
    kill -0 "$PID" 2>/dev/null || break
    sleep 0.1
done
[ -n "$PORT" ] || { echo "soak.sh: sttd did not start:" >&2; cat "$LOG" >&2; exit 1; }
URL=http://127.0.0.1:$PORT
say "sttd pid $PID on $URL (probes on $PROBE), $WORKERS workers, $MINUTES min"

MIX=$OUT/mix.txt
for id in 0870 0880 0890 0920 0930; do
    echo "$DATA/librivox/sense_and_sensibility_01_austen_64kb-$id.wav"
done >"$MIX"

# ---- the sampler: memory, descriptors, processes, every 10 s -----------------------------
tree() { # pid and all its descendants
    local p=$1
    echo "$p"
    for c in $(pgrep -P "$p"); do tree "$c"; done
}
sample() {
    local t0=$1 pss=0 memfd=0 fds=0 procs=0 p f k
    declare -A seen=()
    for p in $(tree "$PID"); do
        procs=$((procs + 1))
        k=$(awk '/^Pss:/ {print $2}' "/proc/$p/smaps_rollup" 2>/dev/null)
        pss=$((pss + ${k:-0}))
        for f in /proc/$p/fd/*; do
            fds=$((fds + 1))
            case $(readlink "$f" 2>/dev/null) in
            /memfd:*)
                read -r ino size < <(stat -L -c '%i %s' "$f" 2>/dev/null) || continue
                [ -n "${seen[$ino]:-}" ] && continue
                seen[$ino]=1
                memfd=$((memfd + size))
                ;;
            esac
        done
    done
    printf '{"t_s":%s,"pss_kb":%d,"memfd_bytes":%d,"fds":%d,"processes":%d}\n' \
        "$(($(date +%s) - t0))" "$pss" "$memfd" "$fds" "$procs"
}
sampler() {
    while kill -0 "$PID" 2>/dev/null; do
        sample "$T0"
        sleep 10
    done
}

# ---- bad input and slow clients, with the answer each must get -------------------------
BAD=$OUT/bad.tsv
bad_inputs() {
    local i=0 text=$OUT/text.txt expect got
    echo "this is not audio" >"$text"
    while kill -0 "$PID" 2>/dev/null; do
        case $((i % 8)) in
        0) expect=400 got=$(curl -s -o /dev/null -w '%{http_code}' -F "file=@$text" "$URL/v1/audio/transcriptions") ;;
        1) expect=415 got=$(curl -s -o /dev/null -w '%{http_code}' -F "file=@$SEEDS/tiny.aiff" "$URL/v1/audio/transcriptions") ;;
        2) expect=400 got=$(curl -s -o /dev/null -w '%{http_code}' -F "file=@$SEEDS/bad_65535ch.wav" "$URL/v1/audio/transcriptions") ;;
        3) expect=400 got=$(curl -s -o /dev/null -w '%{http_code}' -F "file=@$SEEDS/truncated.wav" "$URL/v1/audio/transcriptions") ;;
        4) expect=415 got=$(curl -s -o /dev/null -w '%{http_code}' -F "file=@$SEEDS/fake.m4a" "$URL/v1/audio/transcriptions") ;;
        5) expect=400 got=$(curl -s -o /dev/null -w '%{http_code}' -F "file=@$(head -1 "$MIX")" -F model=huge "$URL/v1/audio/transcriptions") ;;
        6) # a trickled upload: cut with 408 once it falls below the minimum rate
            # (000: the client saw the close before the answer it was sent)
            expect=408/000 got=$(curl -s -o /dev/null -w '%{http_code}' --limit-rate 2k -F "file=@$(head -1 "$MIX")" "$URL/v1/audio/transcriptions") ;;
        7) # a slowloris: headers never finished; the connection is closed
            expect=cut
            if exec 9<>"/dev/tcp/127.0.0.1/$PORT" 2>/dev/null; then
                printf 'GET /health HTTP/1.1\r\nX-Slow: ' >&9
                got=open
                for _ in $(seq 1 30); do
                    sleep 1
                    printf 'a' >&9 2>/dev/null || { got=cut; break; }
                done
                exec 9>&-
            else
                got=refused
            fi
            ;;
        esac
        printf '%s\t%s\t%s\n' "$((i % 8))" "$expect" "$got" >>"$BAD"
        i=$((i + 1))
        sleep 5
    done
}

# ---- capacity, then the long run at 70% of it ----------------------------------------
say "measuring capacity: closed loop, $WORKERS in flight, 30 s"
"$BUILD/sttbench" load --url "$URL" --mix "$MIX" --concurrency "$WORKERS" --duration 30 \
    --warmup 5 --out "$OUT/capacity" >"$OUT/capacity.log" 2>&1 ||
    { echo "soak.sh: capacity run failed, see $OUT/capacity.log" >&2; exit 1; }
CAP=$(jq '.steps[0].ok_rps' "$OUT/capacity/load.json")
RATE=$(jq -n --argjson c "$CAP" '($c * 0.7 * 1000 | floor) / 1000')
awk -v r="$RATE" 'BEGIN { exit !(r > 0) }' || { echo "soak.sh: no capacity measured ($CAP req/s)" >&2; exit 1; }
say "capacity $CAP req/s; offering $RATE req/s (Poisson) for $MINUTES x 60 s"

: >"$BAD"
T0=$(date +%s)
sampler >"$OUT/samples.jsonl" &
SAMPLER=$!
bad_inputs &
BADPID=$!
RATES=$(printf "$RATE%.0s," $(seq 1 "$MINUTES") | sed 's/,$//')
"$BUILD/sttbench" load --url "$URL" --mix "$MIX" --rate "$RATES" --arrival poisson \
    --duration 60 --warmup 0 --seed 7 --out "$OUT/load" >"$OUT/load.log" 2>&1
LOAD_RC=$?
kill "$BADPID" 2>/dev/null
wait "$BADPID" 2>/dev/null
sample "$T0" >>"$OUT/samples.jsonl"

say "stopping sttd"
kill -TERM "$PID"
wait "$PID"
STOP_RC=$?
kill "$SAMPLER" 2>/dev/null
wait "$SAMPLER" 2>/dev/null
trap - EXIT

# ---- verdicts ----------------------------------------------------------------------------
[ "$LOAD_RC" = 0 ] && [ -s "$OUT/load/load.json" ] ||
    { echo "soak.sh: the load run failed, see $OUT/load.log" >&2; exit 1; }
jq -s . "$OUT/samples.jsonl" >"$OUT/samples.json"
jq -R -s 'split("\n") | map(select(length > 0) | split("\t") | {kind: .[0] | tonumber, expect: .[1], got: .[2]})' \
    "$BAD" >"$OUT/bad.json"
COMMIT=$(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo unknown)
[ -n "$(git -C "$ROOT" status --porcelain 2>/dev/null)" ] && COMMIT="$COMMIT-dirty"
jq -n \
    --arg created "$(date -u +%Y-%m-%dT%H:%M:%SZ)" \
    --arg commit "$COMMIT" \
    --arg cpu "$(sed -n 's/^model name[^:]*: //p' /proc/cpuinfo | head -1)" \
    --argjson cores "$(nproc)" \
    --argjson mem_kb "$(awk '/^MemTotal:/ {print $2}' /proc/meminfo)" \
    --argjson minutes "$MINUTES" --argjson workers "$WORKERS" \
    --argjson capacity "$CAP" --argjson rate "$RATE" --argjson stop_rc "$STOP_RC" \
    --slurpfile samples "$OUT/samples.json" --slurpfile bad "$OUT/bad.json" \
    --slurpfile load "$OUT/load/load.json" '
  ($samples[0]) as $s | ($load[0].steps) as $st | ($bad[0]) as $b |
  # the second half of the run, least squares of memory (MB) on time (h)
  ($s | map(select(.t_s >= (($s | last | .t_s) / 2)))) as $h |
  ($h | map({x: (.t_s / 3600), y: ((.pss_kb * 1024 + .memfd_bytes) / 1e6)})) as $pts |
  ($pts | length) as $n |
  (if $n >= 3 then
     ($pts | map(.x) | add / $n) as $mx | ($pts | map(.y) | add / $n) as $my |
     ($pts | map((.x - $mx) * (.y - $my)) | add) as $sxy |
     ($pts | map((.x - $mx) * (.x - $mx)) | add) as $sxx |
     (if $sxx > 0 then $sxy / $sxx else 0 end)
   else null end) as $slope |
  (($h | last | .t_s) - ($h | first | .t_s)) as $span_s |
  ($st | map(.errors | to_entries | map(.value) | add) | add) as $load_errors |
  ($st | map(.latency_s.p95 // null)) as $p95 |
  ($b | map(select(. as $x | ($x.expect | split("/") | index($x.got)) == null)) | length) as $bad_wrong |
  {
    kind: "soak", schema: "sttlab.soak/1", created: $created, commit: $commit,
    machine: {cpu: $cpu, cores: $cores, memory_kb: $mem_kb},
    config: {minutes: $minutes, workers: $workers, queue: (8 * $workers), profile: "balanced",
             capacity_rps: $capacity, offered_rps: $rate, arrival: "poisson",
             utilisation: 0.7},
    steps: ($st | map({offered, sent, ok, throughput_rps, errors, late, dropped,
                       p95_s: (.latency_s.p95 // null), p50_s: (.latency_s.p50 // null),
                       stable})),
    samples: $s,
    bad_inputs: {sent: ($b | length), unexpected: $bad_wrong,
                 by_kind: ($b | group_by(.kind) | map({kind: .[0].kind, expect: .[0].expect,
                                                        got: (map(.got) | unique)}))},
    figures: {
      load_errors: $load_errors,
      memory_mb_first: (($s | first | (.pss_kb * 1024 + .memfd_bytes)) / 1e6),
      memory_mb_last: (($s | last | (.pss_kb * 1024 + .memfd_bytes)) / 1e6),
      memory_slope_mb_per_h: $slope,
      memory_growth_mb_second_half: (if $slope == null then null else $slope * $span_s / 3600 end),
      fds_first: ($s | first | .fds), fds_last: ($s | last | .fds),
      processes_first: ($s | first | .processes), processes_last: ($s | last | .processes),
      p95_first_s: ($p95 | first), p95_last_s: ($p95 | last),
      p95_drift: (if ($p95 | first) and ($p95 | last) and ($p95 | first) > 0
                  then ($p95 | last) / ($p95 | first) else null end),
      sttd_exit_status: $stop_rc
    }
  } |
  .verdicts = {
    errors: (if .figures.load_errors == 0 and .bad_inputs.unexpected == 0 then "pass" else "fail" end),
    memory: (if .figures.memory_growth_mb_second_half == null then "undetermined (too few samples)"
             elif .figures.memory_growth_mb_second_half < 20 then "pass" else "fail" end),
    fds: (if .figures.fds_last - .figures.fds_first <= 4 then "pass" else "fail" end),
    processes: (if .figures.processes_last == .figures.processes_first then "pass" else "fail" end),
    p95: (if .figures.p95_drift == null then "undetermined (no latency)"
          elif .figures.p95_drift <= 1.5 then "pass" else "fail" end),
    stop: (if .figures.sttd_exit_status == 0 then "pass" else "fail" end)
  } |
  .ok = ([.verdicts[] | select(. == "fail")] | length == 0)' >"$OUT/soak.json" ||
    { echo "soak.sh: could not write $OUT/soak.json" >&2; exit 1; }

jq -r '
  "soak: \(.config.minutes) min at \(.config.offered_rps) req/s (70% of \(.config.capacity_rps)), \(.config.workers) workers",
  "  errors: \(.figures.load_errors) in the load, \(.bad_inputs.unexpected) unexpected of \(.bad_inputs.sent) bad inputs: \(.verdicts.errors)",
  "  memory: \(.figures.memory_mb_first | floor) -> \(.figures.memory_mb_last | floor) MB, slope \(.figures.memory_slope_mb_per_h // "n/a") MB/h: \(.verdicts.memory)",
  "  fds: \(.figures.fds_first) -> \(.figures.fds_last): \(.verdicts.fds); processes: \(.figures.processes_first) -> \(.figures.processes_last): \(.verdicts.processes)",
  "  p95: \(.figures.p95_first_s // "n/a") -> \(.figures.p95_last_s // "n/a") s, drift \(.figures.p95_drift // "n/a"): \(.verdicts.p95)",
  "  stop: exit \(.figures.sttd_exit_status): \(.verdicts.stop)",
  (if .ok then "soak: healthy" else "soak: NOT healthy" end)' "$OUT/soak.json"
echo "results in $OUT/soak.json"
jq -e .ok "$OUT/soak.json" >/dev/null
