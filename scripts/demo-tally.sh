#!/usr/bin/env bash
# Runs `scf invoke` on the first function of every demo project under DEMOS (a copy of
# Tencent's scf-demo-repo, kept outside this repository) with the event {}, and tallies
# by runtime whether the function ran and, when it did not, why.
#
#   scripts/demo-tally.sh DEMOS [SCF] [OUT]
#
# DEMOS: a directory of demo projects, one per subdirectory, each described by a
#   template.yaml or a serverless.yml/serverless.yaml (the first one found, in that
#   order, as `scf` looks for them).
# SCF: the scf binary (default: target/debug/scf of this checkout).
# OUT: where the per-demo lines go (default: a temporary file, printed at the end).
#
# A demo "runs" when its code was reached: it returned (ok) or failed inside its own
# code (a 430 user error in the handler or in its module's own top-level code, or a 433
# timeout), as an event it was not written for, or configuration left to fill in, makes
# most demos do. Anything before that (a project refused, a runtime missing, a module
# that cannot be loaded: a syntax error, an import error, a dependency that fails to
# load; a handler not found, a crash at start) is a cause, named on its line; when DEMOS
# is a git checkout whose working tree lacks files of that demo (see
# scripts/demo-restore.sh), the cause is those files. Needs python3 with PyYAML (for the
# function names).
set -u
demos=${1:?usage: scripts/demo-tally.sh DEMOS [SCF] [OUT]}
here=$(cd "$(dirname "$0")/.." && pwd)
scf=$(realpath "${2:-$here/target/debug/scf}")
out=${3:-$(mktemp)}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
[ -x "$scf" ] || { echo "no scf binary at $scf (cargo build -p scf-cli)" >&2; exit 2; }
python3 -c 'import yaml' 2>/dev/null || { echo "python3 with PyYAML is needed (apt-get install python3-yaml)" >&2; exit 2; }

