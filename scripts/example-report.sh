#!/usr/bin/env bash
# Regenerates every example report in reports/ on this machine, each as results JSON, Markdown (SVG
# charts beside it) and one offline HTML file: the seed comparison, its capacity sweep, copy-on-write
# erosion under a soak, reload staleness, PHP-FPM with and without opcache, Celery, and worker
# lifetime with its replacements. test/unit/export/examples.test.ts fails when one is older than the
# code's results schema or chart version. Needs what scripts/install.sh installs (Celery's scenario
# starts its own redis-server on a free loopback port).
set -euo pipefail
cd "$(dirname "$0")/.."
mc() { node bin/memcompare.cjs "$@" --quiet; }
out() { echo "--json reports/$1.json --markdown reports/$1.md --html reports/$1.html"; }
# shellcheck disable=SC2046
{
  mc run preload-vs-nopreload $(out preload-vs-nopreload)
  mc sweep preload-vs-nopreload --workers 1,2,4,8 --runs 1 --budget 2GiB $(out sweep)
  mc run preload-gc-freeze --runs 1 $(out preload-gc-freeze)
  mc run reload-staleness $(out reload-staleness)
  mc run php-fpm-opcache $(out php-fpm-opcache)
  mc run worker-lifetime $(out worker-lifetime)
  mc run celery-import-in-parent $(out celery-import-in-parent)
}
