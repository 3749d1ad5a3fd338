#!/usr/bin/env bash
# check_regression.sh: is HEAD slower, heavier or less accurate than BASE?
# Builds both from git worktrees, measures them side by side with `sttbench cost`
# and ends with `sttbench compare`'s verdict. See docs/REGRESSION.md.
set -u -o pipefail

usage() {
    cat <<'EOF'
usage: scripts/check_regression.sh [options] [BASE_REF]

BASE_REF defaults to HEAD~1 (the previous commit). BASE and HEAD are built from git
worktrees into separate build folders (one build serves both when they are the same
commit), then measured in one run by HEAD's `sttbench cost`:
  - wall time of one request on a 3 s real-speech clip, interleaved ABBA, --runs each;
  - WER per utterance on the ten testdata clips;
  - instructions per audio second (valgrind cachegrind, sttd transcribe minus a run on
    silence) and peak heap (massif): exact counts, free of a shared machine's noise.
`sttbench compare` then judges every figure. By default the verdict is gated on the
deterministic figures: instructions or heap beyond --threshold, WER worse at p < --alpha;
wall time is reported, not gated (shared machines drift by a quarter).

  --head REF         the commit to judge (HEAD; uncommitted changes are not measured)
  --runs N           wall-time repeats per side (10)
  --threshold M      margin of the exact counts and of wall time (3%)
  --alpha A          significance level (0.01)
  --gate G           deterministic (default) or all (wall time gated too)
  --plant P          plant a regression in HEAD to see it caught:
                       slowdown  HEAD runs the accurate profile, BASE balanced
                       accuracy  HEAD runs a wrong language model (testdata's turtle LM)
  --self-test        the three checks in one go: an A/A run (HEAD against itself) must
                     say no change on every figure; a planted slowdown and a planted
                     accuracy drop must each be caught. Exit 0 when all three hold.
  --out DIR          results (results/regression): base/ and head/cost.json,
                     regression.{json,md,html}; each real run appends to history.jsonl
  --work DIR         worktrees and builds (build-regress)
  --jobs N           build jobs (2)
  -h, --help         this text

A commit that costs more on purpose carries a "Regression-accepted: WHY" line in its
message: the regression is reported, and the check exits 0.

Exit status: 0 no regression, 1 regression (or a failed self-test), 2 bad usage or HEAD
does not build, 3 skipped: BASE cannot be built or measured here (for example a shallow
clone without the previous commit, or a BASE from before `sttd transcribe`).
EOF
}

die_usage() {
    echo "check_regression.sh: $*" >&2
    usage >&2
    exit 2
}
say() { echo "check_regression: $*" >&2; }
skip() {
    say "SKIPPED: $*"
    exit 3
}

BASE_REF=HEAD~1 HEAD_REF=HEAD RUNS=10 THRESHOLD=3% ALPHA=0.01 GATE=deterministic PLANT=""
SELF_TEST=0 OUT="" WORK="" JOBS=2
while [ $# -gt 0 ]; do
    case "$1" in
    --head) [ $# -ge 2 ] || die_usage "$1 needs a value"; HEAD_REF=$2; shift ;;
    --runs) [ $# -ge 2 ] || die_usage "$1 needs a value"; RUNS=$2; shift ;;
    --threshold) [ $# -ge 2 ] || die_usage "$1 needs a value"; THRESHOLD=$2; shift ;;
    --alpha) [ $# -ge 2 ] || die_usage "$1 needs a value"; ALPHA=$2; shift ;;
    --gate) [ $# -ge 2 ] || die_usage "$1 needs a value"; GATE=$2; shift ;;
    --plant) [ $# -ge 2 ] || die_usage "$1 needs a value"; PLANT=$2; shift ;;
    --self-test) SELF_TEST=1 ;;
    --out) [ $# -ge 2 ] || die_usage "$1 needs a value"; OUT=$2; shift ;;
    --work) [ $# -ge 2 ] || die_usage "$1 needs a value"; WORK=$2; shift ;;
    --jobs) [ $# -ge 2 ] || die_usage "$1 needs a value"; JOBS=$2; shift ;;
    -h | --help) usage; exit 0 ;;
    -*) die_usage "unknown option '$1'" ;;
    *) BASE_REF=$1 ;;
    esac
    shift
