#!/usr/bin/env bash
# Block lists: the time from an indicator's import to the updated list being served (EDL and
# RPZ, both must hold the new value) with N indicators already listed by score, then the
# renderers' own speed on 1,000,000 mixed values (criterion).
#
#   bench/blocklist.sh [INDICATORS] [ROUNDS]     (defaults 1000000 30)
set -euo pipefail
cd "$(dirname "$0")/.."
echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs), $(free -g | awk '/Mem:/{print $2}') GiB"
RAMPART_BENCH_INDICATORS=${1:-1000000} RAMPART_BENCH_ROUNDS=${2:-30} \
  cargo bench -q -p rampart-respond --bench publish_latency
cargo bench -q -p rampart-respond --bench render -- --noplot 2>/dev/null | grep -E '^render|time:'
