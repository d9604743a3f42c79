#!/usr/bin/env bash
# HTTP load test: a release `rampart serve` on loopback with detection running (the SigmaHQ
# rules and the indicators of real feed samples), sustained event ingest over
# `POST /api/v1/events` from several writers while readers query the API. Prints the load
# generator's table (events/s accepted; p50/p99/max of ingest requests and of API reads) and
# the detection counters after the run.
#
#   bench/load.sh [SECONDS] [WRITERS] [BATCH]     (defaults 30 4 500; corpus from $RAMPART_CORPUS or ../shared/data)
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-30}
writers=${2:-4}
batch=${3:-500}
corpus=$(cd "${RAMPART_CORPUS:-../shared/data}" && pwd)
out=$PWD/bench/out/load
rm -rf "$out" && mkdir -p "$out"

echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs), $(free -g | awk '/Mem:/{print $2}') GiB"
cargo build --release -q -p rampart --bin rampart
cargo bench -q -p rampart --bench load --no-run 2>/dev/null
rampart=$PWD/target/release/rampart
cat > "$out/rampart.toml" <<TOML
data_dir = "$out/data"
[detect]
rule_packs = [{ name = "sigmahq", path = "$corpus/sigma/rules" }]
[server]
listen = "127.0.0.1:0"
TOML
export RAMPART_CONFIG=$out/rampart.toml RAMPART_STORE=sqlite://$out/rampart.db

# The real feed samples, and 100,000 generated C2 domains so that the matcher has a realistic size.
"$rampart" intel import "$corpus/feeds/blocklistde/imap.txt" --source blocklistde --reliability B > /dev/null
"$rampart" intel import "$corpus/feeds/dshield/suspiciousdomains_High.txt" --source dshield --reliability B > /dev/null
"$rampart" intel import "$corpus/feeds/abusech-urlhaus/urlhaus.txt" --source urlhaus --reliability B > /dev/null
"$rampart" intel import "$corpus/feeds/abusech-feodotracker/feodoips.txt" --source feodo --reliability A > /dev/null
seq 1 100000 | awk '{printf "c2-%06d.bad-example.net\n", $1}' > "$out/generated.txt"
"$rampart" intel import "$out/generated.txt" --format text --source generated --reliability B > /dev/null
# A share of the events (--hit-ratio) carries one of these values.
"$rampart" intel export --format text --min-score 0 -o "$out/values.txt"
echo "indicators exported for the events: $(wc -l < "$out/values.txt")"
printf 'load-test-password-%s\n' "$RANDOM$RANDOM" | "$rampart" admin create-user loadtest --role admin > /dev/null
ingest=$("$rampart" admin token create --user loadtest --name load-ingest --role ingest --expires 1d)
read=$("$rampart" admin token create --user loadtest --name load-read --role read_only --expires 1d)

"$rampart" serve 2> "$out/serve.log" &
serve=$!
trap 'kill $serve 2>/dev/null || true' EXIT
url=
for _ in $(seq 1 600); do
  url=$(sed -n 's/^rampart serve: http listening on //p' "$out/serve.log")
  [ -n "$url" ] && grep -q "rampart serve: detection on" "$out/serve.log" && break
  kill -0 $serve 2>/dev/null || { cat "$out/serve.log"; exit 1; }
  sleep 0.5
done
[ -n "$url" ] || { echo "serve did not start"; cat "$out/serve.log"; exit 1; }
echo "server: $url ($(grep -m1 'Sigma rules compiled' "$out/serve.log" | sed 's/^rampart serve: //'))"

bench_bin=$(ls -t target/release/deps/load-* | grep -v '\.d$' | head -1)
"$bench_bin" --url "$url" --ingest-token "$ingest" --read-token "$read" \
  --indicators "$out/values.txt" --seconds "$seconds" --writers "$writers" --batch "$batch" | tee "$out/load.md"

sleep 2
echo
echo "after the run:"
status="$out/data/detect-status.json"
[ -f "$status" ] && jq -c "{received: .stream.received, processed: .stream.processed, matched: .stream.matched, alerts_new: .stream.alerts_new, dropped: .stream.dropped, queued: .stream.queued, indicators: .matcher.base_entries}" "$status" 2>/dev/null || true
curl -s -H "Authorization: Bearer $read" "$url/api/v1/alerts?limit=1000" | jq '.items | length | "alerts in the first page: \(.)"' 2>/dev/null || true
kill -TERM $serve; wait $serve || true
trap - EXIT
