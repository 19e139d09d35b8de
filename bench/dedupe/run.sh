#!/usr/bin/env bash
# Duplicate search over generated registry records (issue 21): wall time and peak memory of
# `loket link dedupe` (read, block, compare, train, score, cluster, write) on a list of
# DEDUPE_ROWS people records (default 1,000,000) of which 10% are noisy copies, with the
# quality (F1 against the generator's truth ids) so speed is never bought with accuracy.
#
#   bench/dedupe/run.sh                      # 1,000,000 records
#   DEDUPE_ROWS=100000 bench/dedupe/run.sh   # a quick run
#
# This measures the engine over the registry's fields as a CSV. The in-app search over the
# registry's blind-indexed fields on SQLite and PostgreSQL is not built yet (see issue 21).
set -euo pipefail
cd "$(dirname "$0")/../.."
rows=${DEDUPE_ROWS:-1000000}
out=bench/out/dedupe
mkdir -p "$out"
cargo build --release -q -p loket --bin loket
loket=target/release/loket
"$loket" link example-config --dedupe > "$out/dedupe.toml"
[ -s "$out/people-$rows.csv" ] ||
  "$loket" link generate --dedupe "$out/people-$rows.csv" --rows "$rows" --overlap 0.1 --seed 21
/usr/bin/time -v "$loket" link dedupe --config "$out/dedupe.toml" "$out/people-$rows.csv" \
  --truth truth_id --out "$out/clusters.csv" --format json \
  > "$out/summary.json" 2> "$out/time.txt"
peak_kb=$(awk -F': ' '/Maximum resident set size/ {print $2}' "$out/time.txt")
jq -r --arg rows "$rows" --arg peak "$peak_kb" '
  "records            \($rows)",
  "candidate pairs    \(.candidate_pairs)",
  "clusters           \(.clusters) (\(.clusters_with_duplicates) with duplicates)",
  "wall time          \(.wall_ms / 1000) s (engine total \(.timings_ms.total / 1000) s)",
  "peak memory        \(($peak | tonumber) / 1024 | floor) MiB",
  "quality            precision \(.evaluation.precision), recall \(.evaluation.recall), F1 \(.evaluation.f1)"
' "$out/summary.json"
