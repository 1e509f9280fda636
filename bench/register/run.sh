#!/usr/bin/env bash
# bench/register/run.sh: bulk import of a Norway-size register (1.1 M units, 1 M persons, ~3 M
# ER roles) with `fullmakt admin register import`, beside a plain bulk load of the same rows
# into the same tables (sqlite3's .import, PostgreSQL's COPY) as the peer. A program that prints
# figures, not a test.
#
#   bench/register/run.sh [--scale 1.0] [--only sqlite|postgres] [--bin PATH] [--keep]
#
# PostgreSQL runs when FULLMAKT_BENCH_POSTGRES_URL (or FULLMAKT_TEST_POSTGRES_URL) names a
# server where databases may be created, e.g. postgres://postgres:secret@127.0.0.1:5432/postgres.
#
# What it measures, per database:
#   fullmakt   a fresh database (migrations and catalogue in place), then the import: validation
#              of every line and reference, then multi-row upserts in transactions of 100 000
#              rows. Seconds and rows/s come from the command's own summary; the database size
#              is read afterwards (SQLite: the file after a checkpoint; PostgreSQL:
#              pg_database_size minus that of the empty database).
#   re-import  the same file again: every row unchanged, nothing written.
#   peer       the same rows, already in the tables' column order (generate.py --csv), loaded
#              without any validation into the same schema (0002_register.sql: same keys, unique
#              indexes and references): sqlite3 .import into a staging table + INSERT … SELECT
#              (sqlite3 cannot import NULLs directly) with the same 256 MiB page cache and WAL
#              settings fullmakt uses, PostgreSQL \copy. This is the floor a
#              loader can reach on this machine; fullmakt's import does more (JSON parsing,
#              MOD11 and date checks, catalogue lookups, upsert semantics).
set -euo pipefail
cd "$(dirname "$0")/../.."

scale=1.0
only=""
bin=target/release/fullmakt
keep=0
while [ $# -gt 0 ]; do
  case "$1" in
    --scale) scale=$2; shift 2 ;;
    --only) only=$2; shift 2 ;;
    --bin) bin=$2; shift 2 ;;
    --keep) keep=1; shift ;;
    *) echo "unknown option $1" >&2; exit 1 ;;
  esac
done
[ -x "$bin" ] || { echo "build first: cargo build --release -p fullmakt (or give --bin)" >&2; exit 1; }
work=target/bench-register
mkdir -p "$work"
data="$work/norway-$scale.jsonl"
csv="$work/csv-$scale"
if [ ! -s "$data" ] || [ ! -s "$csv/roles.csv" ]; then
  echo "generating $data …" >&2
  python3 bench/register/generate.py "$data" --scale "$scale" --csv "$csv"
fi
rows=$(grep -c '' "$data")
now() { date +%s.%N; }
mib() { awk -v b="$1" 'BEGIN { printf "%.0f", b / 1048576 }'; }
field() { python3 -c "import json,sys; d=json.load(open(sys.argv[1])); print(eval(sys.argv[2], {}, d))" "$@"; }

echo "commit: $(git rev-parse --short HEAD), $(date -u +%FT%TZ)"
echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs), $(awk '/MemTotal/ {printf "%.0f GiB", $2/1048576}' /proc/meminfo), load $(cut -d' ' -f1-3 /proc/loadavg)"
echo "data: $data, $rows lines ($(mib "$(stat -c %s "$data")") MiB)"
table=()

# CPU seconds (user + system) of a command, written to the file named by $1; wall time on a
# shared machine depends on the neighbours, CPU time much less.
cpu() { local out=$1; shift; /usr/bin/time -f "%U %S" -o "$out.cpu" "$@" > "$out"; awk '{ printf "%.1f", $1 + $2 }' "$out.cpu" > "$out.cpu.total"; }

run_fullmakt() { # name url
  local name=$1 url=$2 key="$work/bench.key"
  "$bin" admin --database-url "$url" --key-file "$key" register show --party-id 1 >/dev/null 2>&1 || true  # migrate + catalogue
  cpu "$work/$name-import.json" "$bin" admin --test-data --database-url "$url" --key-file "$key" register import "$data"
  "$bin" admin --test-data --database-url "$url" --key-file "$key" register import "$data" > "$work/$name-reimport.json"
}

if [ "$only" != postgres ]; then
  db="$work/fullmakt.db"
  rm -f "$db" "$db-wal" "$db-shm"
  run_fullmakt sqlite "sqlite://$db"
  sqlite3 "$db" 'PRAGMA wal_checkpoint(TRUNCATE);' >/dev/null
  size=$(stat -c %s "$db")
  peer="$work/peer.db"
  rm -f "$peer" "$peer-wal" "$peer-shm"
  start=$(now)
  cpu "$work/peer-sqlite.out" sqlite3 "$peer" <<SQL
