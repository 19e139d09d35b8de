#!/usr/bin/env bash
# Lookup benchmark (issue 2): GET /api/v1/participants?nik= over HTTP with ROWS participants
# (default 1,000,000; loaded by import.sh), 64 connections, random NIKs, on SQLite and
# PostgreSQL — next to /livez, a route that does no work (the framework's ceiling).
# Each lookup authenticates the token, finds the NIK through its blind index, decrypts the
# record and writes an audit entry.
source "$(dirname "$0")/lib.sh"
ROWS="${ROWS:-1000000}"
DURATION="${DURATION:-15s}"
need wrk wrk
build
CSV="$(participants_csv "$ROWS")"
tail -n +2 "$CSV" | cut -d, -f1 | shuf -n 20000 --random-source=<(yes) > "$OUT/niks.txt"
[ -s "$OUT/import.db" ] || { echo "run bench/import.sh first (it loads the $ROWS rows)"; exit 1; }

run_wrk() { # url path -> "rps p50 p99"
  NIK_FILE="$OUT/niks.txt" TOKEN="$TOKEN" wrk -t2 -c64 -d"$DURATION" --latency ${2:+-s "$2"} "$1" > "$OUT/wrk.txt"
  local rps p50 p99
  rps=$(awk '/Requests\/sec/ {print $2}' "$OUT/wrk.txt")
  p50=$(awk '$1=="50%" {print $2}' "$OUT/wrk.txt")
  p99=$(awk '$1=="99%" {print $2}' "$OUT/wrk.txt")
  if grep -q "Non-2xx" "$OUT/wrk.txt"; then echo "non-2xx responses:" >&2; grep "Non-2xx" "$OUT/wrk.txt" >&2; fi
  echo "$rps $p50 $p99"
}

bench_backend() { # name url
  local name="$1" url="$2" port=18080
  "$BIN" --database-url "$url" user add --username bench.admin --role admin --password-stdin <<< "bench-password-1234" >/dev/null 2>&1 || true
  TOKEN=$("$BIN" --database-url "$url" token create --username bench.admin --label bench)
  "$BIN" --database-url "$url" serve --bind "127.0.0.1:$port" > "$OUT/serve.log" 2>&1 &
  local pid=$!
  for _ in $(seq 1 50); do curl -sf "http://127.0.0.1:$port/livez" >/dev/null && break; sleep 0.2; done
  read -r l_rps l_p50 l_p99 <<< "$(run_wrk "http://127.0.0.1:$port/" "$ROOT/bench/lookup.lua")"
  read -r c_rps c_p50 c_p99 <<< "$(run_wrk "http://127.0.0.1:$port/livez")"
  kill "$pid"; wait "$pid" 2>/dev/null || true
  printf "%-12s %-22s %10s %10s %10s\n" "$name" "lookup by NIK" "$l_rps" "$l_p50" "$l_p99"
  printf "%-12s %-22s %10s %10s %10s\n" "$name" "/livez (ceiling)" "$c_rps" "$c_p50" "$c_p99"
  echo "$name: lookup / ceiling = $(ratio "$l_rps" "$c_rps")"
}

echo "lookup by NIK over HTTP, $ROWS participants, 64 connections, $DURATION each"
printf "%-12s %-22s %10s %10s %10s\n" "backend" "route" "req/s" "p50" "p99"
bench_backend sqlite "sqlite://$OUT/import.db"
if psql "$PG_BASE/loket_bench_import" -qtc "SELECT 1" >/dev/null 2>&1; then
  bench_backend postgres "$PG_BASE/loket_bench_import"
fi
