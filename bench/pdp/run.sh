#!/usr/bin/env bash
# bench/pdp/run.sh: HTTP decisions of `fullmakt serve` on a generated dataset (issue 3 (b) and
# (c)). A program that prints figures, not a test: exit 0 when every run was clean, 2 when a run
# is flagged (non-200 responses, decisions that were neither Permit nor NotApplicable, socket
# errors), 1 on a setup failure.
#
#   bench/pdp/run.sh --db PATH [--scale N] [--connections "1 8 32 64"] [--duration S]
#                    [--warmup S] [--repeat N] [--requests N] [--bin PATH] [--bench-bin PATH]
#                    [--server-cpus LIST] [--load-cpus LIST]
#   defaults: --scale 1 --connections "1 8 32 64" --duration 10 --warmup 5 --repeat 2
#             --requests 100000 --server-cpus 0 --load-cpus 1; binaries from target/release (build them first, README.md)
#
# --db is an SQLite file made by `pdp-bench generate` with the same --scale. The run adds a
# scope, a client and replay rows to it (that is what a server does), nothing that changes the
# decisions.
#
# What one run does:
#   1. writes the request sequence (`pdp-bench requests`, the same one `inproc` decides) as JSON
#      lines; creates an RSA key, the scope altinn:authorization/authorize, grants it to the
#      vendor organisation and creates a client with `fullmakt admin`.
#   2. starts `fullmakt serve` pinned to CPU 0 (--server-cpus) and measures the time from the exec to the first
#      /health 200 and to the first decision answered (token fetched with a grant signed before
#      the start, then one authorize call): the "time to a ready index" of (c).
#   3. wrk (one thread, pinned to CPU 1) at each connection count, --repeat times, --duration s
#      each, after one --warmup s run; a fresh access token before each run.
#   4. the server's peak RSS (VmHWM) and final RSS (VmRSS) from /proc, and a Markdown summary.
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(cd "$HERE/../.." && pwd)
DB=""
SCALE=1
CONNECTIONS="1 8 32 64"
DURATION=10
WARMUP=5
REPEAT=2
NREQ=100000
BIN=$REPO/target/release/fullmakt
BENCH_BIN=$REPO/target/release/pdp-bench
PORT=18451
SERVER_CPU=0
LOAD_CPU=1
SCOPE=altinn:authorization/authorize
SCOPE_OWNER=991825827   # Digdir owns altinn: scopes
VENDOR=991825827        # the organisation whose client asks (any organisation with the scope)

while [ $# -gt 0 ]; do
  case "$1" in
    --db) DB=$2; shift 2 ;;
    --scale) SCALE=$2; shift 2 ;;
    --connections) CONNECTIONS=$2; shift 2 ;;
    --duration) DURATION=$2; shift 2 ;;
    --warmup) WARMUP=$2; shift 2 ;;
    --repeat) REPEAT=$2; shift 2 ;;
    --requests) NREQ=$2; shift 2 ;;
    --bin) BIN=$(realpath "$2"); shift 2 ;;
    --bench-bin) BENCH_BIN=$(realpath "$2"); shift 2 ;;
    --server-cpus) SERVER_CPU=$2; shift 2 ;;   # e.g. 0,1: the server on both cores, sharing one with wrk
    --load-cpus) LOAD_CPU=$2; shift 2 ;;
    -h|--help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
    *) echo "unknown argument: $1 (see --help)" >&2; exit 1 ;;
  esac
done
die() { echo "run.sh: $*" >&2; exit 1; }
[ -n "$DB" ] && [ -f "$DB" ] || die "--db must name a database made by pdp-bench generate"
DB=$(realpath "$DB")
[ -x "$BIN" ] || die "no fullmakt binary at $BIN (cargo build --release -p fullmakt)"
[ -x "$BENCH_BIN" ] || die "no pdp-bench binary at $BENCH_BIN (cd bench/pdp && cargo build --release)"
[ "$(nproc)" -ge 2 ] || die "needs 2 CPUs"
command -v wrk >/dev/null || { apt-get update -qq; DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk >/dev/null; }
for t in curl openssl python3 taskset; do command -v $t >/dev/null || die "$t is required"; done
if ss -Htln "sport = :$PORT" | grep -q .; then die "port $PORT is already in use"; fi

