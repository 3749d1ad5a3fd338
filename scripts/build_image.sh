#!/usr/bin/env bash
# Builds the sttd container image from deploy/Dockerfile with buildah, with no
# image registry: the debian:12 base is made locally with mmdebstrap from
# Debian's archive and imported as localhost/debian:12. With --check, then
# runs the image and proves it serves (scripts/check_image.sh does the same).
# Idempotent: packages are installed only when missing, the base tarball and
# image are reused, and unchanged build steps come from buildah's layer cache.
# docs/DEPLOY.md, "The container image", explains each step.
set -euo pipefail

usage() {
  cat <<'EOF'
usage: scripts/build_image.sh [OPTIONS]          (as root)

Builds deploy/Dockerfile into the image sttlab/sttd:VERSION (VERSION from
CMakeLists.txt) with `buildah bud --isolation chroot`, on a debian:12 base made
here by mmdebstrap (no registry needed). Prints the image id, size and times.

options:
  --check           then run the image and check that it serves (see below)
  --check-only      check the image already built; build nothing
  --tag NAME        image name (default sttlab/sttd:VERSION)
  --work-dir DIR    base tarball, logs and container storage
                    (default $STT_IMAGE_DIR, else /var/tmp/sttlab-image)
  --refresh-base    make the base again (today's bookworm and its security updates)
  --no-cache        rebuild every step (default: reuse unchanged steps)
  --save FILE       also write the image as a docker-archive tarball
                    (docker load, kind load image-archive, ctr images import)
  --clean           remove the work dir's containers, images and base, then exit
  --help

The check: `buildah from` + `buildah run --isolation chroot` with the host's
network, sttd on a free loopback port; waits for /ready; transcribes the five
LibriVox clips of pocketsphinx-testdata over HTTP with curl from the host and
scores them against their transcripts; checks /health and /metrics; stops sttd
with SIGTERM (it must drain and exit 0) and removes the container. It also
asserts that the image runs as a numeric non-root user and carries only the
service's libraries (no libcurl, GSL, libxml2 or compiler).
Exit status: 0 ok, 1 failure, 2 usage.

Use the image with the same storage, e.g.:
  buildah --root WORK/storage --runroot RUNROOT images   (both printed at the end)
EOF
}

die() { echo "build_image: $*" >&2; exit 1; }
usage_error() { echo "build_image: $*" >&2; usage >&2; exit 2; }
now() { date +%s.%N; }
since() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.1f", b - a }'; }

root=$(cd "$(dirname "$0")/.." && pwd)
version=$(sed -n 's/^project(sttlab VERSION \([0-9.]*\).*/\1/p' "$root/CMakeLists.txt")
[[ -n "$version" ]] || die "cannot read the version from $root/CMakeLists.txt"

do_build=1 do_check=0 refresh_base=0 no_cache=0 clean=0
tag="sttlab/sttd:$version"
work=${STT_IMAGE_DIR:-/var/tmp/sttlab-image}
save=""
while [[ $# -gt 0 ]]; do
  case "$1" in
    --check) do_check=1 ;;
    --check-only) do_check=1 do_build=0 ;;
    --tag) [[ $# -ge 2 ]] || usage_error "--tag needs a name"; tag=$2; shift ;;
    --work-dir) [[ $# -ge 2 ]] || usage_error "--work-dir needs a directory"; work=$2; shift ;;
    --refresh-base) refresh_base=1 ;;
    --no-cache) no_cache=1 ;;
    --save) [[ $# -ge 2 ]] || usage_error "--save needs a file"; save=$2; shift ;;
    --clean) clean=1 ;;
    --help | -h) usage; exit 0 ;;
    *) usage_error "unknown option '$1'" ;;
  esac
  shift
