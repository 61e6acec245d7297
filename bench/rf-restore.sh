#!/usr/bin/env bash
# Time from a node's SIGKILL to its copies rebuilt (every range back at RF 3), with the coordinator
# group's leader SIGKILLed at the same moment, against the same without the leader kill.
# Starts `./ringkv up` (3 coordinators, 4 nodes, rocksdb, --no-supervise so a killed node stays
# dead) on free loopback ports, loads KEYS keys (default 2000), then REPS times (default 3) for
# each kind: kills the newest node (and the leader, or not), waits for the eviction and for
# `underReplicatedRanges` 0 with no transfer running, and adds a node back before the next round.
# The eviction grace is the default (10 s): it is most of the figure, by design.
#   bench/rf-restore.sh [REPS]
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
reps="${1:-3}"
keys="${KEYS:-2000}"
work="$(mktemp -d -t ringkv-rf-restore-XXXXXX)"
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
url="http://127.0.0.1:$port"
"$root/ringkv" up --nodes 4 --no-supervise --port "$port" --resp-port 0 --data-dir "$work/data" >"$work/up.out" 2>"$work/up.err" &
up=$!
cleanup() { if [ -n "${KEEP:-}" ]; then echo "kept: $work (up pid $up)" >&2; return; fi; kill "$up" 2>/dev/null || true; wait "$up" 2>/dev/null || true; rm -rf "$work"; }
trap cleanup EXIT
for _ in $(seq 1 900); do grep -q "RingKV is up" "$work/up.out" 2>/dev/null && break; sleep 0.2; done
grep -q "RingKV is up" "$work/up.out" || { echo "up did not start: $(tail -5 "$work/up.err")" >&2; exit 1; }
cluster() { curl -s -m 5 "$url/v1/cluster" || true; }
field() { python3 -c "import json,sys
try: d=json.load(sys.stdin)
except Exception: sys.exit(1)
$1" 2>/dev/null; }
# Every node up and heard from, nothing moving, nothing owed, the given number of nodes.
settled() { cluster | field "sys.exit(0 if d['leader'] and len(d['nodes'])==$1 and all(n['state']=='up' for n in d['nodes']) and d['activeTransfers']==0 and d['underReplicatedRanges']==0 else 1)"; }
pid_of() { python3 - "$1" "$2" "$work" <<'PY'
import os, sys
kind, name, work = sys.argv[1], sys.argv[2], sys.argv[3]
for pid in filter(str.isdigit, os.listdir("/proc")):
    try:
        text = [a.decode(errors="replace") for a in open(f"/proc/{pid}/cmdline", "rb").read().split(b"\0")]
    except OSError:
        continue
    if not any(work in a for a in text):
        continue
    if kind == "member" and "--member-id" in text and text[text.index("--member-id") + 1] == name:
        print(pid); break
    if kind == "node" and "node" in text and "--data-dir" in text and text[text.index("--data-dir") + 1].endswith("/nodes/" + name):
        print(pid); break
PY
}
wait_for() { # seconds condition...
  local until=$(( $(date +%s) + $1 )); shift
  while ! "$@"; do [ "$(date +%s)" -lt "$until" ] || return 1; sleep 0.1; done
}
wait_for 120 settled 4 || { echo "the cluster did not settle" >&2; exit 1; }
seq 1 "$keys" | xargs -P 8 -I{} curl -s -o /dev/null -X PUT --data "v{}" "$url/v1/kv/rf/{}?w=3"
echo "loaded $keys keys"

for kind in node node+leader; do
  for rep in $(seq 1 "$reps"); do
    wait_for 180 settled 4 || { echo "not settled before round $rep" >&2; exit 1; }
    state=$(cluster)
    victim=$(echo "$state" | field "print(max(d['nodes'], key=lambda n: n['number'])['id'])")
    leader=$(echo "$state" | field "print(d['leader'])")
    node_pid=$(pid_of node "$victim"); member_pid=$(pid_of member "$leader")
    [ -n "$node_pid" ] && [ -n "$member_pid" ] || { echo "no process for $victim or $leader" >&2; exit 1; }
    start=$(date +%s%N)
    kill -9 "$node_pid"
    [ "$kind" = "node+leader" ] && kill -9 "$member_pid"
    gone() { cluster | field "sys.exit(0 if d['leader'] and all(n['id']!='$victim' for n in d['nodes']) else 1)"; }
    wait_for 180 gone || { echo "$victim was not evicted" >&2; exit 1; }
    evicted=$(( ($(date +%s%N) - start) / 1000000 ))
    wait_for 180 settled 3 || { echo "RF was not restored after $victim" >&2; exit 1; }
    restored=$(( ($(date +%s%N) - start) / 1000000 ))
    echo "$kind kill $rep: $victim (leader $leader): evicted after $evicted ms, RF 3 restored after $restored ms"
    echo "$kind $restored" >>"$work/results"
    curl -s -o /dev/null -X POST "$url/v1/cluster/nodes"
  done
done
python3 - "$work/results" <<'PY'
import statistics, sys
rows = {}
for line in open(sys.argv[1]):
    kind, ms = line.split()
    rows.setdefault(kind, []).append(int(ms))
for kind, values in rows.items():
    print(f"{kind}: RF restored after median {statistics.median(values):.0f} ms, max {max(values)} ms over {len(values)} kills")
PY
