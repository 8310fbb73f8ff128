#!/bin/sh
# Copies uPlot's built files (the version package-lock.json pins) into this directory,
# from the npm registry. The copies are committed: building scf needs no network and no
# npm. Run from anywhere: crates/scf-console/assets/vendor/update.sh
set -eu
here=$(cd "$(dirname "$0")" && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cp "$here/package.json" "$here/package-lock.json" "$work/" 2>/dev/null || cp "$here/package.json" "$work/"
cd "$work"
if [ -f package-lock.json ]; then npm ci --ignore-scripts --no-audit --no-fund; else npm install --ignore-scripts --no-audit --no-fund; fi
cp package-lock.json "$here/package-lock.json"
cp node_modules/uplot/dist/uPlot.iife.min.js node_modules/uplot/dist/uPlot.min.css "$here/"
cp node_modules/uplot/LICENSE "$here/uPlot.LICENSE"
echo "uPlot $(node -p 'require("./node_modules/uplot/package.json").version') copied to $here"