done
[[ -n "$save" && $do_build -eq 0 ]] && usage_error "--save builds; it cannot go with --check-only"
# buildah keeps names without a registry under localhost/.
[[ "$tag" == */* && "${tag%%/*}" != *.* && "${tag%%/*}" != localhost* ]] && tag="localhost/$tag"
[[ "$tag" == *:* ]] || tag="$tag:latest"

# chroot isolation and mmdebstrap's root mode need root; rootless buildah
# would need subordinate ids in /etc/subuid and is not what this script does.
[[ $(id -u) -eq 0 ]] || die "run as root (sudo $0 ...): buildah's chroot isolation and mmdebstrap need it"

work=$(realpath -m "$work")
# Nothing built here may end up in git.
case "$work/" in
  "$root"/*) git -C "$root" check-ignore -q "$work/" ||
    die "--work-dir $work is inside the repository but not ignored by .gitignore" ;;
esac
mkdir -p "$work" || die "cannot create --work-dir $work"
marker="$work/.sttlab-image"
if [[ ! -e "$marker" ]]; then
  [[ -z "$(ls -A "$work")" ]] || die "--work-dir $work is not empty and was not made by this script"
  echo "sttlab container image work dir (scripts/build_image.sh)" >"$marker"
fi
# The run root holds locks and mount state, which must not outlive a reboot:
# it lives on /run (tmpfs), one per storage directory.
runroot="/run/sttlab-image-$(printf '%s' "$work" | cksum | cut -d' ' -f1)"
store=(--root "$work/storage" --runroot "$runroot")
mkdir -p "$work/logs"

# --- packages ------------------------------------------------------------
# What the host needs: buildah builds, podman imports the base, mmdebstrap
# makes it, uidmap is what rootless use would need; curl, ps and the test clips
# for the check.
ensure_packages() {
  local want=(buildah podman mmdebstrap uidmap debian-archive-keyring)
  [[ $do_check -eq 1 ]] && want+=(curl procps pocketsphinx-testdata)
  local missing=() p status
  for p in "${want[@]}"; do
    status=$(dpkg-query -W -f='${db:Status-Status}' "$p" 2>/dev/null || true)
    [[ "$status" == "installed" ]] || missing+=("$p")
  done
  [[ ${#missing[@]} -eq 0 ]] && return 0
  echo "build_image: installing ${missing[*]} (apt-get)"
  local log="$work/logs/apt.log" t0
  t0=$(now)
  export DEBIAN_FRONTEND=noninteractive
  # Other people use apt on this machine: wait for its lock instead of failing.
  if ! { apt-get -o DPkg::Lock::Timeout=600 update -q >"$log" 2>&1 &&
         apt-get -o DPkg::Lock::Timeout=600 install -y -q --no-install-recommends \
           "${missing[@]}" >>"$log" 2>&1; }; then
    tail -n 30 "$log" >&2
    die "apt-get failed (full log: $log)"
  fi
  echo "build_image: packages installed in $(since "$t0") s"
}

# --- the base: debian:12 made here ----------------------------------------
# minbase = Essential packages + apt, like Docker's debian image. The sources
# include security updates (mmdebstrap alone would write only "bookworm
# main"). merged-usr installs usr-is-merged rather than usrmerge, which would
# pull perl (about 50 MB) into every image. Documentation, manuals and
# translations are never installed (copyright files are kept); sttd needs none.
base_tar="$work/base.tar"
base_new="$work/base.new.tar" # written whole, then renamed: never half a base
base_opts=(--variant=minbase --format=tar
  --hook-dir=/usr/share/mmdebstrap/hooks/merged-usr
  --dpkgopt='path-exclude=/usr/share/doc/*'
  --dpkgopt='path-include=/usr/share/doc/*/copyright'
  --dpkgopt='path-exclude=/usr/share/man/*'
  --dpkgopt='path-exclude=/usr/share/info/*'
  --dpkgopt='path-exclude=/usr/share/locale/*')
base_mirrors=("deb http://deb.debian.org/debian bookworm main"
  "deb http://deb.debian.org/debian bookworm-updates main"
  "deb http://deb.debian.org/debian-security bookworm-security main")

make_base() {
  local want have=""
  want=$(printf '%s\n' "${base_opts[@]}" bookworm "${base_mirrors[@]}")
  [[ -f "$work/base.args" ]] && have=$(cat "$work/base.args")
  if [[ -f "$base_tar" && "$have" == "$want" && $refresh_base -eq 0 ]]; then
    echo "base: reusing $base_tar (made $(date -r "$base_tar" '+%Y-%m-%d %H:%M'); --refresh-base to renew)"
    return 0
  fi
  echo "base: mmdebstrap --variant=minbase bookworm (Debian's archive; about a minute or two)"
  local t0 log="$work/logs/mmdebstrap.log"
  t0=$(now)
  # stdin from /dev/null: mmdebstrap reads extra sources from a non-terminal stdin.
  if ! mmdebstrap "${base_opts[@]}" bookworm "$base_new" "${base_mirrors[@]}" \
         </dev/null >"$log" 2>&1; then
    tail -n 30 "$log" >&2
    rm -f "$base_new"
    die "mmdebstrap failed (full log: $log)"
  fi
  mv "$base_new" "$base_tar"
  printf '%s\n' "$want" >"$work/base.args"
  echo "base: made in $(since "$t0") s ($(du -h "$base_tar" | cut -f1))"
}

# Imports base.tar as localhost/debian:12 unless that image already is it
# (the tarball's digest is kept as a label).
import_base() {
  local sum have
  sum=$(sha256sum "$base_tar" | cut -d' ' -f1)
  have=$(buildah "${store[@]}" inspect --type image \
           --format '{{index .OCIv1.Config.Labels "org.sttlab.base.sha256"}}' \
           localhost/debian:12 2>/dev/null || true)
  if [[ "$have" == "$sum" ]]; then
    echo "base: reusing image localhost/debian:12"
    return 0
  fi
  local log="$work/logs/import.log"
  if ! podman "${store[@]}" import --change "LABEL org.sttlab.base.sha256=$sum" \
         --change 'CMD ["/bin/bash"]' "$base_tar" localhost/debian:12 >"$log" 2>&1; then
    tail -n 20 "$log" >&2
    die "podman import failed (full log: $log)"
  fi
  echo "base: imported as localhost/debian:12"
}

# --- the image ------------------------------------------------------------
build_image() {
  local rev log="$work/logs/build.log" t0 flags=(--layers)
  rev=$(git -C "$root" rev-parse HEAD 2>/dev/null || echo unknown)
  if [[ $rev != unknown && -n "$(git -C "$root" status --porcelain -- CMakeLists.txt lib src deploy/Dockerfile)" ]]; then
    rev="$rev-dirty"
  fi
  [[ $no_cache -eq 1 ]] && flags+=(--no-cache)
  # The context is the repository, but only what the Dockerfile copies is
  # read: not build folders, results, or a --work-dir inside the tree.
  printf '%s\n' '*' '!CMakeLists.txt' '!lib' '!src' >"$work/context.ignore"
  flags+=(--ignorefile "$work/context.ignore")
  echo "build: buildah bud --isolation chroot -f deploy/Dockerfile -t $tag (log: $log)"
  t0=$(now)
  # Only the steps reach the terminal, each marked when cached; the rest is in the log.
  if ! buildah "${store[@]}" bud --isolation chroot "${flags[@]}" --pull=never \
         --label "org.opencontainers.image.title=sttd" \
         --label "org.opencontainers.image.version=$version" \
         --label "org.opencontainers.image.revision=$rev" \
         -f "$root/deploy/Dockerfile" -t "$tag" "$root" 2>&1 |
       tee "$log" | awk '
         function show(x) { if (s != "") { print "  " substr(s, 1, 100) x; fflush(); s = "" } }
         /^(\[[0-9]+\/[0-9]+\] )?STEP/ { show(""); s = $0; next }
         /^--> Using cache/ { show("  (cached)"); next }
         { show("") }
         END { show("") }'; then
    tail -n 40 "$log" >&2
    die "buildah bud failed (full log: $log)"
  fi
  build_s=$(since "$t0")
}

image_facts() {
  podman "${store[@]}" image inspect --format '{{.Id}} {{.Size}}' "$tag" 2>/dev/null
}

save_image() {
  local t0
  t0=$(now)
  mkdir -p "$(dirname "$save")" || die "cannot create the folder of $save"
  rm -f "$save"
  buildah "${store[@]}" push --quiet "$tag" "docker-archive:$save:${tag#localhost/}" >/dev/null ||
    die "cannot write $save"
  echo "saved: $save ($(du -h "$save" | cut -f1), $(since "$t0") s); load it with docker load -i, kind load image-archive or ctr images import"
}

clean_all() {
  buildah "${store[@]}" rm --all >/dev/null 2>&1 || true
  buildah "${store[@]}" rmi --all --force >/dev/null 2>&1 || true
  rm -rf -- "$work/storage" "$work/logs" "$base_tar" "$base_new" "$work/base.args" \
    "$work/context.ignore" "$runroot"
  rm -f -- "$marker"
  rmdir -- "$work" 2>/dev/null || true
  echo "build_image: removed $work"
}

# --- the check --------------------------------------------------------------
clips_dir="${STT_TESTDATA_DIR:-/usr/share/pocketsphinx/test/data}/librivox"
ctr="" run_pid="" sttd_pid=""

check_fail() { echo "check: FAIL: $*" >&2; exit 1; }
check_ok() { echo "check: ok: $*"; }

# The container's processes share the host's PID namespace under chroot
# isolation. buildah does not pass SIGTERM on (it kills its child), so the
# service is signalled directly: the first process named sttd below `buildah
# run` is the server; the ones below it are its decoders.
find_sttd() {
  ps -e -o pid=,ppid=,comm= | awk -v root="$1" '
    { kids[$2] = kids[$2] " " $1; comm[$1] = $3 }
    END {
      n = split(kids[root], q, " ")
      for (i = 1; i <= n; i++) {
        if (comm[q[i]] == "sttd") { print q[i]; exit }
        m = split(kids[q[i]], more, " ")
        for (j = 1; j <= m; j++) q[++n] = more[j]
      }
    }'
}

check_cleanup() {
  if [[ -n "$run_pid" ]] && kill -0 "$run_pid" 2>/dev/null; then
    [[ -n "$sttd_pid" ]] && kill -TERM "$sttd_pid" 2>/dev/null
    for _ in $(seq 50); do kill -0 "$run_pid" 2>/dev/null || break; sleep 0.2; done
    kill -KILL "$run_pid" 2>/dev/null || true
    wait "$run_pid" 2>/dev/null || true
  fi
  if [[ -n "$ctr" ]]; then buildah "${store[@]}" rm "$ctr" >/dev/null 2>&1 || true; fi
  rm -f "$work/logs/check-sttd.$$.log" "$work/logs/metrics.$$"
}

# Word error rate of one hypothesis against one reference: prints
# "errors reference-words" (Levenshtein over words after lowercasing and
# dropping punctuation). By hand because the laboratory's scorer lives in
# sttbench, which the image check must not need.
wer_counts() {
  awk -v ref="$1" -v hyp="$2" '
    function words(s, a) { s = tolower(s); gsub(/[^a-z'"'"' ]/, " ", s); return split(s, a, " ") }
    BEGIN {
      n = words(ref, r); m = words(hyp, h)
      for (j = 0; j <= m; j++) d[0, j] = j
      for (i = 1; i <= n; i++) {
        d[i, 0] = i
        for (j = 1; j <= m; j++) {
          c = d[i - 1, j - 1] + (r[i] != h[j])
          if (d[i - 1, j] + 1 < c) c = d[i - 1, j] + 1
          if (d[i, j - 1] + 1 < c) c = d[i, j - 1] + 1
          d[i, j] = c
        }
      }
      print d[n, m], n
    }'
}

run_check() {
  local t0 cfg out code errs=0 refs=0 n=0 port="" log="$work/logs/check-sttd.$$.log"
  t0=$(now)
  [[ -n "$(image_facts)" ]] || check_fail "no image $tag in $work/storage (build it first)"
  [[ -f "$clips_dir/transcription" ]] || check_fail "no LibriVox clips in $clips_dir (apt-get install pocketsphinx-testdata)"
  trap check_cleanup EXIT
  trap 'echo "check: interrupted" >&2; exit 1' INT TERM

  cfg=$(buildah "${store[@]}" inspect --type image --format \
          '{{.OCIv1.Config.User}}|{{index .OCIv1.Config.Labels "org.opencontainers.image.revision"}}|{{.OCIv1.Config.Entrypoint}} {{.OCIv1.Config.Cmd}}' \
          "$tag")
  local user=${cfg%%|*} rest=${cfg#*|}
  echo "check: $tag ${image_id:0:12}, built from ${rest%%|*}"
  [[ "$user" =~ ^[1-9][0-9]*(:[0-9]+)?$ ]] || check_fail "image user '$user' is not a numeric non-root id"
  check_ok "runs as user $user; entrypoint and command ${rest#*|}"

  ctr=$(buildah "${store[@]}" from --pull=never --name "sttd-check-$$" "$tag") ||
    check_fail "buildah from $tag failed"
  local inside=(buildah "${store[@]}" run --isolation chroot --network host "$ctr" --)

  out=$("${inside[@]}" id -u) || check_fail "id -u failed in the image"
  [[ "$out" == "${user%%:*}" ]] || check_fail "buildah run ran as uid $out, the image says $user"
  out=$("${inside[@]}" /usr/local/bin/sttd --version) || check_fail "sttd --version failed in the image"
  [[ "$out" == "sttd $version" ]] || check_fail "image has '$out', the tree is $version"
  check_ok "$out"

  # Only the service's libraries: nothing of the laboratory, no build tools.
  out=$("${inside[@]}" ldd /usr/local/bin/sttd) || check_fail "ldd failed in the image"
  grep -q 'not found' <<<"$out" && check_fail "missing libraries: $(grep 'not found' <<<"$out")"
  grep -Eq 'libcurl|libgsl|libxml2' <<<"$out" &&
    check_fail "sttd links a laboratory library: $(grep -E 'libcurl|libgsl|libxml2' <<<"$out")"
  check_ok "ldd: $(grep -c '=>' <<<"$out") libraries, none of libcurl, libgsl, libxml2"
  # shellcheck disable=SC2016 # dpkg-query's format, not the shell's
  out=$("${inside[@]}" dpkg-query -W -f '${Package} ${db:Status-Status}\n' |
        awk '$2 == "installed" { print $1 }') || check_fail "dpkg-query failed in the image"
  local bad
  bad=$(grep -E '^(libcurl|curl$|libgsl|gsl-bin$|libxml2|gcc$|gcc-[0-9]+$|cpp$|cmake$|make$|.*-dev$)' <<<"$out" | tr '\n' ' ' || true)
  [[ -z "$bad" ]] || check_fail "packages the service does not need: $bad"
  check_ok "$(wc -l <<<"$out") packages, none of libcurl, GSL, libxml2, compilers or -dev"

  # The service, as the image runs it, on a free loopback port of the host.
  "${inside[@]}" /usr/local/bin/sttd --host 127.0.0.1 --port 0 --grace-s 10 --quiet >"$log" 2>&1 &
  run_pid=$!
  for _ in $(seq 300); do
    port=$(sed -n 's|^sttd: listening on http://127.0.0.1:\([0-9]*\).*|\1|p' "$log")
    [[ -n "$port" ]] && break
    kill -0 "$run_pid" 2>/dev/null || { cat "$log" >&2; check_fail "sttd exited before listening"; }
    sleep 0.2
  done
  [[ -n "$port" ]] || { cat "$log" >&2; check_fail "sttd did not listen within 60 s"; }
  sttd_pid=$(find_sttd "$run_pid")
  [[ -n "$sttd_pid" ]] || check_fail "cannot find the sttd process under buildah run ($run_pid)"
  local url="http://127.0.0.1:$port" ready=""
  for _ in $(seq 300); do
    code=$(curl -s -o /dev/null -w '%{http_code}' "$url/ready" || true)
    [[ "$code" == 200 ]] && { ready=1; break; }
    sleep 0.2
  done
  [[ -n "$ready" ]] || check_fail "/ready did not answer 200 within 60 s (last: $code)"
  check_ok "$(head -n 1 "$log"); /ready 200 after $(since "$t0") s"

  out=$(curl -s -w '\n%{http_code}' "$url/health") || check_fail "/health: no answer"
  [[ "${out##*$'\n'}" == 200 && "$out" == *'"status":"ok"'* ]] || check_fail "/health: $out"
  check_ok "/health ${out%$'\n'*}"

  # Real speech through the image: the five LibriVox clips, scored.
  local wav id ref hyp e r t1
  for wav in "$clips_dir"/*.wav; do
    id=$(basename "$wav" .wav)
    ref=$(grep -F "($id)" "$clips_dir/transcription" | sed 's/([^)]*)$//; s/<[^>]*>//g') ||
      check_fail "no reference for $id"
    t1=$(now)
    out=$(curl -s -w '\n%{http_code}' -F "file=@$wav" -F response_format=text \
            "$url/v1/audio/transcriptions") || check_fail "$id: no answer"
    code=${out##*$'\n'} hyp=${out%$'\n'*}
    hyp=${hyp%$'\n'}
    [[ "$code" == 200 ]] || check_fail "$id: HTTP $code: $hyp"
    read -r e r < <(wer_counts "$ref" "$hyp")
    errs=$((errs + e)) refs=$((refs + r)) n=$((n + 1))
    printf 'check:     %s  %s s  %d/%d word errors  "%s"\n' "$id" "$(since "$t1")" "$e" "$r" "$hyp"
  done
  [[ $n -gt 0 ]] || check_fail "no clips in $clips_dir"
  # The bar only tells speech recognised from a broken model or misread audio
  # (which score above 90%); accuracy itself is measured by `sttbench audio`.
  local wer
  wer=$(awk -v e="$errs" -v r="$refs" 'BEGIN { printf "%.1f", 100 * e / r }')
  awk -v w="$wer" 'BEGIN { exit !(w <= 50) }' ||
    check_fail "word error rate $wer% over $n clips (over 50%: not recognising speech)"
  check_ok "transcribed $n LibriVox clips over HTTP: word error rate $wer% ($errs/$refs words)"

  out=$(curl -s -D - -o "$work/logs/metrics.$$" "$url/metrics" | tr -d '\r') || check_fail "/metrics: no answer"
  grep -q '^HTTP/[0-9.]* 200' <<<"$out" || check_fail "/metrics: $(head -n 1 <<<"$out")"
  grep -qi '^content-type: text/plain; version=0.0.4' <<<"$out" || check_fail "/metrics: wrong media type"
  local served
  served=$(sed -n 's/^sttd_requests_total{route="\/v1\/audio\/transcriptions",status="200"} //p' \
             "$work/logs/metrics.$$")
  rm -f "$work/logs/metrics.$$"
  [[ "$served" == "$n" ]] || check_fail "/metrics counts ${served:-no} transcriptions, $n were made"
  check_ok "/metrics (Prometheus text) counts the $n transcriptions"

  # A clean stop: SIGTERM drains and sttd exits 0, which buildah run returns.
  kill -TERM "$sttd_pid"
  local status=""
  for _ in $(seq 150); do
    kill -0 "$run_pid" 2>/dev/null || break
    sleep 0.2
  done
  if kill -0 "$run_pid" 2>/dev/null; then check_fail "sttd still running 30 s after SIGTERM"; fi
  wait "$run_pid" && status=0 || status=$?
  run_pid=""
  if [[ "$status" != 0 ]] || ! grep -q '^sttd: stopped' "$log"; then
    cat "$log" >&2
    check_fail "sttd did not stop cleanly on SIGTERM (exit $status)"
  fi
  check_ok "SIGTERM: drained and exited 0"
  buildah "${store[@]}" rm "$ctr" >/dev/null || check_fail "cannot remove container $ctr"
  ctr=""
  rm -f "$log"
  check_s=$(since "$t0")
  echo "check: PASS in $check_s s"
}

# --- main -------------------------------------------------------------------
if [[ $clean -eq 1 ]]; then
  clean_all
  exit 0
fi
t_all=$(now)
ensure_packages
build_s=""
check_s=""
if [[ $do_build -eq 1 ]]; then
  make_base
  import_base
  build_image
fi
read -r image_id image_bytes < <(image_facts) || die "no image $tag (build it first)"
if [[ $do_build -eq 1 ]]; then
  echo "image: $tag id ${image_id:0:12} size $(awk -v b="$image_bytes" 'BEGIN { printf "%.0f MB", b / 1e6 }') (built in $build_s s)"
fi
[[ -n "$save" ]] && save_image
[[ $do_check -eq 1 ]] && run_check
echo "done in $(since "$t_all") s; storage: buildah --root $work/storage --runroot $runroot images"
