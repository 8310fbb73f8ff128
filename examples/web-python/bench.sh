#!/bin/bash
# Requests per second to the Python and Node.js web hello functions through scf serve's
# gateway, against the same servers hit directly on their port, in one run, alternating
# (the machine may be shared): wrk, one connection (one request at a time, as one
# instance serves them), ROUNDS rounds of SECONDS each.
#   cargo build --release -p scf-cli && examples/web-python/bench.sh [target/release/scf]
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
scf=${1:-$here/../../target/release/scf}
seconds=${SECONDS_EACH:-10}
rounds=${ROUNDS:-3}
data=$(mktemp -d)
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; rm -rf "$data"; }
trap cleanup EXIT
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
wait_port() { for _ in $(seq 100); do curl -s -o /dev/null "http://127.0.0.1:$1$2" && return; sleep 0.1; done; echo "nothing on $1" >&2; exit 1; }

py=$(free_port); node=$(free_port); gw=$(free_port)
(cd "$here" && PORT=$py exec python3 -u app.py >/dev/null 2>&1) & pids+=($!)
(cd "$here/../web-node" && PORT=$node exec node app.js >/dev/null) & pids+=($!)
"$scf" serve -t "$here/template.yaml" --listen "127.0.0.1:$gw" --data-dir "$data" >/dev/null 2>&1 & pids+=($!)
wait_port "$py" /; wait_port "$node" /; wait_port "$gw" /py/; wait_port "$gw" /node/

rps() { wrk -t1 -c1 -d"${seconds}s" "$1" | awk '/Requests\/sec/ {print $2}'; }
echo "machine: $(nproc) vCPU, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs), load $(cut -d' ' -f1-3 /proc/loadavg)"
for round in $(seq "$rounds"); do
  for name in python node; do
    if [ $name = python ]; then direct="http://127.0.0.1:$py/"; via="http://127.0.0.1:$gw/py/";
    else direct="http://127.0.0.1:$node/"; via="http://127.0.0.1:$gw/node/"; fi
    d=$(rps "$direct"); g=$(rps "$via")
    echo "round $round $name: direct $d req/s, through the gateway $g req/s, ratio $(python3 -c "print(f'{$g/$d:.0%}')")"
  done
done
echo "load after: $(cut -d' ' -f1-3 /proc/loadavg)"