PRAGMA journal_mode = WAL;
PRAGMA synchronous = NORMAL;
PRAGMA foreign_keys = ON;
PRAGMA cache_size = -262144;
$(cat crates/store/migrations/0002_register.sql)
CREATE TABLE staging (party_id, party_uuid, party_type, org_number, person_identifier, name, unit_type, main_unit_party_id, is_deleted, created, last_changed);
.mode csv
.import $csv/parties.csv staging
BEGIN;
INSERT INTO parties SELECT party_id, party_uuid, party_type, NULLIF(org_number, ''), NULLIF(person_identifier, ''), name,
  NULLIF(unit_type, ''), NULLIF(main_unit_party_id, ''), is_deleted, created, last_changed FROM staging;
COMMIT;
DROP TABLE staging;
.import $csv/roles.csv er_roles
PRAGMA wal_checkpoint(TRUNCATE);
SQL
  peer_seconds=$(awk -v a="$start" -v b="$(now)" 'BEGIN { printf "%.1f", b - a }')
  peer_size=$(stat -c %s "$peer")
  table+=("| SQLite | $(field "$work/sqlite-import.json" 'f"{seconds:.1f} s ({validateSeconds:.1f} validate + {writeSeconds:.1f} write)"'), CPU $(cat "$work/sqlite-import.json.cpu.total") s | $(field "$work/sqlite-import.json" 'f"{rowsPerSecond:,.0f}"') | $(mib "$size") MiB | $(field "$work/sqlite-reimport.json" 'f"{seconds:.1f} s, {transactions} transactions"') | $peer_seconds s, CPU $(cat "$work/peer-sqlite.out.cpu.total") s ($(python3 -c "print(f'{$rows / $peer_seconds:,.0f}')") rows/s), $(mib "$peer_size") MiB |")
  [ $keep = 1 ] || rm -f "$db" "$db-wal" "$db-shm" "$peer" "$peer-wal" "$peer-shm"
fi

pg=${FULLMAKT_BENCH_POSTGRES_URL:-${FULLMAKT_TEST_POSTGRES_URL:-}}
if [ "$only" != sqlite ] && [ -n "$pg" ]; then
  prefix=${pg%/*}
  name="fullmakt_bench_$$"
  peer_name="fullmakt_bench_peer_$$"
  psql -q "$pg" -c "CREATE DATABASE $name" -c "CREATE DATABASE $peer_name"
  "$bin" admin --database-url "$prefix/$name" --key-file "$work/bench.key" register show --party-id 1 >/dev/null 2>&1 || true
  empty=$(psql -tA "$pg" -c "SELECT pg_database_size('$name')")
  run_fullmakt postgres "$prefix/$name"
  psql -q "$prefix/$name" -c "VACUUM ANALYZE" >/dev/null
  size=$(( $(psql -tA "$pg" -c "SELECT pg_database_size('$name')") - empty ))
  psql -q "$prefix/$peer_name" -f crates/store/migrations/0002_register.sql >/dev/null
  peer_empty=$(psql -tA "$pg" -c "SELECT pg_database_size('$peer_name')")
  start=$(now)
  psql -q "$prefix/$peer_name" -v ON_ERROR_STOP=1 <<SQL
BEGIN;
\copy parties FROM '$csv/parties.csv' CSV
\copy er_roles FROM '$csv/roles.csv' CSV
COMMIT;
SQL
  peer_seconds=$(awk -v a="$start" -v b="$(now)" 'BEGIN { printf "%.1f", b - a }')
  psql -q "$prefix/$peer_name" -c "VACUUM ANALYZE" >/dev/null
  peer_size=$(( $(psql -tA "$pg" -c "SELECT pg_database_size('$peer_name')") - peer_empty ))
  table+=("| PostgreSQL 15 | $(field "$work/postgres-import.json" 'f"{seconds:.1f} s ({validateSeconds:.1f} validate + {writeSeconds:.1f} write)"') | $(field "$work/postgres-import.json" 'f"{rowsPerSecond:,.0f}"') | $(mib "$size") MiB | $(field "$work/postgres-reimport.json" 'f"{seconds:.1f} s, {transactions} transactions"') | $peer_seconds s ($(python3 -c "print(f'{$rows / $peer_seconds:,.0f}')") rows/s), $(mib "$peer_size") MiB |")
  [ $keep = 1 ] || psql -q "$pg" -c "DROP DATABASE $name" -c "DROP DATABASE $peer_name"
fi

echo
first=$( [ "$only" = postgres ] && echo postgres || echo sqlite)
echo "load at the end: $(cut -d" " -f1-3 /proc/loadavg)"
echo "counts: $(field "$work/$first-import.json" "f\"{organizations['created']:,} organisations, {persons['created']:,} persons, {roles['created']:,} roles\"")"
echo
echo "| database | fullmakt import | rows/s | size | re-import (unchanged) | peer: plain bulk load of the same rows |"
echo "|---|---|---|---|---|---|"
printf '%s\n' "${table[@]}"
