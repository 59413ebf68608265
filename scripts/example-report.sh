#!/usr/bin/env bash
# Regenerates the example report in reports/ on this machine: results JSON, Markdown and its SVG charts.
set -euo pipefail
cd "$(dirname "$0")/.."
node bin/memcompare.cjs run preload-vs-nopreload \
  --json reports/preload-vs-nopreload.json \
  --markdown reports/preload-vs-nopreload.md