: > "$out"
for dir in "$demos"/*/; do
  dir=${dir%/}
  demo=$(basename "$dir")
  file=
  for f in template.yaml serverless.yml serverless.yaml; do
    if [ -f "$dir/$f" ]; then file=$f; break; fi
  done
  [ -n "$file" ] || continue
  # runtime<TAB>function name, from the project file.
  meta=$(python3 - "$dir/$file" <<'PY'
import sys, yaml
try:
    doc = yaml.safe_load(open(sys.argv[1], encoding="utf-8")) or {}
except Exception as e:
    print("?\t?"); sys.exit()
if "Resources" in doc:
    glob = ((doc.get("Globals") or {}).get("Function") or {})
    for ns in (doc.get("Resources") or {}).values():
        for k, v in (ns or {}).items():
            if k != "Type" and isinstance(v, dict):
                rt = (v.get("Properties") or {}).get("Runtime") or glob.get("Runtime") or "?"
                print(f"{rt}\t{k}"); sys.exit()
    print("?\t?")
else:
    inputs = doc.get("inputs") or {}
    print(f"{inputs.get('runtime') or '?'}\t{inputs.get('name') or '?'}")
PY
)
  runtime=${meta%%$'\t'*}
  name=${meta#*$'\t'}
  case $(echo "$runtime" | tr 'A-Z' 'a-z') in
    nodejs*) family="Node.js" ;;
    python3*) family="Python 3" ;;
    python2*) family="Python 2.7" ;;
    php*) family="PHP" ;;
    go*) family="Go" ;;
    java*) family="Java" ;;
    customruntime) family="Custom Runtime" ;;
    *) family="other ($runtime)" ;;
  esac
  (cd "$dir" && timeout 120 "$scf" invoke -t "$file" "$name" --event '{}' --output json --log \
      --data-dir "$work/$demo" >"$work/stdout" 2>"$work/stderr")
  verdict=$(python3 - "$work/stdout" "$work/stderr" <<'PY'
import json, re, sys
out = open(sys.argv[1], encoding="utf-8", errors="replace").read()
err = open(sys.argv[2], encoding="utf-8", errors="replace").read()
try:
    r = json.loads(out)
except Exception:
    line = next((l for l in err.splitlines() if l.startswith("error:")), err.strip()[:200] or "no output")
    line = re.sub(r"^error: ", "", line)
    # One cause per kind: no file positions, keys or function names.
    line = re.sub(r"^\S+:\d+:\d+: ", "", line)
    line = re.sub(r"^[\w.\[\]-]+: function ", "function ", line)
    line = re.sub(r"function [\w-]+", "function F", line)
    line = re.sub(r"handler \"[^\"]*\"", "handler H", line)
    line = re.sub(r"\(looked for [^)]*\)", "", line)
    line = re.sub(r"; \w+ defines \w+: set the handler to [\w.]+", " (another file defines it)", line)
    print("refused\t" + line[:300]); sys.exit()
text = (r.get("ErrMsg") or "") + "\n" + (r.get("Log") or "")
if r.get("InvokeResult") == 0:
    print("ran\tok"); sys.exit()
try:
    e = json.loads(r.get("ErrMsg") or "{}")
except Exception:
    e = {}
status = e.get("statusCode")
msg = (e.get("errorMessage") or "")[:160]
if status == 437:
    print("not run\t437 the handler's file or function is not in the code"); sys.exit()
m = re.search(r"No module named '?([\w.]+)'?|Cannot find module '([^']+)'", text)
if m:
    print("not run\tmissing module " + (m.group(1) or m.group(2))); sys.exit()
# Raised while the code was loaded (a Python module's top level, a Node.js `require`),
# before the handler: a module that cannot be loaded (a syntax error, an import error, a
# dependency that fails to load) has not run; the function's own top-level code raising
# (a placeholder left in it, configuration it reads) has run, as it would on SCF.
trace = e.get("stackTrace") or ""
lines = trace.strip().splitlines()
last = lines[-1].strip() if lines else ""
frame = re.search(r'File "[^"]*", line \d+, in (\S+)', trace)
at = re.search(r"^\s*at .*$", trace, re.M)
python = re.search(r'^\s*File "[^"]*", line \d+', trace, re.M)
if status == 430 and python and (frame is None or frame.group(1) == "<module>"):
    kind = re.split(r"[:(\s]", last, maxsplit=1)[0]
    if kind in ("SyntaxError", "IndentationError", "TabError", "ImportError", "ModuleNotFoundError"):
        print(f"not run\tthe code cannot be loaded ({kind})"); sys.exit()
    print("ran\terror in its top-level code"); sys.exit()
if status == 430 and "Module._compile" in trace:
    if at and "/node_modules/" in at.group(0):
        print("not run\tthe code cannot be loaded (a dependency in node_modules fails to load)"); sys.exit()
    print("ran\terror in its top-level code"); sys.exit()
if status == 433 or msg == "time out":
    print("ran\ttime out"); sys.exit()
if status == 430 or "user code exception" in msg:
    print("ran\terror in the handler"); sys.exit()
print(f"not run\t{status} {msg}".replace("\n", " "))
PY
)
  # A demo that did not run because its copy lacks files the demo ships (a snapshot that
  # leaves out the repository's largest files; scripts/demo-restore.sh puts back what a
  # registry has) is counted as not run with those files named, when its error names one.
  if [ "${verdict%%$'\t'*}" != ran ] && lacks=$(git -C "$demos" ls-files --deleted -- "$demo/" 2>/dev/null); then
    named=$(echo "$lacks" | while IFS= read -r f; do
      # The file's name without a version tail (libx.so.2.47.0 is loaded as libx.so.2).
      key=$(basename "$f" | sed -E 's/(\.[0-9]+)+$//')
      [ -n "$f" ] && grep -qwF -- "$key" "$work/stdout" "$work/stderr" && echo "${f#"$demo"/}"
    done | paste -sd, -)
    [ -z "$named" ] || verdict="not run	the copy lacks files the demo ships ($named)"
  fi
  printf '%s\t%s\t%s\t%s\n' "$family" "$demo" "$runtime" "$verdict" >> "$out"
done

echo "per demo: $out"
python3 - "$out" <<'PY'
import collections, sys
rows = [l.rstrip("\n").split("\t") for l in open(sys.argv[1], encoding="utf-8") if l.strip()]
by = collections.OrderedDict()
for family, demo, runtime, verdict, reason in (r + [""] * (5 - len(r)) for r in rows):
    by.setdefault(family, []).append((verdict, reason))
total_run = 0
for family, items in sorted(by.items(), key=lambda kv: -len(kv[1])):
    ran = sum(1 for v, _ in items if v == "ran")
    total_run += ran
    print(f"{family}: {ran} of {len(items)} run")
    causes = collections.Counter(r if v != "ran" else "ran: " + r for v, r in items)
    for cause, n in causes.most_common():
        print(f"  {n:3d}  {cause}")
print(f"total: {total_run} of {len(rows)} run")
PY
