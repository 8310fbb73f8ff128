#!/usr/bin/env bash
# Load bench of the out-of-process invocation path, against bare hyper in the same run.
#
#   xtask/bench/invoke-load.sh [ROUNDS]        (default 3; SECS=5 CONNS=32 to change)
#
# Builds the release `scf`, the Rust hello Custom Runtime (crates/scf-runtime/examples/
# hello.rs) and scf-http's gateway_load bench (its bare hyper `hello` server and its bare
# relay), then in each round, alternating: bare hyper; the bare relay (`relay`: hyper on a
# multi-thread runtime, as `scf serve` has, handing each request's body as one
# length-prefixed frame on a Unix socket to a pooled child process, a blocking loop that
# answers `{"hello":"abctest"}`: the floor of any out-of-process invocation); `relay1`,
# the same relay on a tokio current_thread runtime; `scf serve` with the Rust hello (a
# Custom Runtime, the binary copied into its code directory as `bootstrap`, as deployed)
# and `scf serve` with examples/hello (Python). Each server is driven by `wrk -t2
# -cCONNS -dSECS` and then by `wrk -t1 -c1 -dSECS`, after a 2 s warm-up; every answer is checked for the
# function's result (a wrong one is counted, and the run fails). The servers' resident
# memory (VmRSS, the `scf serve` process) is sampled every 0.2 s during the runs; its
# peak is printed, and the CPU time (utime + stime, from /proc) of the server and of its
# instances per answer (for the relays: the relay and its children), the steadier figure
# on a shared machine. Prints one line per run and a table of medians at the end. KINDS="bare
# rust" (a list of bare, relay, relay1, rust, python) runs only those; keep bare in it for
# the ratios.
# SCF_BIN and HELLO_BIN run another build of `scf` and of the hello bootstrap (an A/B
# against an older commit's binaries, for example).
set -euo pipefail
rounds=${1:-3}
secs=${SECS:-5}
conns=${CONNS:-32}
root=$(cd "$(dirname "$0")/../.." && pwd)
cd "$root"
command -v wrk >/dev/null || { echo "invoke-load: wrk is missing (apt-get install wrk)" >&2; exit 1; }
command -v python3 >/dev/null || { echo "invoke-load: python3 is missing" >&2; exit 1; }

echo "==> building (release)"
cargo build --release --quiet -p scf-cli --bin scf
cargo build --release --quiet -p scf-runtime --example hello
bare_bin=$(cargo bench --quiet --no-run -p scf-http --bench gateway_load --message-format=json 2>/dev/null |
  python3 -c 'import json,sys
for l in sys.stdin:
    m=json.loads(l)
    if m.get("reason")=="compiler-artifact" and m["target"]["name"]=="gateway_load" and m.get("executable"): print(m["executable"])')
[ -x "$bare_bin" ] || { echo "invoke-load: the gateway_load bench binary was not built" >&2; exit 1; }

work=$(mktemp -d /tmp/scf-invoke-load.XXXXXX)
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  rm -rf "$work"
}
trap cleanup EXIT

mkdir -p "$work/rust"
cp examples/rust-hello/template.yaml "$work/rust/"
cp "${HELLO_BIN:-target/release/examples/hello}" "$work/rust/bootstrap"
cp -r examples/hello "$work/python"
rm -rf "$work/python/.scf"

# The wrk script: a POST of the Invoke (or a GET), each answer checked for EXPECT.
cat > "$work/check.lua" <<'LUA'
local threads = {}
function setup(thread) table.insert(threads, thread) end
function init(args)
  expect = os.getenv("EXPECT"); good = 0; bad = 0
  local body = os.getenv("BODY")
  if body ~= "" then
    wrk.method = "POST"; wrk.body = body
    wrk.headers["Content-Type"] = "application/json"
    wrk.headers["X-TC-Action"] = "Invoke"
    wrk.headers["X-TC-Version"] = "2018-04-16"
  end
end
function response(status, headers, body)
  if status == 200 and string.find(body, expect, 1, true) then
    good = good + 1
  else
    if bad == 0 then io.stderr:write("wrong answer (" .. status .. "): " .. string.sub(body, 1, 400) .. "\n") end
    bad = bad + 1
  end
end
function done(summary, latency, requests)
  local g, b = 0, 0
  for _, t in ipairs(threads) do g = g + t:get("good"); b = b + t:get("bad") end
  io.write(string.format("CHECKED %d %d %d\n", g, b, summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.status + summary.errors.timeout))
end
LUA

# CPU ticks (utime + stime) of process $1 and of all its descendants: "server instances".
# The descendants' figure adds the CPU of every process below that ended and was reaped
# (each one's cutime + cstime, which the kernel adds to its parent when reaped), so an
# instance that ends between two snapshots does not take its lifetime's CPU with it.
cat > "$work/cpu.py" <<'PY'
import os, sys
root = int(sys.argv[1])
procs = {}
for d in os.listdir("/proc"):
    if d.isdigit():
        try:
            f = open("/proc/%s/stat" % d).read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        procs[int(d)] = (int(f[1]), int(f[11]) + int(f[12]), int(f[13]) + int(f[14]))
kids = {}
for pid, (ppid, _, _) in procs.items():
    kids.setdefault(ppid, []).append(pid)
below, todo = procs.get(root, (0, 0, 0))[2], list(kids.get(root, []))
while todo:
    pid = todo.pop()
    below += procs[pid][1] + procs[pid][2]
    todo += kids.get(pid, [])
