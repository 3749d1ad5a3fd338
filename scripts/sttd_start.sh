# Sourced by the scripts that need a running sttd: sttd_start BUILD_DIR [sttd options]
# starts BUILD_DIR/sttd on a free loopback port and sets STTD_PID, STTD_URL and
# STTD_LOG (its stderr; its first line says workers, threads and queue);
# sttd_stop sends SIGTERM, waits, and removes the log. An EXIT trap stops it too.
sttd_start() {
  local build=$1
  shift
  STTD_LOG=$(mktemp /tmp/sttd.XXXXXX)
  "$build/sttd" --port 0 --quiet "$@" 2>"$STTD_LOG" &
  STTD_PID=$!
  trap 'kill $STTD_PID 2>/dev/null || true; rm -f "$STTD_LOG"' EXIT
  local port=""
  for _ in $(seq 1 300); do
    port=$(sed -n 's/.*listening on http:\/\/[^:]*:\([0-9]*\).*/\1/p' "$STTD_LOG")
    [[ -n "$port" ]] && break
    kill -0 "$STTD_PID" 2>/dev/null || break
    sleep 0.1
  done
  if [[ -z "$port" ]]; then
    echo "sttd did not start:" >&2
    cat "$STTD_LOG" >&2
    return 1
  fi
  STTD_URL="http://127.0.0.1:$port"
}

sttd_stop() {
  kill -TERM "$STTD_PID" 2>/dev/null || true
  wait "$STTD_PID" || true
  trap - EXIT
  rm -f "$STTD_LOG"
}