done
[[ $RUNS =~ ^[1-9][0-9]*$ ]] || die_usage "--runs wants a positive number"
[[ $JOBS =~ ^[1-9][0-9]*$ ]] || die_usage "--jobs wants a positive number"
case "$GATE" in deterministic | all) ;; *) die_usage "--gate is deterministic or all" ;; esac
case "$PLANT" in "" | slowdown | accuracy) ;; *) die_usage "--plant is slowdown or accuracy" ;; esac

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT" || exit 2
: "${OUT:=results/regression}"
: "${WORK:=build-regress}"
mkdir -p "$OUT" "$WORK" || exit 2
WORK=$(cd "$WORK" && pwd)
START=$(date +%s)
elapsed() { echo "$(($(date +%s) - START)) s"; }

git rev-parse --git-dir >/dev/null 2>&1 || skip "not a git checkout: no BASE to compare with"
HEAD_C=$(git rev-parse --verify -q "$HEAD_REF^{commit}") || die_usage "no commit '$HEAD_REF'"
if [ "$SELF_TEST" = 1 ]; then
    BASE_C=$HEAD_C
else
    BASE_C=$(git rev-parse --verify -q "$BASE_REF^{commit}") ||
        skip "no commit '$BASE_REF' in this clone (a shallow clone has no previous commit)"
fi
if [ -n "$(git status --porcelain --untracked-files=no 2>/dev/null)" ]; then
    say "note: uncommitted changes are not measured (HEAD is commit ${HEAD_C:0:12})"
fi
command -v valgrind >/dev/null || say "note: valgrind is missing: no instruction counts, no peak heap"

# build NAME COMMIT TARGETS...: a worktree WORK/src-NAME at COMMIT, built in WORK/build-NAME.
build() {
    local name=$1 commit=$2
    shift 2
    local src="$WORK/src-$name" bld="$WORK/build-$name"
    if [ -e "$src/.git" ]; then
        git -C "$src" checkout -q --detach "$commit" 2>/dev/null ||
            { git worktree remove --force "$src" >/dev/null 2>&1; rm -rf "$src"; }
    fi
    if [ ! -e "$src/.git" ]; then
        # -f: a worktree folder deleted by hand is still registered
        git worktree add -f -q --detach "$src" "$commit" >/dev/null 2>&1 || return 1
    fi
    say "building ${commit:0:12} in $bld ($*)"
    cmake -S "$src" -B "$bld" -DCMAKE_BUILD_TYPE=RelWithDebInfo >"$bld.log" 2>&1 &&
        cmake --build "$bld" -j"$JOBS" --target "$@" >>"$bld.log" 2>&1
}

build head "$HEAD_C" sttd sttbench || { say "HEAD does not build (see $WORK/build-head.log)"; exit 2; }
HEAD_STTD=$WORK/build-head/sttd
STTBENCH=$WORK/build-head/sttbench
if [ "$BASE_C" = "$HEAD_C" ]; then
    say "BASE and HEAD are the same commit: one build serves both sides"
    BASE_STTD=$HEAD_STTD
else
    build base "$BASE_C" sttd || skip "BASE ${BASE_C:0:12} does not build here (see $WORK/build-base.log)"
    BASE_STTD=$WORK/build-base/sttd
fi
say "built in $(elapsed)"
# The measuring tool is HEAD's; BASE needs only an sttd that serves and transcribes.
"$BASE_STTD" transcribe --help >/dev/null 2>&1 && "$BASE_STTD" --help 2>/dev/null | grep -q -- --profiles ||
    skip "BASE ${BASE_C:0:12}'s sttd lacks 'transcribe' or --profiles: it cannot be measured by this tool"

# A language model from another domain: every LibriVox sentence comes out wrong.
planted_model() {
    local dir="$WORK/planted-model" model=/usr/share/pocketsphinx/model/en-us
    local lm=/usr/share/pocketsphinx/test/data/turtle.lm.bin
    [ -f "$lm" ] && [ -d "$model/en-us" ] || return 1
    mkdir -p "$dir" && ln -sfn "$model/en-us" "$dir/en-us" &&
        ln -sf "$model/cmudict-en-us.dict" "$dir/cmudict-en-us.dict" && ln -sf "$lm" "$dir/en-us.lm.bin" &&
        echo "$dir"
}

