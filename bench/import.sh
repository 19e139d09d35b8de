#!/usr/bin/env bash
# Import benchmark (issue 2): a generated participant CSV (default 1,000,000 rows) imported by
# loket — parsing, validation, NIK checks, encryption of NIK/KK/phone and blind indexes, one
# transaction — on SQLite and PostgreSQL, next to bare loads of the same file into a plain
# table: `sqlite3 .import` and PostgreSQL `COPY`. Aim: at least a quarter of the bare speed.
source "$(dirname "$0")/lib.sh"
ROWS="${ROWS:-1000000}"
need sqlite3 sqlite3
build
CSV="$(participants_csv "$ROWS")"
COLS="nik,full_name,sex,birth_date,kk,phone,email,province_code,regency_code,district_code,address,education,marital_status,destination_country,job_sector,departure_date,return_date,return_reason,training_interests,digital_literacy,has_smartphone,consent_processing,consent_sharing,consent_method"
DDL="CREATE TABLE bare ($(echo "$COLS" | sed 's/,/ TEXT, /g') TEXT)"

# loket on SQLite
rm -f "$OUT"/import.db*
"$BIN" --database-url "sqlite://$OUT/import.db" migrate >/dev/null
t0=$(now); "$BIN" --database-url "sqlite://$OUT/import.db" import participants "$CSV" >/dev/null; t1=$(now)
loket_sqlite=$(elapsed "$t0" "$t1")

# bare sqlite3 .import
rm -f "$OUT"/bare.db*
sqlite3 "$OUT/bare.db" "PRAGMA journal_mode=WAL;" "$DDL;" >/dev/null
t0=$(now); sqlite3 "$OUT/bare.db" ".mode csv" ".import --skip 1 $CSV bare"; t1=$(now)
bare_sqlite=$(elapsed "$t0" "$t1")

# loket on PostgreSQL
pg_fresh loket_bench_import
PG="$PG_BASE/loket_bench_import"
"$BIN" --database-url "$PG" migrate >/dev/null
t0=$(now); "$BIN" --database-url "$PG" import participants "$CSV" >/dev/null; t1=$(now)
loket_pg=$(elapsed "$t0" "$t1")

# bare PostgreSQL COPY
pg_fresh loket_bench_bare
psql "$PG_BASE/loket_bench_bare" -qc "$DDL" >/dev/null
t0=$(now); psql "$PG_BASE/loket_bench_bare" -qc "\\copy bare FROM '$CSV' WITH (FORMAT csv, HEADER true)" >/dev/null; t1=$(now)
bare_pg=$(elapsed "$t0" "$t1")

echo "import of $ROWS participant rows ($(du -h "$CSV" | cut -f1) CSV)"
printf "%-34s %10s %12s\n" "what" "seconds" "rows/s"
printf "%-34s %10s %12s\n" "loket import, SQLite" "$loket_sqlite" "$(rate "$ROWS" "$loket_sqlite")"
printf "%-34s %10s %12s\n" "sqlite3 .import, bare table" "$bare_sqlite" "$(rate "$ROWS" "$bare_sqlite")"
printf "%-34s %10s %12s\n" "loket import, PostgreSQL" "$loket_pg" "$(rate "$ROWS" "$loket_pg")"
printf "%-34s %10s %12s\n" "PostgreSQL COPY, bare table" "$bare_pg" "$(rate "$ROWS" "$bare_pg")"
echo "ratio loket/bare, SQLite:     $(ratio "$bare_sqlite" "$loket_sqlite")  (aim >= 0.25)"
echo "ratio loket/bare, PostgreSQL: $(ratio "$bare_pg" "$loket_pg")  (aim >= 0.25)"
