#!/usr/bin/env bash
# make bench: every benchmark with its figures, then the cache capacity run
# and the loopback load run (BENCHMARKS.md). `make soak` (SOAK=1) runs the
# load run longer: 3,000 digests by 60 jobs.
set -euo pipefail
cd "$(dirname "$0")/.."
BENCHTIME=${BENCHTIME:-1s}
if [ "${1:-}" != soak ]; then
  echo "== micro-benchmarks (go test -bench, -benchtime $BENCHTIME)"
  go test -run '^$' -bench . -benchmem -benchtime "$BENCHTIME" \
    ./translate/ ./cache/ ./proxy/controller/ ./proxy/controller/sim/ ./internal/harborclient/ 2>&1 | grep -vE '^(goos|goarch|cpu|PASS)'
  go test -run '^$' -bench 'Metadata|ReportHit|Handler|Wire' -benchmem -benchtime "$BENCHTIME" ./proxy/ 2>&1 | grep -vE '^(goos|goarch|cpu|PASS)'
  echo "== cache capacity: 10,000 simulator reports of 300 vulnerabilities in the default 256 MiB budget"
  go test -run '^$' -bench CacheCapacity -benchtime 1x ./proxy/ 2>&1 | grep -E '^Benchmark|FAIL|ok'
fi
if [ -n "${SOAK:-}" ]; then
  export LOAD_DIGESTS=${LOAD_DIGESTS:-3000} LOAD_JOBS=${LOAD_JOBS:-60}
fi
echo "== loopback load run: ${LOAD_DIGESTS:-600} digests, ${LOAD_JOBS:-30} Harbor-like jobs, scan latency 1s, 6 controller workers"
go test -run '^$' -bench LoadRun -benchtime 1x -timeout 60m ./cmd/harbor-scanner-neuvector/ 2>&1 | grep -E '^Benchmark|FAIL|ok|job '
