#!/usr/bin/env bash
# run_all_tests.sh: build, run every CTest test, measure coverage of lib/ and write
# test_reports/{test_results.json,test_report.html,junit.xml}. See docs/TESTING.md.
# Exit status: 0 all good; 1 a test failed, a rule was broken, coverage is below the
# threshold or a deeper pass failed; 2 bad usage or the build failed.
set -u -o pipefail

usage() {
    cat <<'EOF'
usage: scripts/run_all_tests.sh [options]

Builds the project, runs every CTest test, measures line and branch coverage of
lib/ and writes test_reports/test_results.json, test_report.html and junit.xml.
The last line printed is "N passed, N failed" (", N skipped" when some were).

  --build-dir DIR     build folder (build-cov; build-asan with --sanitize)
  --no-coverage       build without coverage and skip the coverage threshold
  --sanitize          AddressSanitizer + UBSan build (implies --no-coverage);
                      reports go to test_reports/sanitize/
  --valgrind          also run the tests labelled 'valgrind' under valgrind memcheck
  --fuzz SECONDS      also build the libFuzzer targets with clang-14 (build-fuzz) and
                      run each for SECONDS on its seeds; a crash fails the run
  --min-coverage PCT  line coverage threshold for lib/ (80)
  --label L           run only the tests with CTest label L (ctest -L L)
  --stability [N]     then run the fast subset (tests not labelled slow) N more
                      times (3) and report every case whose outcome changed
                      (flaky: fails the run) or whose time varied over 3x
  --jobs N            parallel build and test jobs (number of CPUs)
  --out DIR           report folder (test_reports)
  -h, --help          this text
EOF
}

die_usage() {
    echo "run_all_tests.sh: $*" >&2
    usage >&2
    exit 2
}

BUILD_DIR="" COVERAGE=1 SANITIZE=0 VALGRIND=0 FUZZ=0 MIN_COV=80 LABEL="" OUT="" STABILITY=0
JOBS=$(nproc 2>/dev/null || echo 2)
MAX_TEST_SECONDS=10 SLOW_SECONDS=5

while [ $# -gt 0 ]; do
    case "$1" in
    --build-dir) [ $# -ge 2 ] || die_usage "$1 needs a value"; BUILD_DIR=$2; shift ;;
    --no-coverage) COVERAGE=0 ;;
    --sanitize) SANITIZE=1 ;;
    --valgrind) VALGRIND=1 ;;
    --fuzz) [ $# -ge 2 ] || die_usage "$1 needs a value"; FUZZ=$2; shift ;;
    --min-coverage) [ $# -ge 2 ] || die_usage "$1 needs a value"; MIN_COV=$2; shift ;;
    --label) [ $# -ge 2 ] || die_usage "$1 needs a value"; LABEL=$2; shift ;;
    --stability)
        STABILITY=3
        if [[ ${2:-} =~ ^[0-9]+$ ]]; then STABILITY=$2; shift; fi ;;
    --jobs) [ $# -ge 2 ] || die_usage "$1 needs a value"; JOBS=$2; shift ;;
    --out) [ $# -ge 2 ] || die_usage "$1 needs a value"; OUT=$2; shift ;;
    -h | --help) usage; exit 0 ;;
    *) die_usage "unknown option '$1'" ;;
    esac
    shift
done
[[ $FUZZ =~ ^[0-9]+$ ]] || die_usage "--fuzz wants whole seconds"
[[ $STABILITY =~ ^[0-9]+$ ]] || die_usage "--stability wants a number of runs"
[[ $JOBS =~ ^[1-9][0-9]*$ ]] || die_usage "--jobs wants a positive number"
[[ $MIN_COV =~ ^[0-9]+([.][0-9]+)?$ ]] || die_usage "--min-coverage wants a percentage"

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT" || exit 2
# Everything the tests need comes from Debian; silent when all is installed.
scripts/setup.sh || exit 2

if [ "$SANITIZE" = 1 ]; then
    COVERAGE=0
    : "${BUILD_DIR:=build-asan}"
    : "${OUT:=test_reports/sanitize}"
    MODE=sanitize
    if [ "$VALGRIND" = 1 ]; then
        die_usage "--valgrind cannot run an ASan build; run it in a separate, plain run"
    fi
