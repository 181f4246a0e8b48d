#!/usr/bin/env bash
# One pass of the benchmark series behind BENCHMARKS.md, against a broker already started with
# `./orleansmq up --detach` (gateway 127.0.0.1:30000). Run it three times and take the medians.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
O=./orleansmq
pick() { grep -E "$1" | sed 's/│//g; s/  */ /g' | tr '\n' ' '; }
echo "== $(date -u +%FT%TZ) load: $(cut -d' ' -f1-3 /proc/loadavg)"
echo "pg-ceiling:   $($O bench pg-ceiling --rows 150000 2>&1 | pick 'throughput.*rows/s')"
echo "no-coalesce:  $($O bench produce --duration 8s --warmup 3s --no-coalesce 2>&1 | pick 'throughput.*msg/s')"
echo "pipelined:    $($O bench produce --duration 10s --warmup 3s 2>&1 | pick 'throughput.*msg/s|latency p50')"
echo "async deep:   $($O bench produce --duration 10s --warmup 3s --threads 2 --window 512 2>&1 | pick 'throughput.*msg/s')"
echo "sync64:       $($O bench produce --duration 10s --warmup 3s --sync --threads 64 2>&1 | pick 'throughput.*msg/s|latency p50')"
echo "sync1:        $($O bench produce --duration 8s --warmup 2s --sync --threads 1 2>&1 | pick 'throughput.*msg/s|latency p50|latency p99')"
echo "consume:      $($O bench consume --duration 15s 2>&1 | pick 'throughput.*msg/s')"
echo "consume 256:  $($O bench consume --duration 12s --pull-batch 256 --consume-batch 32 2>&1 | pick 'throughput.*msg/s')"
echo "e2e:          $($O bench e2e --rate 2000 --duration 15s --warmup 3s 2>&1 | pick 'end-to-end p50|end-to-end p99 |send ack p50')"
