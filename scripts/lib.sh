# Shell functions the scripts share (sourced, not run): a random token and
# a pesd of their own on a free loopback port.

# random_token prints 32 hex digits. od is in every POSIX system (xxd
# comes with vim and is often missing).
random_token() {
  head -c 16 /dev/urandom | od -An -tx1 | tr -d ' \n'
}

# start_pesd PESD DIR [FLAG...] starts `PESD serve` with its data in
# DIR/data, stdout in DIR/pesd.out and stderr in DIR/pesd.log, on a free
# loopback port, and waits until it says where it listens. It sets pesd_pid
# and exports PES_ENDPOINT; PES_TOKEN must be set.
start_pesd() {
  local pesd=$1 dir=$2
  shift 2
  [ -n "${PES_TOKEN:-}" ] || { echo "start_pesd: PES_TOKEN is not set" >&2; return 1; }
  "$pesd" serve --listen 127.0.0.1:0 --data-dir "$dir/data" "$@" >"$dir/pesd.out" 2>"$dir/pesd.log" &
  pesd_pid=$!
  local _
  for _ in $(seq 100); do
    grep -q '^pesd listening on ' "$dir/pesd.out" 2>/dev/null && break
    kill -0 "$pesd_pid" 2>/dev/null || { echo "pesd exited: $(cat "$dir/pesd.log")" >&2; return 1; }
    sleep 0.1
  done
  PES_ENDPOINT=$(sed -n 's/^pesd listening on \([^ ]*\).*/\1/p' "$dir/pesd.out" | head -n 1)
  [ -n "$PES_ENDPOINT" ] || { echo "pesd did not say where it listens: $(cat "$dir/pesd.out" "$dir/pesd.log")" >&2; return 1; }
  export PES_ENDPOINT
}

# stop_pesd deletes every group first, because local nodes outlive pesd by
# design (the next start re-adopts them) and no web server may be left
# running; then it stops pesd and waits for it.
stop_pesd() {
  [ -n "${pesd_pid:-}" ] && kill -0 "$pesd_pid" 2>/dev/null || return 0
  local id
  for id in $(curl -fsS -H "Authorization: Bearer $PES_TOKEN" "$PES_ENDPOINT/v1/groups" 2>/dev/null |
    python3 -c 'import json,sys; print(" ".join(g["id"] for g in json.load(sys.stdin)["items"]))' 2>/dev/null); do
    curl -fsS -X DELETE -H "Authorization: Bearer $PES_TOKEN" "$PES_ENDPOINT/v1/groups/$id" >/dev/null 2>&1 || true
  done
  kill -TERM "$pesd_pid" 2>/dev/null
  wait "$pesd_pid" 2>/dev/null || true
  pesd_pid=""
}
