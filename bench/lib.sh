# Shared helpers for the benchmark scripts (sourced).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
OUT="$ROOT/bench/out"
BIN="$ROOT/target/release/loket"
PG_BASE="${LOKET_BENCH_POSTGRES:-postgres://postgres@127.0.0.1:5432}"
mkdir -p "$OUT"
# A fixed key: benchmark data is synthetic.
export LOKET_DATA_KEY="4242424242424242424242424242424242424242424242424242424242424242"

build() { (cd "$ROOT" && cargo build --release -q -p loket); }
now() { date +%s.%N; }
elapsed() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", b - a }'; }
rate() { awk -v n="$1" -v s="$2" 'BEGIN { printf "%.0f", n / s }'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", a / b }'; }
need() { command -v "$1" >/dev/null 2>&1 || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$2" >/dev/null; }; }
pg_fresh() { psql "$PG_BASE/postgres" -qc "DROP DATABASE IF EXISTS $1 WITH (FORCE)" -c "CREATE DATABASE $1" >/dev/null; }

# participants-N.csv in loket's import format, generated once (deterministic).
participants_csv() {
  local rows="$1" csv="$OUT/participants-$1.csv"
  [ -s "$csv" ] || "$BIN" demo --participants "$rows" --csv "$csv" >/dev/null
  echo "$csv"
}
