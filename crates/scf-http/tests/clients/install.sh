#!/usr/bin/env bash
# Installs the official Tencent Cloud clients that scf-http's integration tests drive:
# the Python SDK and tccli into <repo>/.venv-clients, the Node.js SDK into
# crates/scf-http/tests/clients/node/node_modules. Nothing is installed system-wide.
#
# Idempotent: each half is skipped when its pinned list (requirements.txt,
# package-lock.json) has not changed since the last successful install.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/../../../.." && pwd)"
venv="$repo/.venv-clients"
node_dir="$here/node"

stamp_of() { sha256sum "$1" | cut -d' ' -f1; }

# Python SDK + tccli
want="$(stamp_of "$here/requirements.txt")"
if [[ -x "$venv/bin/python" && -f "$venv/.scf-http-stamp" && "$(cat "$venv/.scf-http-stamp")" == "$want" ]]; then
    echo "install.sh: Python clients already installed in $venv"
else
    echo "install.sh: installing the Python SDK and tccli into $venv"
    python3 -m venv "$venv"
    "$venv/bin/python" -m pip install --quiet --disable-pip-version-check -r "$here/requirements.txt"
    echo "$want" > "$venv/.scf-http-stamp"
fi

# Node.js SDK
want="$(stamp_of "$node_dir/package-lock.json")"
if [[ -d "$node_dir/node_modules" && -f "$node_dir/node_modules/.scf-http-stamp" && "$(cat "$node_dir/node_modules/.scf-http-stamp")" == "$want" ]]; then
    echo "install.sh: Node.js SDK already installed in $node_dir/node_modules"
else
    echo "install.sh: installing the Node.js SDK into $node_dir/node_modules"
    (cd "$node_dir" && npm ci --no-audit --no-fund --loglevel=error)
    echo "$want" > "$node_dir/node_modules/.scf-http-stamp"
fi

"$venv/bin/python" -c 'import tencentcloud.scf.v20180416.scf_client' >/dev/null
"$venv/bin/tccli" --version >/dev/null
(cd "$node_dir" && node -e 'require("tencentcloud-sdk-nodejs-scf")') >/dev/null
echo "install.sh: clients ready"
