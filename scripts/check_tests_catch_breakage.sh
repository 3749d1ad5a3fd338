#!/usr/bin/env bash
# check_tests_catch_breakage.sh: do the tests notice when a module is broken?
# Breaks every module of lib/ once, in a copy of the tree, and runs the test
# that should notice. See docs/TESTING.md ("Do the tests catch breakage?").
# Exit status: 0 every mutation was caught; 1 at least one was not caught;
# 2 bad usage, a failed build, a baseline test that fails unmutated, or a
# mutation that no longer applies to the source.
set -u -o pipefail

usage() {
    cat <<'EOF'
usage: scripts/check_tests_catch_breakage.sh [options]

Copies CMakeLists.txt, lib/, src/ and tests/ into a work folder, builds the
test programs there, checks that they pass, then applies one small, realistic
mutation per module of lib/ (a flipped comparison, a dropped step, an
off-by-one, a wrong constant), rebuilds (only the mutated file recompiles),
runs the test meant to cover that module, and restores the file. The source
tree itself is never modified.

Prints one line per mutation: the module, what was broken, and the test that
failed because of it, or NOT CAUGHT.

  --work DIR     work folder (source copy DIR/src, build DIR/build, logs
                 DIR/logs); kept, and reused incrementally by the next run.
                 Default: a fresh temporary folder, removed at the end
  --keep         keep the temporary work folder
  --only LIST    only these modules, comma-separated (e.g. vad,pool)
  --list         list the mutations and exit
  --dry-run      apply each mutation to the copy, show its diff, build nothing
  --jobs N       parallel build jobs (number of CPUs)
  -h, --help     this text
EOF
}

root=$(cd "$(dirname "$0")/.." && pwd)
work="" keep=0 only="" list=0 dry=0 jobs=$(nproc 2>/dev/null || echo 2)
while [ $# -gt 0 ]; do
    case "$1" in
    --work) work=${2:?--work needs a folder}; keep=1; shift 2 ;;
    --keep) keep=1; shift ;;
    --only) only=${2:?--only needs a list}; shift 2 ;;
    --list) list=1; shift ;;
    --dry-run) dry=1; shift ;;
    --jobs) jobs=${2:?--jobs needs a number}; shift 2 ;;
    -h | --help) usage; exit 0 ;;
    *) echo "unknown option: $1 (see --help)" >&2; exit 2 ;;
    esac
done

# ---- the mutations: module, file, test(s) that must catch it, what, sed ----
# Each sed must change exactly one line; the script refuses one that does not.
M_MOD=() M_FILE=() M_TESTS=() M_WHAT=() M_SED=()
mut() { M_MOD+=("$1"); M_FILE+=("$2"); M_TESTS+=("$3"); M_WHAT+=("$4"); M_SED+=("$5"); }

mut audio lib/svc/audio.c test_audio "mixdown sums the channels instead of averaging" \
    's#mono\[i\] = sum / (float)ch;#mono[i] = sum;#'
mut vad lib/svc/vad.c test_vad "a pause of exactly min_pause_s is bridged (< became <=)" \
    's#a - segs\[n_segs - 1\].end < min_pause_f#a - segs[n_segs - 1].end <= min_pause_f#'
mut engine lib/svc/engine_pocketsphinx.c test_pool "no ps_start_stream(): channel state leaks between pieces" \
    's#if (ps_start_stream(e->ps) < 0 || ps_start_utt(e->ps) < 0)#if (ps_start_utt(e->ps) < 0)#'
mut worker lib/svc/worker.c test_pool "piece offset read as bytes, not samples" \
    's#size_t start = (size_t)job.offset \* sizeof(int16_t);#size_t start = (size_t)job.offset;#'
mut pool lib/svc/pool.c test_pool "results stored in completion order, not piece order" \
    's#r->results\[w->piece\] = t;#r->results[r->done] = t;#'
mut transcript lib/svc/transcript.c test_transcript "append shifts words but not segments" \
    's#(stt_segment){s.start + offset_s, s.end + offset_s,#(stt_segment){s.start, s.end,#'
mut form lib/svc/form.c test_form "a delimiter split across chunks is not held back" \
    's#(n >= f->dlen ? n - (f->dlen - 1) : 0)#n#'
mut http lib/svc/http.c test_http "API key compare ignores length (key+suffix accepted)" \
    's#unsigned char diff = (unsigned char)(gl != kl);#unsigned char diff = 0;#'
mut metrics lib/svc/metrics.c test_metrics "histogram bucket bound exclusive (le: <= became <)" \
    's#if (v <= f->bounds\[i\]) {#if (v < f->bounds[i]) {#'
mut wer lib/lab/wer.c test_wer "alignment tie prefers deletion over insertion (< became <=)" \
    's#} else if (del < ins) {#} else if (del <= ins) {#'
mut corpus lib/lab/corpus.c test_corpus "pauses all at the end instead of after each clip" \
    's#o += c->n + pause_n;#o += c->n;#'
