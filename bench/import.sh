#!/usr/bin/env bash
# Import benchmark: generates a 1,000,000-indicator STIX 2.1 bundle and a 1,000,000-line CSV
# feed, imports each into a fresh SQLite store with the release binary, and prints a table of
# wall time, indicators per second and peak memory (max RSS).
#
#   bench/import.sh [COUNT]            (default 1000000)
set -euo pipefail
cd "$(dirname "$0")/.."
count=${1:-1000000}
out=bench/out
mkdir -p "$out"

cargo build --release -q -p rampart
cargo run --release -q -p rampart-intel --example gen_intel -- "$count" "$out/bundle.json" "$out/feed.csv"

run() { # name, then the import arguments
  local name=$1; shift
  rm -f "$out/$name.db" "$out/$name.db-wal" "$out/$name.db-shm"
  local start end
  start=$(date +%s.%N)
  /usr/bin/time -f "%M" -o "$out/$name.rss" \
    target/release/rampart --store "sqlite://$out/$name.db" intel import "$@" > "$out/$name.log"
  end=$(date +%s.%N)
  local secs rss
  secs=$(awk "BEGIN{print $end - $start}")
  rss=$(tail -1 "$out/$name.rss")
  printf "| %-10s | %9d | %7.2f s | %10.0f /s | %7.0f MiB |\n" "$name" "$count" "$secs" "$(awk "BEGIN{print $count / $secs}")" "$(awk "BEGIN{print $rss / 1024}")"
}

echo "machine: $(nproc) cores, $(free -g | awk '/Mem:/{print $2}') GiB, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs)"
echo "| input      | indicators |   wall    |    rate       | peak RSS    |"
echo "|------------|-----------:|----------:|--------------:|------------:|"
run stix "$out/bundle.json" --format stix --source bench-stix
run csv "$out/feed.csv" --format csv --source bench-csv --option header=true --option value=value --option kind_column=kind
