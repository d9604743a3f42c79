#!/bin/sh
# Indicator matching over ECS-like JSON lines with 1,000,000 loaded indicators, on one core,
# against serde_json's validation of the same lines (the floor). Prints a markdown table.
#
#   bench/ioc.sh                                        # 1M indicators, 1M events
#   RAMPART_IOC_EVENTS=200000 bench/ioc.sh              # quicker
set -eu
cd "$(dirname "$0")/.."
cargo bench -p rampart-detect --bench ioc --no-run >/dev/null 2>&1
binary=$(ls -t target/release/deps/ioc-* | grep -v '\.d$' | head -1)
exec taskset -c 0 "$binary" --bench
