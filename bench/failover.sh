#!/usr/bin/env bash
# Leader failover of the coordinator group: starts `./ringkv up` (3 coordinators, 3 nodes, memory
# engine) on free loopback ports, SIGKILLs the leader KILLS times, and measures each time from the
# kill to the first change the group accepts through the printed URL (a request only the leader
# answers: cancelling a transfer that does not exist gets 404 from the leader, 503 while there is
# none). Between kills it waits for `up` to start the killed member again and for all three to
# agree, and at least PAUSE seconds (default 15): `up` leaves a member down that exits 5 times
# within a minute, as it does a node. Prints every figure, then p50 and max in milliseconds.
#   bench/failover.sh [KILLS]   (default 20)
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
kills="${1:-20}"
work="$(mktemp -d -t ringkv-failover-XXXXXX)"
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
url="http://127.0.0.1:$port"
"$root/ringkv" up --nodes 3 --engine memory --port "$port" --resp-port 0 --data-dir "$work/data" >"$work/up.out" 2>"$work/up.err" &
up=$!
cleanup() { kill "$up" 2>/dev/null || true; wait "$up" 2>/dev/null || true; rm -rf "$work"; }
trap cleanup EXIT
for _ in $(seq 1 600); do grep -q "RingKV is up" "$work/up.out" 2>/dev/null && break; sleep 0.2; done
grep -q "RingKV is up" "$work/up.out" || { echo "up did not start: $(tail -5 "$work/up.err")" >&2; exit 1; }
leader() { curl -s -m 2 "$url/v1/cluster" | python3 -c 'import json,sys; d=json.load(sys.stdin); print(d["leader"] or "")' 2>/dev/null || true; }
healthy() { curl -s -m 2 "$url/v1/cluster" | python3 -c 'import json,sys; d=json.load(sys.stdin); sys.exit(0 if d["leader"] and all(c["role"] in ("leader","follower") for c in d["coordinators"]) else 1)' 2>/dev/null; }
member_pid() { python3 - "$1" "$work" <<'PY'
import os, sys
member, work = sys.argv[1], sys.argv[2]
for pid in filter(str.isdigit, os.listdir("/proc")):
    try:
        args = open(f"/proc/{pid}/cmdline", "rb").read().split(b"\0")
    except OSError:
        continue
    text = [a.decode(errors="replace") for a in args]
    if "--member-id" in text and text[text.index("--member-id") + 1] == member and any(work in a for a in text):
        print(pid); break
PY
}
results=()
pause="${PAUSE:-15}"
for i in $(seq 1 "$kills"); do
  [ "$i" -gt 1 ] && sleep "$pause"
  for _ in $(seq 1 300); do healthy && break; sleep 0.1; done
  old=$(leader); pid=$(member_pid "$old")
  [ -n "$pid" ] || { echo "no process for leader '$old'" >&2; exit 1; }
  start=$(date +%s%N)
  kill -9 "$pid"
  for _ in $(seq 1 600); do
    code=$(curl -s -m 1 -o /dev/null -w '%{http_code}' -X DELETE "$url/v1/cluster/transfers/failover-probe" || true)
    [ "$code" = "404" ] && break
    sleep 0.01
  done
  ms=$(( ($(date +%s%N) - start) / 1000000 ))
  results+=("$ms")
  echo "kill $i: leader $old -> $(leader) in $ms ms"
done
printf '%s\n' "${results[@]}" | sort -n | awk '{a[NR]=$1} END {printf "failover over %d kills: p50 %d ms, max %d ms\n", NR, a[int((NR+1)/2)], a[NR]}'