mut loadgen lib/lab/loadgen.c test_loadgen "open-loop latency from send time (coordinated omission)" \
    's#sl->sched_ns = w->s->mode == STT_LOAD_OPEN ? sched : sl->send_ns;#sl->sched_ns = sl->send_ns;#'
mut histogram lib/lab/histogram.c test_histogram "merge into an empty histogram keeps min 0" \
    's#if (dst->count == 0 || src->min < dst->min) dst->min = src->min;#if (src->min < dst->min) dst->min = src->min;#'
mut cpulimit lib/lab/cpulimit.c test_cpulimit "the last usable CPU is never granted (> became >=)" \
    's#l->p.first_cpu + want > n)#l->p.first_cpu + want >= n)#'
mut rounds lib/lab/rounds.c test_rounds "per-round ratio upside down (b/a became a/b)" \
    's#r\[m++\] = invert ? a\[i\] / b\[i\] : b\[i\] / a\[i\];#r[m++] = invert ? b[i] / a[i] : a[i] / b[i];#'
mut scaling lib/lab/scaling.c test_scaling "diminishing returns decided on the interval's low end, not all of it" \
    's#if (ci->hi < STT_FIT_DIMINISHING_FRACTION) {#if (ci->lo < STT_FIT_DIMINISHING_FRACTION) {#'
mut capacity lib/lab/capacity.c test_capacity "a slower weak core counted as better for latency" \
    's#res->side = higher_better ? STT_CAP_WEAK : STT_CAP_STRONG;#res->side = STT_CAP_WEAK;#'
mut profile lib/lab/profile/plan.c test_profile "thread search without workers beyond the cores" \
    's#c->workers = 2 \* cores\[i\];#c->workers = cores[i];#'
mut sut lib/lab/sut.c test_sut "metric lookup matches a longer name's prefix" \
    's#if (!strncmp(p, name, l) && (p\[l\] == . . || p\[l\] == .\\t.)) return#if (!strncmp(p, name, l)) return#'
mut proc lib/lab/proc.c test_proc "process CPU time leaves out system time" \
    's#\*s = (double)(t\[0\] + t\[1\]) / (double)sysconf#*s = (double)t[0] / (double)sysconf#'
mut fit lib/lab/fit.c test_fit "USL peak uses 1 + sigma instead of 1 - sigma" \
    's#out->peak_n = sqrt((1.0 - out->sigma) / out->kappa);#out->peak_n = sqrt((1.0 + out->sigma) / out->kappa);#'
mut queueing lib/lab/queueing.c test_queueing "Allen-Cunneen factor without the /2" \
    's#\* (p->ca2 + r->cs2) / 2.0;#* (p->ca2 + r->cs2);#'
mut report lib/lab/report/report.c test_report "termination grace without its +50% margin" \
    's#(int)ceil(worst \* 1.5) + 10#(int)ceil(worst) + 10#'
mut testreport lib/lab/testreport/testreport.c test_testreport "violation threshold is slow_seconds, not max_test_seconds" \
    's#t->v.seconds > p->max_test_seconds &&#t->v.seconds > p->slow_seconds \&\&#'
mut html lib/lab/html.c test_testreport "double quote not escaped" \
    's#fputs("&quot;", f);#fputc(*s, f);#'

selected=()
for i in "${!M_MOD[@]}"; do
    if [ -z "$only" ] || [[ ",$only," == *",${M_MOD[$i]},"* ]]; then selected+=("$i"); fi
