#!/usr/bin/env bash
# make demo: start the controller simulator and the adapter on loopback, scan
# sample images exactly as Harbor would (metadata validation, POST /scan,
# polling with Harbor's timing), print a severity summary per image, stop.
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=./bin
SIM_ADDR=${SIM_ADDR:-127.0.0.1:18443}
API_ADDR=${API_ADDR:-127.0.0.1:18090}
OPS_ADDR=${OPS_ADDR:-127.0.0.1:18091}
work=$(mktemp -d)
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
  for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
  rm -rf "$work"
}
trap cleanup EXIT

wait_http() { # url
  for _ in $(seq 1 100); do
    curl -ksf -o /dev/null "$1" && return 0
    sleep 0.1
  done
  echo "demo: $1 did not come up" >&2; return 1
}

echo "== controller simulator on https://$SIM_ADDR (scan latency 2s, 40 vulnerabilities per image)"
"$BIN/controller-sim" -addr "$SIM_ADDR" -scan-latency 2s -vulns 40 \
  -registry-auth 'robot$demo+scanner:demo-robot-secret' >"$work/sim.out" 2>"$work/sim.log" &
pids+=($!)
wait_http "https://$SIM_ADDR/sim/stats"

echo "== adapter on http://$API_ADDR (pass-through: Harbor is registered with a NeuVector user)"
SCANNER_API_ADDR=$API_ADDR OPS_ADDR=$OPS_ADDR CONTROLLER_URL="https://$SIM_ADDR" \
  CONTROLLER_TLS_INSECURE=true CVEDB_REFRESH_INTERVAL=5s LOG_LEVEL=info \
  "$BIN/harbor-scanner-neuvector" serve >"$work/adapter.log" 2>&1 &
pids+=($!)
wait_http "http://$OPS_ADDR/healthz"

fail_digest=sha256:0000000000000000000000000000000000000000000000000000000000000bad
curl -ksf -X POST "https://$SIM_ADDR/sim/faults" \
  -d "{\"digest\":\"$fail_digest\",\"code\":26,\"message\":\"Image not found\"}" >/dev/null

echo "== scanning as Harbor would"
set +e
HARBOR_SCANNER_CREDENTIAL='admin:admin' "$BIN/harbor-scanner-neuvector" check \
  --url "http://$API_ADDR" --auth basic \
  --registry http://core:8080 --registry-user 'robot$demo+scanner' --registry-password demo-robot-secret \
  --image library/alpine@sha256:7a6d2a2c1f2f9c4f8a1f0b1c3b4d5e6f7a8b9c0d1e2f3a4b5c6d7e8f9a0b1c2d \
  --image library/nginx@sha256:1b2c3d4e5f60718293a4b5c6d7e8f9a0b1c2d3e4f5a6b7c8d9e0f1a2b3c4d5e6 \
  --image library/postgres@sha256:9f8e7d6c5b4a39281706f5e4d3c2b1a09f8e7d6c5b4a39281706f5e4d3c2b1a0 \
  --image library/missing@$fail_digest \
  --sbom
rc=$?
echo
echo "== the same image again, as Harbor's next scan would ask: answered from the cache, no controller scan"
HARBOR_SCANNER_CREDENTIAL='admin:admin' "$BIN/harbor-scanner-neuvector" check \
  --url "http://$API_ADDR" --auth basic \
  --registry http://core:8080 --registry-user 'robot$demo+scanner' --registry-password demo-robot-secret \
  --image library/alpine@sha256:7a6d2a2c1f2f9c4f8a1f0b1c3b4d5e6f7a8b9c0d1e2f3a4b5c6d7e8f9a0b1c2d | grep -E '^(✓|✗)'
rc2=${PIPESTATUS[0]}
set -e
[ "$rc2" -eq 0 ] || rc=2
echo
echo "== simulator counters (one controller scan per image, for a vulnerability job, an SBOM job and a rescan):"
curl -ks "https://$SIM_ADDR/sim/stats"; echo
echo "== adapter metrics (excerpt):"
curl -s "http://$OPS_ADDR/metrics" | grep -E '^harbor_scanner_neuvector_(scans_total|cache_(hits|misses)_total)' || true
# The last image is meant to fail (the simulator says "Image not found"): the
# demo shows Harbor getting that message. Any other failure is a real one.
exit $(( rc > 1 ? rc : 0 ))