else
    : "${BUILD_DIR:=build-cov}"
    : "${OUT:=test_reports}"
    MODE=$([ "$COVERAGE" = 1 ] && echo coverage || echo plain)
fi
mkdir -p "$BUILD_DIR" "$OUT" || exit 2
BUILD=$(cd "$BUILD_DIR" && pwd)
OUT=$(cd "$OUT" && pwd)

t_now() { echo "$EPOCHREALTIME"; }
t_since() { awk -v a="$1" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.1f", b - a }'; }
say() { echo "== $*"; }

# Runs a command with its output appended to a log; on failure shows the log's tail.
quiet() {
    local log=$1
    shift
    echo "\$ $*" >>"$log"
    if ! "$@" >>"$log" 2>&1; then
        echo "run_all_tests.sh: failed: $*" >&2
        echo "---- last lines of $log ----" >&2
        tail -n 40 "$log" >&2
        return 1
    fi
}

REPORT_ARGS=()
CHECK_ARGS=()

# ---- 1. build ------------------------------------------------------------------------------
say "build ($MODE) in $BUILD_DIR"
t0=$(t_now)
LOG=$BUILD/build.log
: >"$LOG"
CMAKE_ARGS=(-S . -B "$BUILD" -DCMAKE_BUILD_TYPE=Debug)
if [ "$SANITIZE" = 1 ]; then
    CMAKE_ARGS+=(-DSTT_SANITIZE=ON -DSTT_COVERAGE=OFF)
else
    CMAKE_ARGS+=(-DSTT_SANITIZE=OFF -DSTT_COVERAGE=$([ "$COVERAGE" = 1 ] && echo ON || echo OFF))
    # Threads racing on plain counters leave negative counts that gcovr cannot parse.
    [ "$COVERAGE" = 1 ] && CMAKE_ARGS+=(-DCMAKE_C_FLAGS=-fprofile-update=atomic)
fi
if [ "$VALGRIND" = 1 ]; then
    command -v valgrind >/dev/null || { echo "run_all_tests.sh: valgrind not installed" >&2; exit 2; }
    CMAKE_ARGS+=("-DMEMORYCHECK_COMMAND=$(command -v valgrind)"
        "-DMEMORYCHECK_COMMAND_OPTIONS=--error-exitcode=99 --leak-check=full --errors-for-leak-kinds=definite --track-origins=yes")
fi
if ! quiet "$LOG" cmake "${CMAKE_ARGS[@]}" || ! quiet "$LOG" cmake --build "$BUILD" -j "$JOBS"; then
    echo "build failed (full log: $LOG)"
    exit 2
fi
T_BUILD=$(t_since "$t0")
say "built in $T_BUILD s"

# ---- 2. tests ------------------------------------------------------------------------------
CTEST_FILTER=()
[ -n "$LABEL" ] && CTEST_FILTER=(-L "$LABEL")
JUNIT=$BUILD/junit-ctest.xml
TESTLIST=$BUILD/ctest-tests.json
# testlib records every case (name, status, time, failed checks) here.
CASES=$BUILD/test-cases
rm -rf "$JUNIT" "$CASES"
mkdir -p "$CASES"
# Counters from an earlier run would add up with this one's.
[ "$COVERAGE" = 1 ] && find "$BUILD" -name '*.gcda' -delete
ctest --test-dir "$BUILD" "${CTEST_FILTER[@]}" --show-only=json-v1 >"$TESTLIST" 2>>"$LOG"
say "tests (-j $JOBS${LABEL:+, label $LABEL})"
t0=$(t_now)
STT_TEST_CASES_DIR=$CASES ctest --test-dir "$BUILD" "${CTEST_FILTER[@]}" --output-junit "$JUNIT" \
    --output-on-failure -j "$JOBS" 2>&1 | tee "$BUILD/ctest.log" | grep -E '^ *[0-9]+/[0-9]+ Test|tests passed|^[^ ].*(Failed|Timeout)' || true
T_TESTS=$(t_since "$t0")
if [ ! -s "$JUNIT" ]; then
    echo "run_all_tests.sh: ctest wrote no $JUNIT; see $BUILD/ctest.log" >&2
    tail -n 40 "$BUILD/ctest.log" >&2
    exit 2
fi
REPORT_ARGS+=(--phase "build=$T_BUILD" --phase "tests=$T_TESTS")

# ---- 3. coverage ---------------------------------------------------------------------------
if [ "$COVERAGE" = 1 ]; then
    say "coverage of lib/"
    t0=$(t_now)
    mkdir -p "$OUT/coverage"
    rm -f "$OUT"/coverage/*.html "$OUT"/coverage/*.css
    # No -j: gcovr 5.2's worker threads hang when one of them meets an error.
    if quiet "$LOG" gcovr -r "$ROOT" "$BUILD" --filter "$ROOT/lib/" --gcov-ignore-parse-errors \
        --json "$BUILD/coverage.json" --html-details "$OUT/coverage/index.html" \
        --txt "$OUT/coverage/coverage.txt"; then
        REPORT_ARGS+=(--coverage "$BUILD/coverage.json" --min-coverage "$MIN_COV")
    else
        CHECK_ARGS+=(--check "coverage=fail:gcovr failed, see $LOG")
    fi
    REPORT_ARGS+=(--phase "coverage=$(t_since "$t0")")
fi

# ---- 3b. stability: the fast subset again, N times ----------------------------------------
if [ "$STABILITY" -gt 0 ]; then
    say "stability: the fast subset (not labelled slow) $STABILITY more times"
    t0=$(t_now)
    rm -rf "$BUILD/stability"
    for k in $(seq 1 "$STABILITY"); do
        run=$BUILD/stability/run-$k
        mkdir -p "$run/cases"
        STT_TEST_CASES_DIR=$run/cases ctest --test-dir "$BUILD" "${CTEST_FILTER[@]}" -LE slow \
            --output-junit "$run/junit.xml" -j "$JOBS" >"$run/ctest.log" 2>&1 || true
        if [ -s "$run/junit.xml" ]; then
            REPORT_ARGS+=(--stability-run "$run")
            echo "   run $k: $(grep -E 'tests passed' "$run/ctest.log" | tail -n 1)"
        else
            CHECK_ARGS+=(--check "stability=fail:run $k wrote no JUnit, see $run/ctest.log")
        fi
    done
    REPORT_ARGS+=(--phase "stability=$(t_since "$t0")")
fi

# ---- 4. valgrind ---------------------------------------------------------------------------
if [ "$VALGRIND" = 1 ]; then
    say "valgrind memcheck on tests labelled 'valgrind'"
    t0=$(t_now)
    VLOG=$BUILD/valgrind.log
    ctest --test-dir "$BUILD" -T memcheck -L valgrind --output-on-failure -j "$JOBS" >"$VLOG" 2>&1
    vrc=$?
    summary=$(grep -E 'tests passed|No tests were found' "$VLOG" | tail -n 1)
    defects=$(grep -E '^Memory checking results:' -A 20 "$VLOG" | grep -E ' - [0-9]+' | tr '\n' ' ')
    if [ $vrc -eq 0 ]; then
        CHECK_ARGS+=(--check "valgrind=pass:${summary:-no tests labelled valgrind}")
    else
        CHECK_ARGS+=(--check "valgrind=fail:${summary} ${defects}(logs: $BUILD/Testing/Temporary/MemoryChecker.*.log)")
        grep -E 'Defects:|Memory checking results' -A 5 "$VLOG" | head -n 30
    fi
    REPORT_ARGS+=(--phase "valgrind=$(t_since "$t0")")
fi

# ---- 5. fuzz -------------------------------------------------------------------------------
if [ "$FUZZ" -gt 0 ]; then
    t0=$(t_now)
    mapfile -t FUZZERS < <(ls tests/fuzz/fuzz_*.c 2>/dev/null | xargs -r -n1 basename | sed 's/\.c$//')
    if ! command -v clang-14 >/dev/null; then
        echo "run_all_tests.sh: clang-14 not found; fuzzing skipped" >&2
        CHECK_ARGS+=(--check "fuzz=pass:skipped, clang-14 not installed")
    elif [ ${#FUZZERS[@]} -eq 0 ]; then
        CHECK_ARGS+=(--check "fuzz=pass:no fuzz targets in tests/fuzz")
    else
        say "fuzz ${#FUZZERS[@]} targets, $FUZZ s each, $JOBS at a time"
        FB=$ROOT/build-fuzz
        FLOG=$FB/build.log
        mkdir -p "$FB"
        : >"$FLOG"
        # The whole library is instrumented so that libFuzzer sees coverage inside lib/,
        # and built with ASan+UBSan so that memory errors crash instead of passing.
        if ! quiet "$FLOG" cmake -S . -B "$FB" -DCMAKE_BUILD_TYPE=Debug -DSTT_FUZZ=ON \
            -DCMAKE_C_COMPILER=clang-14 -DSTT_SANITIZE=ON -DSTT_COVERAGE=OFF \
            -DCMAKE_C_FLAGS=-fsanitize=fuzzer-no-link ||
            ! quiet "$FLOG" cmake --build "$FB" -j "$JOBS" --target "${FUZZERS[@]}"; then
            CHECK_ARGS+=(--check "fuzz=fail:fuzz build failed, see $FLOG")
        else
            crashed=()
            run_one() {
                local name=$1 bin
                bin=$(find "$FB" -type f -name "$name" -perm -u+x | head -n 1)
                mkdir -p "$FB/corpus/$name" "$FB/artifacts"
                # New inputs go to the build tree's corpus; the seed folder is only read.
                "$bin" -max_total_time="$FUZZ" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
                    -artifact_prefix="$FB/artifacts/$name-" "$FB/corpus/$name" \
                    "tests/fuzz/seeds/$name" >"$FB/$name.log" 2>&1
            }
            declare -A pids=()
            for name in "${FUZZERS[@]}"; do
                while [ "$(jobs -rp | wc -l)" -ge "$JOBS" ]; do wait -n; done
                run_one "$name" &
                pids[$name]=$!
            done
            for name in "${FUZZERS[@]}"; do
                if ! wait "${pids[$name]}"; then
                    crashed+=("$name")
                    echo "fuzz: $name crashed; log $FB/$name.log" >&2
                    grep -E 'ERROR|SUMMARY|Test unit written' "$FB/$name.log" | head -n 5 >&2
                fi
            done
            if [ ${#crashed[@]} -eq 0 ]; then
                CHECK_ARGS+=(--check "fuzz=pass:${#FUZZERS[@]} targets x ${FUZZ} s, no crash")
            else
                CHECK_ARGS+=(--check "fuzz=fail:crashed: ${crashed[*]} (inputs in $FB/artifacts)")
            fi
        fi
    fi
    REPORT_ARGS+=(--phase "fuzz=$(t_since "$t0")")
fi

# ---- 6. report -----------------------------------------------------------------------------
say "report in ${OUT#"$ROOT"/}"
# Sanitizers make every test two to three times slower: the time rule (a test over
# MAX_TEST_SECONDS must be labelled slow) is judged on the unsanitized build, and a
# sanitized run allows three times as long.
if [ "$SANITIZE" = 1 ]; then
    MAX_TEST_SECONDS=$((MAX_TEST_SECONDS * 3)) SLOW_SECONDS=$((SLOW_SECONDS * 3))
fi
if [ ! -x "$BUILD/sttbench" ]; then
    echo "run_all_tests.sh: $BUILD/sttbench was not built" >&2
    exit 2
fi
"$BUILD/sttbench" tests --junit "$JUNIT" --cases "$CASES" --ctest-json "$TESTLIST" --out "$OUT" \
    --history "$OUT/history" --max-test-seconds "$MAX_TEST_SECONDS" --slow-seconds "$SLOW_SECONDS" \
    --config "mode=$MODE" --config "build_dir=${BUILD#"$ROOT"/}" --config "jobs=$JOBS" \
    --config "label_filter=${LABEL:-all}" "${REPORT_ARGS[@]}" "${CHECK_ARGS[@]}"
exit $?