# measure OUT PLANT: sttbench cost then sttbench compare; prints compare's verdict.
# Returns compare's status (0, 1, 2).
measure() {
    local out=$1 plant=$2 history=$3
    local -a cost=(--base "$BASE_STTD" --head "$HEAD_STTD" --base-commit "$BASE_C"
        --head-commit "$HEAD_C" --runs "$RUNS" --out "$out")
    local -a cmp=(--threshold "$THRESHOLD" --alpha "$ALPHA" --gate "$GATE" --out "$out")
    case "$plant" in
    slowdown) cost+=(--head-profile accurate) ;;
    accuracy)
        local m
        m=$(planted_model) || { say "cannot plant the accuracy drop: turtle.lm.bin or the model is missing"; return 2; }
        cost+=(--head-model-dir "$m") ;;
    esac
    # a planted regression is a different configuration by design
    [ -n "$plant" ] && cmp+=(--allow-different-machines)
    [ -n "$history" ] && cmp+=(--history "$history")
    say "measuring${plant:+ (planted: $plant)}: base ${BASE_C:0:12}, head ${HEAD_C:0:12}, $RUNS runs each"
    "$STTBENCH" cost "${cost[@]}" >&2 || { say "the measurement failed"; return 2; }
    "$STTBENCH" compare "${cmp[@]}" "$out/base/cost.json" "$out/head/cost.json"
}

# verdict_of OUT: "NAME VERDICT gated|reported" for every figure of OUT/regression.json.
verdict_of() {
    jq -r '(.changes + .accuracy_changes)[] |
        "\(.name) \(.verdict) \(if .gated then "gated" else "reported" end)"' \
        "$1/regression.json" 2>/dev/null
}

if [ "$SELF_TEST" = 1 ]; then
    fail=0
    measure "$OUT/self-test/aa" "" ""
    rc=$?
    changed=$(verdict_of "$OUT/self-test/aa" | awk '$2 != "~"')
    if [ $rc -eq 0 ] && [ -z "$changed" ]; then
        say "A/A: PASS (no change on every figure)"
    else
        say "A/A: FAIL (exit $rc; changed: ${changed:-none})"
        fail=1
    fi
    for plant in slowdown accuracy; do
        measure "$OUT/self-test/$plant" "$plant" ""
        rc=$?
        want=$([ $plant = slowdown ] && echo instructions_per_audio_s || echo wer/testdata)
        if [ $rc -eq 1 ] && verdict_of "$OUT/self-test/$plant" | grep -q "^$want worse"; then
            say "planted $plant: PASS (caught: $want worse)"
        else
            say "planted $plant: FAIL (exit $rc; $want not found worse)"
            fail=1
        fi
    done
    say "self-test $([ $fail = 0 ] && echo passed || echo FAILED) in $(elapsed)"
    exit $fail
fi

measure "$OUT" "$PLANT" "$([ -z "$PLANT" ] && echo "$OUT/history.jsonl")"
rc=$?
covers=$(jq -r '.instructions.covers // empty' "$OUT/head/cost.json" 2>/dev/null)
[ -n "$covers" ] && say "instructions_per_audio_s counts: $covers"
if [ "$GATE" = deterministic ]; then
    wall=$(verdict_of "$OUT" | awk '$1 ~ /^wall_s/ {print $2}')
    say "gated on instructions and heap beyond $THRESHOLD and WER worse at p < $ALPHA;" \
        "wall time ${wall:-not measured} (reported, not gated: shared CI machines are noisy)"
fi
# A change that costs more on purpose says so in its commit message, with a
# "Regression-accepted: WHY" trailer: the verdict still says REGRESSION, and
# the history keeps it, but the check passes (the accepted cost is the new base).
accepted=""
if [ $rc -eq 1 ] && [ -z "$PLANT" ]; then
    accepted=$(git -C "$ROOT" log -1 --format=%B "$HEAD_C" 2>/dev/null |
        sed -n 's/^Regression-accepted:[[:space:]]*//p' | head -n 1)
fi
case $rc in
0) say "verdict: no regression ($(elapsed))" ;;
1) say "verdict: REGRESSION ($(elapsed)); see $OUT/regression.md" ;;
*) say "verdict: not comparable ($(elapsed))" ;;
esac
if [ -n "$accepted" ]; then
    say "accepted by the commit message of $HEAD_C (Regression-accepted: $accepted): not failing"
    exit 0
fi
exit $rc
