#!/usr/bin/env bash
# The memory-regression gate for any CI system: install, measure every variant at the base ref and in
# the working tree on this machine, compare them, write a Markdown summary and a report.
# Exit code: 0 pass, 1 regression, 2 bad input.
#   SCENARIO     scenario file or shipped name (default scenarios/preload-vs-nopreload.json)
#   BASELINE_REF git ref to compare against (default origin/main; the clone needs its history)
#   RUNS         runs per variant and revision (default 3)
#   OUT          folder for results, report and summary (default memcompare-out)
#   CHECK_ARGS   extra options for memcompare check (e.g. "--metric pss,uss --limit 3")
set -euo pipefail
here="$(cd "$(dirname "$0")/.." && pwd)"
scenario="${SCENARIO:-$here/scenarios/preload-vs-nopreload.json}"
ref="${BASELINE_REF:-origin/main}"
out="${OUT:-memcompare-out}"
mkdir -p "$out"
bash "$here/scripts/install.sh"
node "$here/bin/memcompare.cjs" run "$scenario" --baseline-ref "$ref" --runs "${RUNS:-3}" \
  --json "$out/results.json" --markdown "$out/report.md" --quiet
# shellcheck disable=SC2086
node "$here/bin/memcompare.cjs" check "$out/results.json" --summary "$out/summary.md" ${CHECK_ARGS:-}