done
if [ ${#selected[@]} -eq 0 ]; then
    echo "no module matches --only '$only'; modules: ${M_MOD[*]}" >&2
    exit 2
fi
if [ $list = 1 ]; then
    for i in "${selected[@]}"; do
        printf '%-11s %-26s %-16s %s\n' "${M_MOD[$i]}" "${M_FILE[$i]}" "${M_TESTS[$i]}" "${M_WHAT[$i]}"
    done
    exit 0
fi

# ---- the work folder: a copy of the tree, synced by content ----
if [ -z "$work" ]; then
    work=$(mktemp -d "${TMPDIR:-/tmp}/check_tests_catch_breakage.XXXXXX") || exit 2
fi
src="$work/src" build="$work/build" logs="$work/logs"
mkdir -p "$src" "$logs" || exit 2
cleanup() {
    # A mutation still applied (interrupted run) is undone first.
    if [ -n "${active:-}" ] && [ -f "$work/pristine" ]; then cp "$work/pristine" "$src/$active"; fi
    if [ $keep = 0 ]; then rm -rf "$work"; fi
}
active=""
trap cleanup EXIT
trap 'exit 130' INT TERM

# Only files whose content differs are copied, so their new time stamps make
# the reused build folder recompile exactly what changed.
(
    cd "$root" || exit 2
    find CMakeLists.txt lib src tests -type f ! -name '*.o' | sort >"$work/files.new"
    while read -r f; do
        if ! cmp -s "$f" "$src/$f"; then
            mkdir -p "$src/$(dirname "$f")" && cp "$f" "$src/$f" || exit 2
        fi
    done <"$work/files.new"
    # Files removed from the tree go from the copy too.
    (cd "$src" && find CMakeLists.txt lib src tests -type f | sort) | comm -13 "$work/files.new" - |
        while read -r f; do rm -f "$src/$f"; done
) || { echo "cannot copy the tree into $src" >&2; exit 2; }

# Applies mutation i to the copy; returns 1 unless exactly one line changed.
apply() {
    local i=$1 f="$src/${M_FILE[$1]}"
    cp "$f" "$work/pristine" || return 1
    active=${M_FILE[$i]}
    sed -i -e "${M_SED[$i]}" "$f" || return 1
    local old new
    old=$(diff "$work/pristine" "$f" | grep -c '^<')
    new=$(diff "$work/pristine" "$f" | grep -c '^>')
    [ "$old" = 1 ] && [ "$new" = 1 ]
}

restore() {
    # A plain cp gives the file a new time stamp, so the next build recompiles it.
    cp "$work/pristine" "$src/$active"
    active=""
}

if [ $dry = 1 ]; then
    bad=0
    for i in "${selected[@]}"; do
        echo "== ${M_MOD[$i]}: ${M_WHAT[$i]}"
        if apply "$i"; then diff "$work/pristine" "$src/${M_FILE[$i]}"; else
            echo "   does not apply (must change exactly one line)"
            bad=1
        fi
        restore
    done
    exit $((bad * 2))
fi

# A test program is tests/unit/LIB/NAME.c or tests/integration/NAME.c; a mutation
# whose tests do not exist is not caught by anything.
have_test() { compgen -G "$src/tests/unit/*/$1.c" >/dev/null || [ -f "$src/tests/integration/$1.c" ]; }
targets=()
for i in "${selected[@]}"; do
    for t in ${M_TESTS[$i]//,/ }; do
        have_test "$t" || continue
        [[ " ${targets[*]} " == *" $t "* ]] || targets+=("$t")
    done
done

build_targets() {
    [ ${#targets[@]} -eq 0 ] || cmake --build "$build" -j "$jobs" --target "${targets[@]}" >>"$1" 2>&1
}

t_start=$(date +%s)
echo "work folder: $work" >&2
echo "configuring and building ${targets[*]} ..." >&2
if ! { cmake -S "$src" -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo >"$logs/build.log" 2>&1 &&
       build_targets "$logs/build.log"; }; then
    tail -n 30 "$logs/build.log" >&2
    echo "build failed (log: $logs/build.log)" >&2
    exit 2
fi

# Runs the named tests; prints the names of those that failed.
run_tests() {
    local log=$1 regex
    shift
    regex="^($(IFS='|'; echo "$*"))\$"
    (cd "$build" && timeout -k 10 600 ctest -R "$regex" --output-on-failure) >"$log" 2>&1
    local rc=$?
    if [ $rc -ne 0 ]; then
        local failed
        failed=$(sed -n 's/^[[:space:]]*[0-9]* - \(test_[A-Za-z0-9_]*\) (\(.*\))$/\1 (\2)/p' "$log" | paste -sd ' ')
        echo "${failed:-ctest exit $rc}"
    fi
    return $rc
}

echo "baseline: running ${targets[*]} unmutated ..." >&2
if [ ${#targets[@]} -gt 0 ] && ! failed=$(run_tests "$logs/baseline.log" "${targets[@]}"); then
    echo "baseline fails before any mutation: $failed (log: $logs/baseline.log)" >&2
    exit 2
fi

printf '%-11s %-60s %s\n' module "what was broken" "caught by"
not_caught=0 invalid=0
for i in "${selected[@]}"; do
    log="$logs/$(printf '%02d' "$i")_${M_MOD[$i]}.log"
    : >"$log"
    tests=()
    for t in ${M_TESTS[$i]//,/ }; do have_test "$t" && tests+=("$t"); done
    if [ ${#tests[@]} -eq 0 ]; then
        verdict="NOT CAUGHT (no test: ${M_TESTS[$i]})"
        not_caught=$((not_caught + 1))
    elif ! apply "$i"; then
        verdict="MUTATION DOES NOT APPLY (source changed?)"
        invalid=$((invalid + 1))
    elif ! build_targets "$log"; then
        verdict="BUILD FAILED (log: $log)"
        invalid=$((invalid + 1))
    elif failed=$(run_tests "$log" "${tests[@]}"); then
        verdict="NOT CAUGHT (log: $log)"
        not_caught=$((not_caught + 1))
    else
        verdict=$failed
    fi
    [ -n "$active" ] && restore
    printf '%-11s %-60s %s\n' "${M_MOD[$i]}" "${M_WHAT[$i]}" "$verdict"
done

# Leave a kept build folder matching the restored sources.
if [ $keep = 1 ]; then build_targets "$logs/build.log" || true; fi
total=${#selected[@]}
echo "$((total - not_caught - invalid)) of $total mutations caught, $not_caught not caught$([ $invalid -gt 0 ] && echo ", $invalid invalid") ($(($(date +%s) - t_start)) s)"
if [ $invalid -gt 0 ]; then exit 2; fi
[ $not_caught -eq 0 ]
