#!/usr/bin/env bash
# loket vs Splink 5 on the same generated lists (issue 7).
#
#   bench/linkage/run.sh [LEFT_ROWS] [RIGHT_ROWS]     default 100000 1000000
#   bench/linkage/run.sh 1000000 10000000             the large run
#
# Env: SEED (7), OVERLAP (0.08), SPLINK=0 to skip Splink, SPLINK_MEMORY_LIMIT (DuckDB limit,
# e.g. 16GB), CARGO_TARGET_DIR (default: <repo>/target).
set -euo pipefail

LEFT_ROWS=${1:-100000}
RIGHT_ROWS=${2:-1000000}
SEED=${SEED:-7}
OVERLAP=${OVERLAP:-0.08}
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
OUT=$ROOT/bench/out/linkage
mkdir -p "$OUT"
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$ROOT/target}

echo "== building loket (release)" >&2
(cd "$ROOT" && cargo build --release -q -p loket --bin loket)
LOKET=$CARGO_TARGET_DIR/release/loket

VENV=$ROOT/bench/.venv
if [ "${SPLINK:-1}" != 0 ]; then
  if ! "$VENV/bin/python" -c 'import splink, sys; sys.exit(0 if splink.__version__.startswith("5") else 1)' 2>/dev/null; then
    echo "== installing Splink 5 into $VENV" >&2
    python3 -m venv "$VENV"
    "$VENV/bin/pip" install -q --upgrade pip
    "$VENV/bin/pip" install -q "splink>=5,<6"
  fi
fi

L=$OUT/left_${LEFT_ROWS}_s${SEED}.csv
R=$OUT/right_${RIGHT_ROWS}_s${SEED}.csv
if [ ! -s "$L" ] || [ ! -s "$R" ]; then
  echo "== generating $LEFT_ROWS x $RIGHT_ROWS (overlap $OVERLAP, seed $SEED)" >&2
  "$LOKET" link generate --left-rows "$LEFT_ROWS" --right-rows "$RIGHT_ROWS" \
    --overlap "$OVERLAP" --seed "$SEED" --left "$L" --right "$R" >&2
fi
CFG=$OUT/config.toml
"$LOKET" link example-config > "$CFG"

# time_of FILE -> "seconds max_rss_kb" from /usr/bin/time -v output
time_of() {
  awk -F': ' '
    /Elapsed \(wall clock\) time/ { n = split($2, p, ":"); s = 0; for (i = 1; i <= n; i++) s = s * 60 + p[i]; wall = s }
    /Maximum resident set size/ { rss = $2 }
    END { printf "%.3f %d\n", wall, rss }' "$1"
}

# Warm the page cache so that the first tool does not pay for the disk alone.
cat "$L" "$R" > /dev/null

echo "== floor: read + CSV-parse both files (loket link run --read-only)" >&2
/usr/bin/time -v "$LOKET" link run --config "$CFG" --read-only "$L" "$R" > "$OUT/floor.txt" 2> "$OUT/floor.time"
read -r FLOOR_S FLOOR_KB < <(time_of "$OUT/floor.time")

echo "== loket link run" >&2
/usr/bin/time -v "$LOKET" link run --config "$CFG" "$L" "$R" --out "$OUT/loket_pairs.csv" \
  > "$OUT/loket.txt" 2> "$OUT/loket.time"
read -r LOKET_S LOKET_KB < <(time_of "$OUT/loket.time")
cat "$OUT/loket.txt" >&2
LOKET_Q=$(awk '/^precision /{print $2, $4, $6}' "$OUT/loket.txt")
read -r LOKET_P LOKET_R LOKET_F1 <<< "$LOKET_Q"
LOKET_READ=$(sed -n 's/^timings: read+normalise \([0-9]*\) ms.*/\1/p' "$OUT/loket.txt")

SPLINK_S=- SPLINK_KB=0 SPLINK_P=- SPLINK_R=- SPLINK_F1=- SPLINK_NOTE=""
if [ "${SPLINK:-1}" != 0 ]; then
  echo "== Splink (DuckDB backend)" >&2
  ARGS=()
  [ -n "${SPLINK_MEMORY_LIMIT:-}" ] && ARGS+=(--memory-limit "$SPLINK_MEMORY_LIMIT")
  if /usr/bin/time -v "$VENV/bin/python" "$ROOT/bench/linkage/splink_run.py" "$L" "$R" \
      --out "$OUT/splink_pairs.csv" "${ARGS[@]}" > "$OUT/splink.json" 2> "$OUT/splink.time"; then
    read -r SPLINK_S SPLINK_KB < <(time_of "$OUT/splink.time")
    cat "$OUT/splink.json" >&2
    read -r SPLINK_P SPLINK_R SPLINK_F1 < <("$VENV/bin/python" -c '
import json, sys; j = json.loads(open(sys.argv[1]).read().strip().splitlines()[-1])
print("%.4f %.4f %.4f" % (j["precision"], j["recall"], j["f1"]))' "$OUT/splink.json")
  else
    read -r SPLINK_S SPLINK_KB < <(time_of "$OUT/splink.time")
    SPLINK_NOTE="Splink FAILED (exit status, see $OUT/splink.time): $(grep -v '^\s' "$OUT/splink.time" | tail -3 | tr '\n' ' ')"
  fi
fi

mb() { awk -v k="$1" 'BEGIN { printf "%.0f", k / 1024 }'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (a + 0 > 0 && b + 0 > 0) printf "%.1f", a / b; else printf "-" }'; }

echo
echo "record linkage, $LEFT_ROWS x $RIGHT_ROWS generated rows (overlap $OVERLAP, seed $SEED), $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg)"
printf '%-28s %12s %14s %10s %10s %10s\n' tool "wall (s)" "peak RSS (MB)" precision recall F1
printf '%-28s %12s %14s %10s %10s %10s\n' "loket link run" "$LOKET_S" "$(mb "$LOKET_KB")" "$LOKET_P" "$LOKET_R" "$LOKET_F1"
printf '%-28s %12s %14s %10s %10s %10s\n' "Splink $("$VENV/bin/python" -c 'import splink; print(splink.__version__)' 2>/dev/null || echo '?') (DuckDB)" "$SPLINK_S" "$(mb "$SPLINK_KB")" "$SPLINK_P" "$SPLINK_R" "$SPLINK_F1"
printf '%-28s %12s %14s\n' "floor: read+parse (loket)" "$FLOOR_S" "$(mb "$FLOOR_KB")"
echo "Splink / loket: time x$(ratio "$SPLINK_S" "$LOKET_S"), memory x$(ratio "$SPLINK_KB" "$LOKET_KB")"
echo "loket / floor: time x$(ratio "$LOKET_S" "$FLOOR_S") (loket's own read+normalise stage: ${LOKET_READ} ms)"
[ -n "$SPLINK_NOTE" ] && echo "$SPLINK_NOTE"
exit 0
