#!/usr/bin/env bash
# The memory-regression gate for any CI system: install, measure this change, compare it with the
# committed baseline, write a Markdown summary and a report. Exit code: 0 pass, 1 regression, 2 bad input.
#   SCENARIO   scenario name or file (default preload-vs-nopreload)
#   BASELINE   committed baseline results (default reports/baseline.json)
#   OUT        folder for results, report and summary (default memcompare-out)
#   CHECK_ARGS extra options for memcompare check (e.g. "--metric pss,uss --limit 3")
set -euo pipefail
cd "$(dirname "$0")/.."
scenario="${SCENARIO:-preload-vs-nopreload}"
baseline="${BASELINE:-reports/baseline.json}"
out="${OUT:-memcompare-out}"
mkdir -p "$out"
bash scripts/install.sh
node bin/memcompare.cjs run "$scenario" --json "$out/current.json" --markdown "$out/report.md" --quiet
# shellcheck disable=SC2086
node bin/memcompare.cjs check "$out/current.json" --baseline "$baseline" --summary "$out/summary.md" ${CHECK_ARGS:-}
