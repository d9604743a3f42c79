#!/usr/bin/env bash
# Sigma benchmark: every Windows rule of SigmaHQ over the decoded EVTX and Security-Datasets
# Windows events, replicated to at least EVENTS evaluations, on one core (taskset -c 0).
# Decoding and rule loading are timed apart from evaluation. Then rsigma 0.23 runs on the same
# events (written flat by the bench as NDJSON), its rate net of rule loading is printed with
# the ratio, and the two match sets (rule id -> count over the distinct events) are compared.
#
#   bench/sigma.sh [EVENTS]        (default 1000000; corpus from $RAMPART_CORPUS or ../shared/data)
#
# rsigma is taken from $RSIGMA, else .rsigma/bin/rsigma, else installed there (slow, once):
#   cargo install rsigma --version 0.23.0 --features evtx --locked --root .rsigma
set -euo pipefail
cd "$(dirname "$0")/.."
events=${1:-1000000}
corpus=${RAMPART_CORPUS:-../shared/data}
out=bench/out/sigma
mkdir -p "$out"

echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs), $(free -g | awk '/Mem:/{print $2}') GiB"
cargo build --release -q -p rampart-detect --example sigma_bench
taskset -c 0 target/release/examples/sigma_bench --corpus "$corpus" --events "$events" --export "$out" | tee "$out/rampart.md"

rsigma=${RSIGMA:-.rsigma/bin/rsigma}
if [ ! -x "$rsigma" ]; then
  echo "installing rsigma 0.23.0 into .rsigma (once; takes a while)"
  CARGO_TARGET_DIR=${TMPDIR:-/tmp}/rsigma-target \
    cargo install -q rsigma --version 0.23.0 --features evtx --locked --root .rsigma
  rsigma=.rsigma/bin/rsigma
fi

# rsigma reads one rule directory: link the same rule files the bench loaded into one.
rules="$out/rsigma-rules"
rm -rf "$rules" && mkdir -p "$rules"
n=0
while IFS= read -r file; do
  n=$((n + 1))
  ln -s "$(cd "$(dirname "$file")" && pwd)/$(basename "$file")" "$rules/$n-$(basename "$file")"
done < "$out/rules.txt"

distinct=$(wc -l < "$out/events.jsonl")
rounds=$(( (events + distinct - 1) / distinct ))
# The sysmon pipeline gives rsigma its logsource routing for Sysmon categories (EventID);
# without it every rule is tried on every event and matches across channels.
run_rsigma() { # rounds of the event file on stdin
  local n=$1
  for _ in $(seq "$n"); do cat "$out/events.jsonl"; done |
    taskset -c 0 "$rsigma" engine eval -r "$rules" -p sysmon --output-format ndjson --no-stats -q
}
start=$(date +%s.%N); run_rsigma 1 > "$out/rsigma-once.ndjson"; end=$(date +%s.%N)
once=$(awk "BEGIN{print $end - $start}")
start=$(date +%s.%N); run_rsigma "$rounds" | wc -l > "$out/rsigma-count"; end=$(date +%s.%N)
all=$(awk "BEGIN{print $end - $start}")
ours=$(awk -F'|' '/events\/s, CPU/{gsub(/[* ]/,"",$3); print $3}' "$out/rampart.md")
awk -v d="$distinct" -v r="$rounds" -v once="$once" -v all="$all" -v ours="$ours" 'BEGIN{
  net = (d * (r - 1)) / (all - once);
  printf "\n| engine | events | wall | events/s |\n|---|---:|---:|---:|\n";
  printf "| rsigma 0.23 (one core, incl. loading) | %d | %.2f s | %.0f |\n", d * r, all, d * r / all;
  printf "| rsigma 0.23 (one core, net of loading) | %d | %.2f s | %.0f |\n", d * (r - 1), all - once, net;
  printf "| rampart (one core, CPU time) | | | %s |\n", ours;
  if (ours > 0 && net > 0) printf "\nratio rampart / rsigma (net): %.1fx\n", ours / net;
}'

echo
echo "match sets over the $distinct distinct events (rule id -> count):"
python3 - "$out/matches.tsv" "$out/rsigma-once.ndjson" <<'EOF'
import collections, json, sys
ours, titles = {}, {}
for line in open(sys.argv[1]):
    rule, count, title = line.rstrip("\n").split("\t", 2)
    ours[rule] = int(count)
    titles[rule] = title
theirs = collections.Counter()
for line in open(sys.argv[2]):
    match = json.loads(line)
    theirs[match["rule_id"]] += 1
    titles.setdefault(match["rule_id"], match["rule_title"])
rules = set(ours) | set(theirs)
differ = sorted((r for r in rules if ours.get(r, 0) != theirs.get(r, 0)),
                key=lambda r: (-abs(ours.get(r, 0) - theirs.get(r, 0)), r))
print(f"rules matched: rampart {len(ours)}, rsigma {len(theirs)}; "
      f"matches: rampart {sum(ours.values())}, rsigma {sum(theirs.values())}; "
      f"rules with equal counts {len(rules) - len(differ)}, differing {len(differ)}")
if differ:
    print("| rampart | rsigma | rule |\n|---:|---:|---|")
    for rule in differ:
        print(f"| {ours.get(rule, 0)} | {theirs.get(rule, 0)} | {titles.get(rule, '')} ({rule}) |")
EOF
