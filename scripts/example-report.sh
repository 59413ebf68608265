#!/usr/bin/env bash
# Regenerates the example reports in reports/ on this machine: results JSON, Markdown and SVG charts of
# the seed comparison, its capacity sweep, copy-on-write erosion under a soak, and reload staleness.
set -euo pipefail
cd "$(dirname "$0")/.."
mc() { node bin/memcompare.cjs "$@" --quiet; }
mc run preload-vs-nopreload --json reports/preload-vs-nopreload.json --markdown reports/preload-vs-nopreload.md
mc sweep preload-vs-nopreload --workers 1,2,4,8 --runs 1 --budget 2GiB --json reports/sweep.json --markdown reports/sweep.md
mc run preload-gc-freeze --runs 1 --json reports/preload-gc-freeze.json --markdown reports/preload-gc-freeze.md
mc run reload-staleness --json reports/reload-staleness.json --markdown reports/reload-staleness.md
