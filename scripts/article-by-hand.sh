#!/usr/bin/env bash
# The seed article's procedure done by hand, as tightly as a shell allows: for each variant, start
# gunicorn, poll until it answers, `hey -n 30 -c 30`, read every process's smaps_rollup, stop and wait.
# It is the baseline `npm run bench` times `memcompare run preload-vs-nopreload --runs 1` against.
# It does not check that all workers exist, that they served, or that PSS has settled.
set -euo pipefail
app="$(cd "$(dirname "$0")/../scenarios/apps/numpy-matplotlib" && pwd)"
port="${1:-18765}"
cd "$app"
for extra in "" "--preload"; do
  # shellcheck disable=SC2086
  gunicorn --bind=127.0.0.1:$port --workers=5 --worker-class=sync $extra wsgi:application 2>/dev/null &
  master=$!
  until curl -s -o /dev/null "http://127.0.0.1:$port/"; do sleep 0.05; done
  hey -n 30 -c 30 "http://127.0.0.1:$port/" >/dev/null
  total=0
  for pid in $master $(cat /proc/$master/task/*/children); do
    kb=$(awk '/^Pss:/ {print $2}' "/proc/$pid/smaps_rollup")
    total=$((total + kb))
  done
  echo "${extra:-nopreload} total PSS ${total} kB"
  kill -INT "$master"
  wait "$master" || true
done
