#!/usr/bin/env bash
# check_tests_catch_breakage.sh: do the tests notice when a module is broken?
# Breaks modules of lib/ one at a time (one mutation each; the list below says
# which), in a copy of the tree, and runs the test that should notice. See docs/TESTING.md ("Do the tests catch breakage?").
# Exit status: 0 every mutation was caught; 1 at least one was not caught;
# 2 bad usage, a failed build, a baseline test that fails unmutated, or a
# mutation that no longer applies to the source.
set -u -o pipefail

usage() {
    cat <<'EOF'
usage: scripts/check_tests_catch_breakage.sh [options]

Copies CMakeLists.txt, lib/, src/, tests/, docs/ and deploy/ into a work folder
(test_committed_report regenerates docs/ and deploy/ there), builds the
test programs there, checks that they pass, then applies one small, realistic
mutation in each listed module of lib/ (not yet every module; a flipped comparison, a dropped step, an
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

# lib/base
mut api lib/base/api.c test_api "the profile list forgets accurate" \
    's#return "fast, balanced, accurate";#return "fast, balanced";#'
mut clock lib/base/clock.c test_clock "UTC stamps lose their Z" \
    's#"%Y-%m-%dT%H:%M:%SZ"#"%Y-%m-%dT%H:%M:%S"#'
mut cpus lib/base/cpus.c test_cpus "CPU lists never collapse into ranges" \
    's#while (j + 1 < n \&\& cpu\[j + 1\] == cpu\[j\] + 1)#while (j + 1 < n \&\& cpu[j + 1] == cpu[j])#'
mut error lib/base/error.c test_error "an unknown code answers 400, not 500" \
    's#return r ? r->status : 500;#return r ? r->status : 400;#'
mut parse lib/base/parse.c test_parse "integers above the range are accepted" \
    's#if (end == s || end != stop || errno || x < lo || x > hi) return STT_EINVAL;#if (end == s || end != stop || errno || x < lo) return STT_EINVAL;#'
# lib/svc
mut audio lib/svc/audio.c test_audio "mixdown sums the channels instead of averaging" \
    's#mono\[i\] = sum / (float)ch;#mono[i] = sum;#'
mut vad lib/svc/vad.c test_vad "a pause of exactly min_pause_s is bridged (< became <=)" \
    's#a - segs\[n_segs - 1\].end < min_pause_f#a - segs[n_segs - 1].end <= min_pause_f#'
mut engine lib/svc/engine.c test_engine "an unknown profile reaches the engine" \
    's#if (stt_profile_index(profile) < 0) {#if (stt_profile_index(profile) < -1000) {#'
mut engine_pocketsphinx lib/svc/engine_pocketsphinx.c test_pool "no ps_start_stream(): channel state leaks between pieces" \
    's#if (ps_start_stream(e->ps) < 0 || ps_start_utt(e->ps) < 0)#if (ps_start_utt(e->ps) < 0)#'
mut ipc lib/svc/ipc.c test_ipc "a message cut short by a small buffer is taken as whole" \
    's#if (mh.msg_flags \& (MSG_TRUNC | MSG_CTRUNC)) {#if (mh.msg_flags \& MSG_CTRUNC) {#'
mut worker lib/svc/worker.c test_pool "piece offset read as bytes, not samples" \
    's#size_t start = (size_t)job.offset \* sizeof(int16_t);#size_t start = (size_t)job.offset;#'
mut zygote lib/svc/zygote.c test_pool "profiles loaded by the first bit of the mask only" \
    's#if (!(mask \& (1u << i))) continue;#if (!(mask \& 1u)) continue;#'
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
# lib/lab
mut audiobench lib/lab/audiobench.c test_audiobench "X-Pieces is not recorded" \
    's#r->pieces\[k\] = rep.pieces;#r->pieces[k] = 0;#'
mut audiobench_fit lib/lab/audiobench_fit.c test_audiobench "a negative fixed cost is kept (no constraint)" \
    's#} else if (c0 < 0) {#} else if (c0 < -1e9) {#'
mut audiobench_output lib/lab/audiobench_output.c test_audiobench "a skip reason swapped in audio.json" \
    's#"why", s->why == STT_AUDIOBENCH_TOO_LONG ? "max_duration" : "quick",#"why", s->why == STT_AUDIOBENCH_TOO_LONG ? "quick" : "max_duration",#'
mut audiobench_plan lib/lab/audiobench_plan.c test_audiobench "--quick keeps files of any length" \
    's#if (p->quick \&\& (!ab_reference_format(e) || e->duration_s > p->quick_max_s))#if (p->quick \&\& !ab_reference_format(e))#'
mut chart lib/lab/chart.c test_chart "a failed gnuplot run counts as drawn" \
    's#if (run(dir, script, log, NULL) == 0) return 0;#if (run(dir, script, log, NULL) != 0) return 0;#'
mut client lib/lab/client.c test_client "X-Pieces read as 1 whatever it says" \
    's#if (!strcasecmp(line, STT_HDR_PIECES)) r->pieces = (int)v;#if (!strcasecmp(line, STT_HDR_PIECES)) r->pieces = 1;#'
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
mut mix lib/lab/mix.c test_mix "a PATH WEIGHT line's weight is ignored" \
    's#w > 0 ? w : 1);#w > 0 ? 1 : w);#'
mut sut lib/lab/sut.c test_sut "stop kills at once instead of asking with SIGTERM" \
    's#    kill(s->pid, SIGTERM);#    kill(s->pid, SIGKILL);#'
mut proc lib/lab/proc.c test_proc "process CPU time leaves out system time" \
    's#\*s = (double)(t\[0\] + t\[1\]) / (double)sysconf#*s = (double)t[0] / (double)sysconf#'
mut fit lib/lab/fit.c test_fit "USL peak uses 1 + sigma instead of 1 - sigma" \
    's#out->peak_n = sqrt((1.0 - out->sigma) / out->kappa);#out->peak_n = sqrt((1.0 + out->sigma) / out->kappa);#'
mut queueing lib/lab/queueing.c test_queueing "Allen-Cunneen factor without the /2" \
    's#\* (p->ca2 + r->cs2) / 2.0;#* (p->ca2 + r->cs2);#'
mut results lib/lab/results.c test_results "measured numbers rounded to 3 decimals, not 6" \
    's#return isfinite(v) ? json_real(round(v \* 1e6) / 1e6) : json_null();#return isfinite(v) ? json_real(round(v * 1e3) / 1e3) : json_null();#'
mut servicebench lib/lab/servicebench.c test_servicebench "higher-is-better targets judged as lower-is-better" \
    's#int good = higher_is_better ? side == STT_ABOVE : side == STT_BELOW;#int good = side == STT_BELOW;#'
mut servicebench_parts lib/lab/servicebench_parts.c test_servicebench "overhead ratio inverted (sttraw over sttd)" \
    's#sb_add(\&ratio, r / d);#sb_add(\&ratio, d / r);#'
mut servicebench_raw lib/lab/servicebench_raw.c test_servicebench "sttraw's audio seconds read as 0" \
    's#\*audio_s = strtod(end, \&end);#*audio_s = 0 * strtod(end, \&end);#'
mut stats lib/lab/stats.c test_stats "p99 reported from 99 samples (the n rule off by one)" \
    's#return (double)n + 1e-9 >= 1.0 / (1.0 - pct / 100.0);#return (double)n + 1.0 >= 1.0 / (1.0 - pct / 100.0);#'
mut sysinfo lib/lab/sysinfo.c test_sysinfo "usable CPUs above the allowed ones" \
    's#out->cpus_usable = stt_usable_cpus();#out->cpus_usable = n_allowed + 1;#'
mut html lib/lab/html.c test_testreport "double quote not escaped" \
    's#fputs("\&quot;", f);#fputc(*s, f);#'
mut decide lib/lab/report/decide.c test_report "termination grace without its +50% margin" \
    's#(int)ceil(worst \* 1.5) + 10#(int)ceil(worst) + 10#'
mut doc lib/lab/report/doc.c test_report "cited numbers with 3 significant digits, not 4" \
    's#snprintf(b, n, "%.4g", v);#snprintf(b, n, "%.3g", v);#'
mut document lib/lab/report/document.c test_committed_report "the service section is left out" \
    's#    rpt_sec_service(d, r);#    (void)r;#'
mut k8s lib/lab/report/k8s.c test_committed_report "memory request in 10^6 bytes, not MiB" \
    's#int mem_mi = isfinite(mem) ? (int)ceil(mem / 1048576.0) : 1024;#int mem_mi = isfinite(mem) ? (int)ceil(mem / 1000000.0) : 1024;#'
mut plan lib/lab/report/plan.c test_report_plan "a plan takes pods that miss the objective" \
    's#if (mr.stable \&\& mr.t_q <= slo) {#if (mr.stable) {#'
mut report lib/lab/report/report.c test_report "reals read as missing (integers only)" \
    's#return json_is_number(j) ? json_number_value(j) : NAN;#return json_is_integer(j) ? json_number_value(j) : NAN;#'
mut sec_audio lib/lab/report/sec_audio.c test_report_sections "a skip reason counted from the wrong first file" \
    's#            if (k < i) first = 0;#            if (k > i) first = 0;#'
mut sec_cpu lib/lab/report/sec_cpu.c test_committed_report "the CPU verdict read from a field that is not there" \
    's#rpt_jstr_at(cpu, "verdict.answer") ?: "none"#rpt_jstr_at(cpu, "verdict.answerx") ?: "none"#'
mut sec_load lib/lab/report/sec_load.c test_report "the model validation heading lost" \
    's#rpt_h(d, 2, "Queueing model against measured load");#rpt_h(d, 2, "Queueing model");#'
mut sec_replicas lib/lab/report/sec_replicas.c test_report "the replicas heading lost" \
    's#rpt_h(d, 2, "Horizontal scaling measured: replicas behind a load balancer");#rpt_h(d, 2, "Replicas");#'
mut sec_service lib/lab/report/sec_service.c test_report_sections "what would settle a verdict is not said" \
    's#settle ? ": needs " : ""#settle ? ": " : ""#'
mut sec_tests lib/lab/report/sec_tests.c test_report_sections "case count cites the passed cases" \
    's#rpt_trow(d, 0, "test cases|%s", rpt_cite(d, t, "", "case_totals.cases"));#rpt_trow(d, 0, "test cases|%s", rpt_cite(d, t, "", "case_totals.passed"));#'
mut strategy lib/lab/report/strategy.c test_committed_report "the pod shape left out of the strategy" \
    's#    if (dc.best_cores > 0)#    if (dc.best_cores > 1000)#'
mut summary lib/lab/report/summary.c test_report "never tested and stable" \
    's#dc->tested_stable ? "Yes" : "No"#dc->tested_stable ? "No" : "No"#'
mut testreport lib/lab/testreport/testreport.c test_testreport "violation threshold is slow_seconds, not max_test_seconds" \
    's#t->v.seconds > p->max_test_seconds \&\&#t->v.seconds > p->slow_seconds \&\&#'
mut tr_coverage lib/lab/testreport/coverage.c test_testreport "a line run 0 times counts as covered" \
    's#if (json_integer_value(json_object_get(jl, "count")) > 0) f->lines_covered++;#if (json_integer_value(json_object_get(jl, "count")) >= 0) f->lines_covered++;#'
mut tr_ctest lib/lab/testreport/ctest.c test_testreport "a case that never ended passes" \
    's#        if (!c->ended) {#        if (!c->ended \&\& 0) {#'
mut tr_history lib/lab/testreport/history.c test_testreport "fixed means passed before, not failed before" \
    's#if (status == STT_TEST_PASSED \&\& prev_failed) return STT_TEST_FIXED;#if (status == STT_TEST_PASSED \&\& !prev_failed) return STT_TEST_FIXED;#'
mut tr_html lib/lab/testreport/html.c test_testreport "the case count lost its id in the HTML" \
    's#id=\\"cases-total\\"#id=\\"cases\\"#'
mut tr_job lib/lab/testreport/job.c test_testreport "a --phase that is not a number is taken" \
    's#if (!v || end == v || \*end || !isfinite(s) || s < 0)#if (!v)#'
mut tr_json lib/lab/testreport/json.c test_testreport "flaky cases listed as time-varying ones" \
    's#json_array_append_new(v->flaky ? flaky : varies, e);#json_array_append_new(varies, e);#'
mut tr_junit lib/lab/testreport/junit.c test_testreport "a suite's failures leave out its time-limit case" \
    's#suite_counts c = {p->ncases + (size_t)p->v.violation, (size_t)p->v.violation, 0};#suite_counts c = {p->ncases + (size_t)p->v.violation, 0, 0};#'
mut tr_stability lib/lab/testreport/stability.c test_testreport "no case is ever flaky" \
    's#if (e->status\[k\] != e->status\[0\]) v->flaky = 1;#if (e->status[k] != e->status[0]) v->flaky = 0;#'

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
        printf '%-19s %-36s %-21s %s\n' "${M_MOD[$i]}" "${M_FILE[$i]}" "${M_TESTS[$i]}" "${M_WHAT[$i]}"
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
    # docs/ and deploy/ too: test_committed_report regenerates them from docs/results.
    find CMakeLists.txt lib src tests docs deploy -type f ! -name '*.o' | sort >"$work/files.new"
    while read -r f; do
        if ! cmp -s "$f" "$src/$f"; then
            mkdir -p "$src/$(dirname "$f")" && cp "$f" "$src/$f" || exit 2
        fi
    done <"$work/files.new"
    # Files removed from the tree go from the copy too.
    (cd "$src" && find CMakeLists.txt lib src tests docs deploy -type f | sort) | comm -13 "$work/files.new" - |
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
    # On a shared machine a timing-bound test can fail from contention: the
    # failed ones get one more run before the baseline is declared broken.
    again=()
    for t in $failed; do [[ $t == test_* ]] && again+=("$t"); done
    if [ ${#again[@]} -eq 0 ] || ! failed=$(run_tests "$logs/baseline-again.log" "${again[@]}"); then
        echo "baseline fails before any mutation: $failed (log: $logs/baseline.log)" >&2
        exit 2
    fi
    echo "baseline: ${again[*]} failed once and passed again (contention?); going on" >&2
fi

printf '%-19s %-60s %s\n' module "what was broken" "caught by"
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
    printf '%-19s %-60s %s\n' "${M_MOD[$i]}" "${M_WHAT[$i]}" "$verdict"
done

# Leave a kept build folder matching the restored sources.
if [ $keep = 1 ]; then build_targets "$logs/build.log" || true; fi
total=${#selected[@]}
echo "$((total - not_caught - invalid)) of $total mutations caught, $not_caught not caught$([ $invalid -gt 0 ] && echo ", $invalid invalid") ($(($(date +%s) - t_start)) s)"
if [ $invalid -gt 0 ]; then exit 2; fi
[ $not_caught -eq 0 ]