print(procs.get(root, (0, 0))[1], below)
PY
port=9400
# Starts server KIND; sets $pid and $url.
start() {
  port=$((port + 1))
  case "$1" in
    bare|relay|relay1)
      coproc BARE { exec "$bare_bin" --serve "$1"; }
      pid=$BARE_PID
      read -r line <&"${BARE[0]}"
      url="http://127.0.0.1:${line#PORT }/"
      ;;
    rust|python)
      (cd "$work/$1" && exec "${SCF_BIN:-$root/target/release/scf}" serve --listen "127.0.0.1:$port" --data-dir "$work/$1/.scf-$port" >"$work/$1.log" 2>&1) &
      pid=$!
      url="http://127.0.0.1:$port/"
      for _ in $(seq 100); do grep -q '^ready' "$work/$1.log" 2>/dev/null && break; sleep 0.1; done
      ;;
  esac
  pids+=("$pid")
}
stop() {
  kill "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
}

# run KIND CONNS THREADS: prints "req/s good bad errors"
drive() {
  local kind=$1 c=$2 t=$3 d=${4:-$secs} body="" expect="hello"
  case "$kind" in
    relay|relay1) body='{"FunctionName":"rust-hello","ClientContext":"{\"key\":\"abctest\"}"}'; expect='"hello":"abctest"' ;;
    rust) body='{"FunctionName":"rust-hello","ClientContext":"{\"key\":\"abctest\"}"}'; expect='\"hello\":\"abctest\"' ;;
    python) body='{"FunctionName":"hello","ClientContext":"{\"key\":\"abctest\"}"}'; expect='"RetMsg":"\"abctest\""' ;;
  esac
  local out cpu0 cpu1
  cpu0=$(python3 "$work/cpu.py" "$pid")
  out=$(BODY="$body" EXPECT="$expect" wrk -t"$t" -c"$c" -d"${d}s" -s "$work/check.lua" "$url")
  cpu1=$(python3 "$work/cpu.py" "$pid")
  local rps checked
  rps=$(awk '/^Requests\/sec/ {print $2}' <<<"$out")
  checked=$(awk '/^CHECKED/ {print $2, $3, $4}' <<<"$out")
  # CPU per answer in µs, of the server and of its instances.
  local per
  per=$(python3 -c "import os,sys; a=sys.argv[1].split(); b=sys.argv[2].split(); n=max(int(sys.argv[3]),1); t=1e6/os.sysconf('SC_CLK_TCK'); print('%.1f %.1f' % ((int(b[0])-int(a[0]))*t/n, (int(b[1])-int(a[1]))*t/n))" "$cpu0" "$cpu1" "$(awk '{print $1 + $2}' <<<"$checked")")
  echo "$rps $checked $per"
}
sample_rss() {
  local p=$1 peak=0
  while kill -0 "$p" 2>/dev/null; do
    local kb
    kb=$(awk '/^VmRSS/ {print $2}' "/proc/$p/status" 2>/dev/null || echo 0)
    [ "${kb:-0}" -gt "$peak" ] && peak=$kb && echo "$peak" >"$work/rss.$p"
    sleep 0.2
  done
}

results="$work/results"
: >"$results"
echo "==> $rounds rounds of ${secs}s runs, $(nproc) CPUs, load $(cut -d' ' -f1-3 /proc/loadavg)"
for r in $(seq "$rounds"); do
  for kind in ${KINDS:-bare relay relay1 rust python}; do
    start "$kind"
    sample_rss "$pid" &
    sampler=$!
    # Warm-up: instances started, caches warm.
    drive "$kind" "$conns" 2 2 >/dev/null
    read -r many good1 bad1 err1 scpu icpu < <(drive "$kind" "$conns" 2)
    read -r one good2 bad2 err2 scpu1 icpu1 < <(drive "$kind" 1 1)
    rss=$(cat "$work/rss.$pid" 2>/dev/null || echo 0)
    stop
    wait "$sampler" 2>/dev/null || true
    printf 'round %d %-6s c%-3s %9s req/s (CPU/answer: server %s us, instances %s us)  c1 %8s req/s (%s / %s us)  checked %s+%s wrong %s errors %s  peak RSS %s kB\n' \
      "$r" "$kind" "$conns" "$many" "$scpu" "$icpu" "$one" "$scpu1" "$icpu1" "$good1" "$good2" "$((bad1 + bad2))" "$((err1 + err2))" "$rss"
    echo "$kind $many $one $((bad1 + bad2 + err1 + err2)) $rss $scpu $icpu $scpu1 $icpu1" >>"$results"
  done
done

python3 - "$results" <<'PY'
import statistics, sys
rows = [l.split() for l in open(sys.argv[1])]
med = lambda k, i: statistics.median(float(r[i]) for r in rows if r[0] == k)
bare_many, bare_one = med("bare", 1), med("bare", 2)
print(f"\n{'server':8} {'c32 median':>11} {'of bare':>8} {'c1 median':>10} {'of bare':>8} {'wrong+errors':>13} {'peak RSS':>9} {'CPU/answer c32: server':>23} {'instances':>10} {'c1: server':>11} {'instances':>10}")
for k in [k for k in ("bare", "relay", "relay1", "rust", "python") if any(r[0] == k for r in rows)]:
    m, o = med(k, 1), med(k, 2)
    bad = sum(int(r[3]) for r in rows if r[0] == k)
    rss = max(int(r[4]) for r in rows if r[0] == k) / 1024
    print(f"{k:8} {m:11,.0f} {m / bare_many:8.1%} {o:10,.0f} {o / bare_one:8.1%} {bad:13} {rss:7.1f} MB {med(k, 5):20.1f} us {med(k, 6):7.1f} us {med(k, 7):8.1f} us {med(k, 8):7.1f} us")
sys.exit(1 if any(int(r[3]) for r in rows) else 0)
PY
