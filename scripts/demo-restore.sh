#!/usr/bin/env bash
# Puts back, in a git checkout of Tencent's scf-demo-repo, the files its working tree lacks
# where a package registry has the same program: a snapshot that leaves out the
# repository's largest files (as the one this project works from does) otherwise turns a
# demo that ships its program into one that cannot start. Prints every missing file and
# what became of it; changes nothing that is present.
#
#   scripts/demo-restore.sh DEMOS
#
# Known sources (nothing else is reachable from CI and this machine: crates.io, PyPI, npm,
# Debian's archive):
#   */deno  Deno's binary, from npm's `deno` package (its oldest release there, 1.46.3;
#           the demo shipped a 2020 Deno 1.x, whose `Deno.env` and `fetch` the demo uses
#           the same way).
set -euo pipefail
demos=${1:?usage: scripts/demo-restore.sh DEMOS}
git -C "$demos" rev-parse --git-dir >/dev/null 2>&1 \
  || { echo "$demos is not a git checkout: cannot tell which files it lacks" >&2; exit 2; }
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT

deno_binary() {
  if [ ! -x "$scratch/npm/node_modules/deno/deno" ]; then
    npm install --prefix "$scratch/npm" --no-save --no-audit --no-fund deno@1.46.3 >/dev/null 2>&1 \
      || return 1
  fi
  echo "$scratch/npm/node_modules/deno/deno"
}

missing=0 restored=0
while IFS= read -r file; do
  missing=$((missing + 1))
  case $file in
    */deno)
      if src=$(deno_binary); then
        install -m 0755 "$src" "$demos/$file"
        restored=$((restored + 1))
        echo "restored  $file  (npm deno@1.46.3)"
      else
        echo "missing   $file  (npm install deno@1.46.3 failed)"
      fi
      ;;
    *) echo "missing   $file  (no package registry has it)" ;;
  esac
done < <(git -C "$demos" ls-files --deleted)
echo "$missing files missing from the working tree, $restored restored"
