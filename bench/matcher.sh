#!/bin/sh
# Matcher figures for the README: build time, heap bytes per indicator (the matcher's own
# capacity count and a counting allocator's), single-thread lookups per second over a mix of
# listed and unknown values, and how long a change takes to become visible (apply → view) with
# 0, 1k and 50k changes already pending in the delta. Indicators are synthetic and built in
# memory, not read through a store (the store's own read rate is measured separately).
#
#   bench/matcher.sh                 # 1M and 10M indicators
#   SIZES=100000 bench/matcher.sh    # quicker
set -eu
cd "$(dirname "$0")/.."
RAMPART_MATCHER_TABLE=1 RAMPART_MATCHER_SIZES="${SIZES:-1000000,10000000}" \
    cargo bench -p rampart-matcher --bench build