WORK=$(mktemp -d /tmp/fullmakt-bench-pdp.XXXXXX)
SERVER_PID=""
cleanup() {
  local rc=$?
  if [ -n "$SERVER_PID" ]; then
    kill "$SERVER_PID" 2>/dev/null || true
    for _ in $(seq 1 50); do kill -0 "$SERVER_PID" 2>/dev/null || break; sleep 0.2; done
    kill -9 "$SERVER_PID" 2>/dev/null || true
    wait "$SERVER_PID" 2>/dev/null || true
  fi
  rm -rf "$WORK"
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM
FLAGS=()
flag() { FLAGS+=("$*"); echo "!!! $*"; }
section() { printf '\n=== %s ===\n' "$*"; }
ISSUER="http://127.0.0.1:$PORT/"

section "machine"
echo "date:  $(date -u '+%Y-%m-%d %H:%M UTC')"
echo "cpu:   $(lscpu | sed -n 's/^Model name:[[:space:]]*//p' | head -1), $(nproc) CPUs; server on CPU $SERVER_CPU, wrk on CPU $LOAD_CPU"
echo "rev:   $(git -C "$REPO" rev-parse --short HEAD 2>/dev/null)"
echo "db:    $DB ($(du -h "$DB" | cut -f1))"
echo "load:  $(cut -d' ' -f1-3 /proc/loadavg)"

section "setup"
cd "$WORK"
"$BENCH_BIN" requests --scale "$SCALE" --count "$NREQ" --out requests.jsonl
openssl genrsa -out client_key.pem 2048 2>/dev/null
# A kid of its own per run: a kid may be registered by one client only, and each run makes a client.
KID=bench-pdp-$(openssl rand -hex 6)
export KID
# The client's JWKS from the key's modulus (python3 stdlib only).
python3 - <<'PY'
import base64, json, os, re, subprocess
text = subprocess.run(["openssl", "rsa", "-in", "client_key.pem", "-noout", "-modulus"], capture_output=True, text=True, check=True).stdout
n = bytes.fromhex(re.sub(r"^Modulus=", "", text.strip()))
b64 = lambda b: base64.urlsafe_b64encode(b).rstrip(b"=").decode()
json.dump({"keys": [{"kty": "RSA", "kid": os.environ["KID"], "use": "sig", "alg": "RS256", "n": b64(n), "e": b64((65537).to_bytes(3, "big"))}]}, open("jwks.json", "w"))
PY
# The server key file lives beside the database: the database keeps keys tied to it, so a
# second run on the same database needs the same file.
export FULLMAKT_DATABASE_URL="sqlite://$DB" FULLMAKT_KEY_FILE=$DB.key
# The scope may exist from an earlier run on the same database.
"$BIN" admin scope create --name "$SCOPE" --owner "$SCOPE_OWNER" > scope.json 2>admin.log || echo "(scope exists: $(tail -1 admin.log))"
"$BIN" admin scope grant --scope "$SCOPE" --org "$VENDOR" >> scope.json 2>>admin.log || { cat admin.log; die "scope grant failed"; }
"$BIN" admin client create --org "$VENDOR" --name bench-pdp --scope "$SCOPE" --jwks jwks.json > client.json 2>>admin.log || { cat admin.log; die "client create failed"; }
CLIENT_ID=$(python3 -c 'import json,sys
t=open("client.json").read()
for c in [t]+t.splitlines():
    try: print(json.loads(c)["client_id"]); break
    except Exception: pass')
[ -n "$CLIENT_ID" ] || { cat client.json; die "no client_id"; }
echo "client $CLIENT_ID"

b64url() { openssl base64 -A | tr '+/' '-_' | tr -d '='; }
grant() { # a fresh RS256 JWT-bearer grant (as scripts/make-grant.sh)
  local now h c s
  now=$(date +%s)
  h=$(printf '{"alg":"RS256","kid":"%s"}' "$KID" | b64url)
  c=$(printf '{"aud":"%s","iss":"%s","scope":"%s","iat":%d,"exp":%d,"jti":"%s"}' "$ISSUER" "$CLIENT_ID" "$SCOPE" "$now" "$((now + 60))" "$(openssl rand -hex 16)" | b64url)
  s=$(printf '%s.%s' "$h" "$c" | openssl dgst -sha256 -sign client_key.pem -binary | b64url)
  printf '%s.%s.%s' "$h" "$c" "$s"
}
token() { # grant -> access token, or nothing
  curl -s -X POST "${ISSUER}token" -H 'Content-Type: application/x-www-form-urlencoded' \
    --data "grant_type=urn:ietf:params:oauth:grant-type:jwt-bearer&assertion=$1" |
    python3 -c 'import json,sys
try: print(json.load(sys.stdin)["access_token"])
except Exception: pass'
}
ms_since() { awk -v a="$1" -v b="$(date +%s.%N)" 'BEGIN { printf "%.0f", (b - a) * 1000 }'; }

section "start"
FIRST_REQ=$(head -1 requests.jsonl)
G=$(grant)
T0=$(date +%s.%N)
taskset -c "$SERVER_CPU" "$BIN" serve --listen "127.0.0.1:$PORT" --public-url "http://127.0.0.1:$PORT" > server.log 2>&1 &
SERVER_PID=$!
HEALTH_MS=""; FIRST_MS=""; TOKEN=""
for _ in $(seq 1 6000); do   # 10 ms steps, 60 s at most
  kill -0 "$SERVER_PID" 2>/dev/null || { tail -20 server.log; die "the server exited"; }
  if [ -z "$HEALTH_MS" ] && curl -fsS -o /dev/null "${ISSUER}health" 2>/dev/null; then HEALTH_MS=$(ms_since "$T0"); fi
  if [ -n "$HEALTH_MS" ]; then
    [ -n "$TOKEN" ] || TOKEN=$(token "$G")
    [ -n "$TOKEN" ] || { tail -5 server.log; die "no access token from the server"; }
    if curl -fsS -X POST "${ISSUER}authorization/api/v1/authorize" -H "Authorization: Bearer $TOKEN" \
         -H 'Content-Type: application/json' --data "$FIRST_REQ" 2>/dev/null | grep -q '"decision"'; then
      FIRST_MS=$(ms_since "$T0"); break
    fi
  fi
  sleep 0.01
done
[ -n "$FIRST_MS" ] || die "no decision within 60 s"
RSS_START=$(awk '/^VmRSS/ { print $2 }' "/proc/$SERVER_PID/status")
echo "exec -> /health 200: $HEALTH_MS ms; exec -> first decision (incl. one token request): $FIRST_MS ms; RSS $((RSS_START / 1024)) MiB"

declare -A R
run_wrk() { # label connections seconds
  local label=$1 c=$2 secs=$3 out line kv
  out=$WORK/wrk.$label.txt
  TOKEN=$(token "$(grant)")
  [ -n "$TOKEN" ] || die "no access token"
  BENCH_REQUESTS=$WORK/requests.jsonl BENCH_TOKEN=$TOKEN BENCH_THREADS=1 \
    taskset -c "$LOAD_CPU" wrk -t1 -c"$c" -d"${secs}s" --timeout 10s --latency -s "$HERE/authorize.lua" "$ISSUER" > "$out" 2>&1 || true
  line=$(grep '^BENCHRESULT ' "$out" || true)
  [ -n "$line" ] || { cat "$out"; flag "$label: wrk printed no result"; return 0; }
  for kv in ${line#BENCHRESULT }; do R[$label.${kv%%=*}]=${kv#*=}; done
  printf '%-10s c=%-3s %9.1f decisions/s  p50 %7s ms  p90 %7s ms  p99 %7s ms  max %8s ms  Permit %s NotApplicable %s other %s non-200 %s  (load %s)\n' \
    "$label" "$c" "${R[$label.ok_rps]}" "${R[$label.p50_ms]}" "${R[$label.p90_ms]}" "${R[$label.p99_ms]}" "${R[$label.max_ms]}" \
    "${R[$label.permit]}" "${R[$label.notapplicable]}" "${R[$label.other]}" "${R[$label.non200]}" "$(cut -d' ' -f1-3 /proc/loadavg)"
  grep '^BENCHFIRSTERROR ' "$out" || true
  if [ "$label" != warmup ]; then
    [ "${R[$label.non200]}" -gt 0 ] && flag "$label: ${R[$label.non200]} non-200 responses"
    [ "${R[$label.other]}" -gt 0 ] && flag "$label: ${R[$label.other]} decisions neither Permit nor NotApplicable"
    [ "${R[$label.sock_errors]}" -gt 0 ] && flag "$label: ${R[$label.sock_errors]} socket errors/timeouts"
  fi
  return 0
}

section "load (wrk -t1 on CPU $LOAD_CPU, server on CPU $SERVER_CPU)"
run_wrk warmup 8 "$WARMUP"
for c in $CONNECTIONS; do
  for k in $(seq 1 "$REPEAT"); do run_wrk "c$c.$k" "$c" "$DURATION"; done
done
HWM=$(awk '/^VmHWM/ { print $2 }' "/proc/$SERVER_PID/status")
RSS=$(awk '/^VmRSS/ { print $2 }' "/proc/$SERVER_PID/status")
echo "server RSS after the runs: VmRSS $((RSS / 1024)) MiB, peak VmHWM $((HWM / 1024)) MiB"

section "summary (Markdown)"
echo "| connections | decisions/s (runs) | p50 ms | p99 ms |"
echo "|---|---|---|---|"
for c in $CONNECTIONS; do
  rates=""; p50=""; p99=""
  for k in $(seq 1 "$REPEAT"); do
    rates="$rates${rates:+ / }${R[c$c.$k.ok_rps]:-–}"; p50="$p50${p50:+ / }${R[c$c.$k.p50_ms]:-–}"; p99="$p99${p99:+ / }${R[c$c.$k.p99_ms]:-–}"
  done
  echo "| $c | $rates | $p50 | $p99 |"
done
echo
echo "start: exec -> /health $HEALTH_MS ms, -> first decision $FIRST_MS ms; RSS after start $((RSS_START / 1024)) MiB, peak $((HWM / 1024)) MiB"
if [ ${#FLAGS[@]} -gt 0 ]; then
  echo; echo "!!! ${#FLAGS[@]} problem(s); the figures above are NOT clean:"
  for f in "${FLAGS[@]}"; do echo "!!!   $f"; done
  exit 2
fi
exit 0
