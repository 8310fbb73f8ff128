#!/bin/bash
# A/B of two scf binaries (usage: bench-ab.sh BEFORE AFTER): the same web hello functions direct, through scf serve BEFORE and AFTER, alternating
# in each round; CPU per request of the scf serve process (utime+stime from /proc, all
# its threads; the instance processes are not counted: they are the same in both).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
before=$1; after=$2
seconds=${SECONDS_EACH:-5}; rounds=${ROUNDS:-3}
d1=$(mktemp -d); d2=$(mktemp -d)
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; rm -rf "$d1" "$d2"; }
trap cleanup EXIT
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
wait_port() { for _ in $(seq 200); do curl -s -o /dev/null "http://127.0.0.1:$1$2" && return; sleep 0.1; done; echo "nothing on $1" >&2; exit 1; }
py=$(free_port); node=$(free_port); ga=$(free_port); gb=$(free_port)
(cd "$here" && PORT=$py exec python3 -u app.py >/dev/null 2>&1) & pids+=($!)
(cd "$here/../web-node" && PORT=$node exec node app.js >/dev/null) & pids+=($!)
"$before" serve -t "$here/template.yaml" --listen "127.0.0.1:$ga" --data-dir "$d1" >/dev/null 2>&1 & pa=$!; pids+=($pa)
"$after" serve -t "$here/template.yaml" --listen "127.0.0.1:$gb" --data-dir "$d2" >/dev/null 2>&1 & pb=$!; pids+=($pb)
for p in $ga $gb; do wait_port $p /py/; wait_port $p /node/; done
wait_port $py /; wait_port $node /
cpu() { awk '{print $14+$15}' /proc/$1/stat; }
run() { # url pid -> "rps cpu_us_per_req"
  local c0 out rps c1 n
  c0=$(cpu "$2"); out=$(wrk -t1 -c1 -d"${seconds}s" "$1"); c1=$(cpu "$2")
  rps=$(echo "$out" | awk '/Requests\/sec/ {print $2}')
  n=$(echo "$out" | awk '/requests in/ {print $1}')
  python3 -c "print(f'$rps {($c1-$c0)*1e6/100/$n:.0f}')"
}
echo "machine: $(nproc) vCPU, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs), load $(cut -d' ' -f1-3 /proc/loadavg)"
for round in $(seq "$rounds"); do
  for name in py node; do
    if [ $name = py ]; then direct="http://127.0.0.1:$py/"; else direct="http://127.0.0.1:$node/"; fi
    d=$(wrk -t1 -c1 -d"${seconds}s" "$direct" | awk '/Requests\/sec/ {print $2}')
    read -r a acpu <<<"$(run "http://127.0.0.1:$ga/$name/" $pa)"
    read -r b bcpu <<<"$(run "http://127.0.0.1:$gb/$name/" $pb)"
    echo "round $round $name: direct $d; before $a req/s ($(python3 -c "print(f'{$a/$d:.0%}')"), ${acpu} us CPU/req); after $b req/s ($(python3 -c "print(f'{$b/$d:.0%}')"), ${bcpu} us CPU/req); load $(cut -d' ' -f1 /proc/loadavg)"
  done
done
