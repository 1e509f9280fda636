#!/usr/bin/env bash
# bench/token/run.sh: token-endpoint throughput, latency and memory of fullmakt, side by side
# with node oidc-provider (the peer of shared/spec/anchors.md §3.1). A program that prints
# figures, not a test: it exits 0 when every run was clean, 2 when a run is flagged (non-200
# responses, grants ran out, open-loop schedule not held), 1 on a setup failure.
#
#   bench/token/run.sh [--duration S] [--connections N] [--open-connections N] [--threads N]
#                      [--only fullmakt|peer] [--warmup S] [--grant-rate N] [--build] [--keep]
#                      [--bin PATH] [--idle-wait S] [--open-rate N]
#                      [--soak [--soak-windows N] [--soak-window S]]
#   defaults: --duration 20 --connections 16 --open-connections 256 --threads 1 --warmup 10
#             --grant-rate 1.8 x the measured sign/s (at least 2500) --idle-wait 120;
#             --soak: 5 windows of 60 s
#   --open-rate N: the open-loop run at N tokens/s instead of 80 % of the measured maximum
#
# What one run does (details in README.md):
#   1. `openssl speed -seconds 3 rsa2048` on CPU 0: the RSA-2048 sign/verify ceiling of one core.
#      An RS256 token costs one verify (the client's assertion) + one sign (the access token),
#      so sign/s is the hard upper bound for tokens/s on one core.
#   2. For each server in turn (never both at once), pinned to CPU 0 with taskset, while wrk
#      is pinned to CPU 1 (the 2-core machine: one core each, nothing shared but the kernel):
#        warm-up  --warmup s closed loop, not reported (JIT, allocator, SQLite cache)
#        max      --duration s closed loop, --connections connections: maximum tokens/s, p50/p90/p99
#        80 %     --duration s open loop at 80 % of the measured max: p50/p90/p99 at a realistic
#                 load. Debian has no wrk2; token.lua's delay() keeps a fixed send schedule
#                 instead, and counts sends the schedule could not keep (see token.lua). It uses
#                 --open-connections (256) so that a GC pause or a slow request does not leave the
#                 schedule without a free connection (that would hide queueing time).
#      Server RSS (VmRSS) is sampled every second throughout; CPU time of the server process
#      is read from /proc before and after each run.
#   3. A Markdown summary table for BENCHMARKS.md.
#
# Grants and their 180 s lifetime. Every request carries a distinct, pre-signed RS256 JWT with a
# unique jti (wrk does no crypto and never replays one). fullmakt rejects exp - iat > 180 s and
# accepts a grant until exp + 10 s, so a grant lives 190 s after its iat; oidc-provider accepts
# until exp + 15 s. grants.py therefore sets iat to the second each grant is signed and
# exp = iat + 180, and signs right before each timed run, on both cores while the server idles.
# Grants are consumed in signing order, so the oldest grant in use is at most about
# (signing time + run time) old; with the default --grant-rate (1.8x the one-core RSA sign
# ceiling signed per second of run, hence never the limit; at least 2,500) and signing on two
# cores, that is about 2 x --duration: --duration is capped at 90 s.
# The soak (--soak, fullmakt only) needs 300 s of load, longer than a grant lives, and the load
# core must stay clean during measurement, so signing cannot run alongside it. After the
# warm-up and the max run (which gives the rate; the 80 % run is skipped) it runs five 60 s
# closed-loop windows and signs each window's grants (1.5 x the measured max rate x 60 s) in
# the pause before it; RSS is sampled throughout and printed per window and per minute.
# Pauses let fullmakt's replay store (entries live ~190 s) drain a little, so the RSS curve is
# a sawtooth around its steady state; growth from window to window is what to look for.
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(cd "$HERE/../.." && pwd)

DURATION=20
CONNECTIONS=16
THREADS=1
WARMUP=10
OPEN_CONNECTIONS=256
GRANT_RATE=   # empty: from the measured sign ceiling, after openssl speed
OPEN_RATE=0   # 0: 80 % of the measured maximum
IDLE_WAIT=120
SOAK=0
SOAK_WINDOWS=5
SOAK_WINDOW_S=60
ONLY=""
BUILD=0
BIN_ARG=""
KEEP=0
FULLMAKT_PORT=18441
PEER_PORT=18442
SERVER_CPU=0
LOAD_CPU=1
SCOPE=bench:token
ORG=991825827
PEER_RESOURCE=urn:fullmakt:bench

usage() { sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; }

while [ $# -gt 0 ]; do
  case "$1" in
    --duration) DURATION=$2; shift 2 ;;
    --connections) CONNECTIONS=$2; shift 2 ;;
    --open-connections) OPEN_CONNECTIONS=$2; shift 2 ;;
    --threads) THREADS=$2; shift 2 ;;
    --warmup) WARMUP=$2; shift 2 ;;
    --grant-rate) GRANT_RATE=$2; shift 2 ;;
    --open-rate) OPEN_RATE=$2; shift 2 ;;
    --idle-wait) IDLE_WAIT=$2; shift 2 ;;
    --only) ONLY=$2; shift 2 ;;
    --soak) SOAK=1; shift ;;
    --soak-windows) SOAK_WINDOWS=$2; shift 2 ;;
    --soak-window) SOAK_WINDOW_S=$2; shift 2 ;;
    --build) BUILD=1; shift ;;
    --bin) BIN_ARG=$2; shift 2 ;;
    --keep) KEEP=1; shift ;;
    -h|--help) usage; exit 0 ;;
    *) echo "unknown argument: $1 (see --help)" >&2; exit 1 ;;
  esac
done

die() { echo "run.sh: $*" >&2; exit 1; }
is_uint() { [[ $1 =~ ^[0-9]+$ ]] && [ "$1" -gt 0 ]; }
[ -z "$GRANT_RATE" ] || is_uint "$GRANT_RATE" || die "--grant-rate must be a positive integer"
for v in DURATION CONNECTIONS OPEN_CONNECTIONS THREADS WARMUP SOAK_WINDOWS SOAK_WINDOW_S; do
  opt=${v,,}; opt=${opt%_s}   # SOAK_WINDOW_S is --soak-window
  is_uint "${!v}" || die "--${opt//_/-} must be a positive integer"
done
[[ $IDLE_WAIT =~ ^[0-9]+$ ]] || die "--idle-wait must be a number of seconds"
[[ $OPEN_RATE =~ ^[0-9]+$ ]] || die "--open-rate must be a number of requests per second"
[ "$SOAK_WINDOW_S" -le 90 ] || die "--soak-window is capped at 90 s (grants live 190 s)"
[ "$DURATION" -le 90 ] || die "--duration is capped at 90 s (grants live 190 s; see the header). Use --soak for long runs."
[ "$CONNECTIONS" -ge "$THREADS" ] && [ "$OPEN_CONNECTIONS" -ge "$THREADS" ] || die "connections must be >= --threads"
case "$ONLY" in ""|fullmakt|peer) ;; *) die "--only takes fullmakt or peer" ;; esac
TARGETS="fullmakt peer"
[ -n "$ONLY" ] && TARGETS=$ONLY
# The soak is for fullmakt; `--soak --only peer` soaks the peer instead (for comparison).
[ "$SOAK" = 1 ] && [ -z "$ONLY" ] && TARGETS=fullmakt
[ "$(nproc)" -ge 2 ] || die "needs 2 CPUs (server on CPU $SERVER_CPU, load on CPU $LOAD_CPU)"

# ------------------------------------------------------------------------------------------
# Process bookkeeping: everything we start is recorded and stopped on exit, by PID.
WORK=$(mktemp -d /tmp/fullmakt-bench-token.XXXXXX)
SERVER_PID=""
SAMPLER_PID=""
WRK_PID=""
cleanup() {
  local rc=$?
  for pid in "$WRK_PID" "$SAMPLER_PID" "$SERVER_PID"; do
    [ -n "$pid" ] && kill "$pid" 2>/dev/null || true
  done
  if [ -n "$SERVER_PID" ]; then   # a server that ignores SIGTERM gets SIGKILL after 10 s
    for _ in $(seq 1 50); do kill -0 "$SERVER_PID" 2>/dev/null || break; sleep 0.2; done
    kill -9 "$SERVER_PID" 2>/dev/null || true
  fi
  for pid in "$WRK_PID" "$SAMPLER_PID" "$SERVER_PID"; do
    [ -n "$pid" ] && wait "$pid" 2>/dev/null || true
  done
  if [ "$KEEP" = 1 ]; then
    echo "kept work directory: $WORK" >&2
  else
    rm -rf "$WORK"
  fi
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

FLAGS=()   # problems that make a figure unreliable; printed loudly at the end
flag() { FLAGS+=("$*"); echo "!!! $*"; }
section() { printf '\n=== %s ===\n' "$*"; }
now() { date +%s; }
mib() { awk -v k="$1" 'BEGIN { printf "%.1f", k / 1024 }'; }

# ------------------------------------------------------------------------------------------
section "tools"
APT_UPDATED=0
apt_install() {
  if [ "$APT_UPDATED" = 0 ]; then apt-get update -qq; APT_UPDATED=1; fi
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" >/dev/null
}
command -v wrk >/dev/null || { echo "installing wrk (Debian package)"; apt_install wrk; }
command -v taskset >/dev/null || apt_install util-linux
command -v curl >/dev/null || apt_install curl
command -v openssl >/dev/null || apt_install openssl
command -v python3 >/dev/null || die "python3 is required"

VENV=$HERE/.venv
if ! "$VENV/bin/python" -c 'import jwt, cryptography' 2>/dev/null; then
  echo "creating $VENV (PyJWT + cryptography from PyPI)"
  python3 -m venv "$VENV"
  "$VENV/bin/pip" install -q -r "$HERE/requirements.txt"
fi
PY=$VENV/bin/python

if [[ " $TARGETS " == *" peer "* ]]; then
  command -v node >/dev/null || die "node is required for the peer (Node 20+)"
  if [ ! -d "$HERE/peer/node_modules/oidc-provider" ]; then
    echo "installing the peer (npm ci in bench/token/peer)"
    (cd "$HERE/peer" && npm ci --no-audit --no-fund --loglevel=error)
  fi
  PEER_VERSION=$(node -p "require('$HERE/peer/node_modules/oidc-provider/package.json').version")
fi

BIN=$REPO/target/release/fullmakt
if [ -n "$BIN_ARG" ]; then
  BIN=$(realpath "$BIN_ARG")   # benchmark another build; never built here
elif [[ " $TARGETS " == *" fullmakt "* ]]; then
  if [ "$BUILD" = 1 ] || [ ! -x "$BIN" ]; then
    echo "building fullmakt (cargo build --release -p fullmakt)"
    (cd "$REPO" && cargo build --release -p fullmakt)
  fi
fi
if [[ " $TARGETS " == *" fullmakt "* ]]; then [ -x "$BIN" ] || die "no binary at $BIN"; fi

for port in $FULLMAKT_PORT $PEER_PORT; do
  if ss -Htln "sport = :$port" | grep -q .; then die "port $port is already in use"; fi
done

# ------------------------------------------------------------------------------------------
section "machine"
MODEL=$(lscpu | sed -n 's/^Model name:[[:space:]]*//p' | head -1)
echo "date:      $(date -u '+%Y-%m-%d %H:%M UTC')"
echo "cpu:       $MODEL, $(nproc) CPUs; server on CPU $SERVER_CPU, wrk on CPU $LOAD_CPU"
echo "kernel:    $(uname -r)"
echo "tools:     $(openssl version | cut -d' ' -f1-2), $(wrk -v 2>&1 | head -1 | cut -d' ' -f1-2), python $("$PY" -c 'import sys, jwt, cryptography; print(sys.version.split()[0], "PyJWT", jwt.__version__, "cryptography", cryptography.__version__)')"
[ -n "${PEER_VERSION:-}" ] && echo "peer:      node $(node --version), oidc-provider $PEER_VERSION"
if [ -x "$BIN" ] && [[ " $TARGETS " == *" fullmakt "* ]]; then
  REV=$(git -C "$REPO" rev-parse --short HEAD 2>/dev/null || echo "no commit")
  [ -n "$(git -C "$REPO" status --porcelain -- crates Cargo.toml Cargo.lock 2>/dev/null)" ] && REV="$REV+dirty"
  echo "fullmakt:  $BIN (built $(date -u -r "$BIN" '+%Y-%m-%d %H:%M UTC'), source $REV)"
fi
echo "load:      wrk -t$THREADS, -c$CONNECTIONS closed loop, -c$OPEN_CONNECTIONS open loop, warm-up ${WARMUP}s, runs ${DURATION}s$([ "$SOAK" = 1 ] && echo ", soak ${SOAK_WINDOWS}x${SOAK_WINDOW_S}s")"

# CPU busy % per core over one second, from /proc/stat: the machine must be idle before a run
# (a cargo build on either core would halve the figures).
cpu_busy() {
  local a b
  a=$(grep -E '^cpu[0-9]+ ' /proc/stat); sleep 1; b=$(grep -E '^cpu[0-9]+ ' /proc/stat)
  paste <(echo "$a") <(echo "$b") | awk '{
    n = (NF - 2) / 2;                      # fields per line (without the name)
    t0 = 0; t1 = 0;
    for (i = 2; i <= n + 1; i++) { t0 += $i; t1 += $(i + n + 1) }
    idle0 = $5 + $6; idle1 = $(5 + n + 1) + $(6 + n + 1);   # idle + iowait
    printf "%s=%.0f%% ", $1, 100 * (1 - (idle1 - idle0) / (t1 - t0))
  }'
}
is_busy() { echo "$1" | tr ' ' '\n' | awk -F'[=%]' 'NF > 1 && $2 > 15 { bad = 1 } END { exit !bad }'; }
# Before a measured run: wait up to --idle-wait seconds for both cores to be idle (a build on a
# shared machine usually ends soon), then flag the run if they still are not.
check_idle() {
  local busy
  busy=$(cpu_busy)
  if is_busy "$busy"; then
    echo "waiting up to ${IDLE_WAIT}s for an idle machine (busy: $busy)"
    for _ in $(seq 1 "$IDLE_WAIT"); do
      busy=$(cpu_busy)
      is_busy "$busy" || break
    done
  fi
  echo "idle check: busy $busy"
  if is_busy "$busy"; then
    flag "machine not idle before $1 (busy: $busy): another process competes for the CPUs; figures are low"
  fi
  return 0
}
check_idle "the start"

# Per-core "total idle" jiffies, and the busy % of one core between two such snapshots: used
# around each run to show that the server had its core to itself and wrk was not the limit.
cpu_snap() { awk '/^cpu[0-9]+ / { t = 0; for (i = 2; i <= NF; i++) t += $i; print $1, t, $5 + $6 }' /proc/stat; }
core_busy() { # snap0 snap1 cpuN
  paste -d' ' <(echo "$1") <(echo "$2") | awk -v c="$3" '$1 == c { printf "%.0f", 100 * (1 - ($6 - $3) / ($5 - $2)) }'
}

# ------------------------------------------------------------------------------------------
section "crypto ceiling: openssl speed -seconds 3 rsa2048 (one process, CPU $SERVER_CPU)"
read -r SIGN_S VERIFY_S < <(taskset -c "$SERVER_CPU" openssl speed -seconds 3 rsa2048 2>/dev/null \
  | awk '/^rsa 2048 bits/ { print $(NF - 1), $NF }')
[ -n "$SIGN_S" ] || die "could not parse openssl speed output"
# One token = one verify + one sign on the same core.
TOKEN_CEILING=$(awk -v s="$SIGN_S" -v v="$VERIFY_S" 'BEGIN { printf "%.0f", 1 / (1 / s + 1 / v) }')
echo "RSA-2048 sign/s:   $SIGN_S"
echo "RSA-2048 verify/s: $VERIFY_S"
echo "=> RS256 token ceiling on one core (1 verify + 1 sign): $TOKEN_CEILING tokens/s"
# A fixed rate ran out on a host that signs 4,700/s (2026-11-22): scale it with the ceiling.
if [ -z "$GRANT_RATE" ]; then
  GRANT_RATE=$(awk -v s="$SIGN_S" 'BEGIN { r = int(1.8 * s / 100 + 0.999) * 100; print (r < 2500 ? 2500 : r) }')
fi
echo "grants signed per second of run: $GRANT_RATE"

# ------------------------------------------------------------------------------------------
# Per-server plumbing.
cd "$WORK"
"$PY" "$HERE/grants.py" keygen --dir "$WORK" --kid bench-1

PHASE_FILE=$WORK/phase
echo idle > "$PHASE_FILE"
declare -A R   # results: R[target.run.key]=value

rss_kb() { awk '/^VmRSS:/ { print $2 }' "/proc/$1/status" 2>/dev/null || echo 0; }
hwm_kb() { awk '/^VmHWM:/ { print $2 }' "/proc/$1/status" 2>/dev/null || echo 0; }
# utime + stime of the whole process (all threads), in clock ticks.
cpu_ticks() { awk '{ print $14 + $15 }' "/proc/$1/stat" 2>/dev/null || echo 0; }
TICKS=$(getconf CLK_TCK)

start_sampler() { # pid outfile: one "seconds rss_kb phase" line per second while pid lives
  local pid=$1 out=$2
  (
    t0=$(now)
    for _ in $(seq 1 7200); do   # bounded: 2 h at most
      kill -0 "$pid" 2>/dev/null || break
      echo "$(($(now) - t0)) $(rss_kb "$pid") $(cat "$PHASE_FILE")" >> "$out"
      sleep 1
    done
  ) &
  SAMPLER_PID=$!
  taskset -pc "$LOAD_CPU" "$SAMPLER_PID" >/dev/null
}

# "first max last" RSS in kB of the samples taken during one phase.
phase_rss() {
  awk -v p="$2" '$3 == p { if (!n++) f = $2; if ($2 > m) m = $2; l = $2 } END { print (n ? f " " m " " l : "0 0 0") }' "$1"
}

# wait_http URL WHAT LOG: until URL answers 2xx (60 s at most); otherwise say why and give up.
wait_http() {
  local rc
  for _ in $(seq 1 300); do
    curl -fsS -o /dev/null "$1" 2>/dev/null && return 0
    if ! kill -0 "$SERVER_PID" 2>/dev/null; then
      rc=0; wait "$SERVER_PID" 2>/dev/null || rc=$?
      SERVER_PID=""
      tail -20 "$3"; die "$2 exited with status $rc before $1 answered"
    fi
    sleep 0.2
  done
  tail -20 "$3"; die "$2 is running but $1 did not answer within 60 s"
}

stop_server() {
  if [ -n "$SAMPLER_PID" ]; then
    kill "$SAMPLER_PID" 2>/dev/null || true; wait "$SAMPLER_PID" 2>/dev/null || true; SAMPLER_PID=""
  fi
  if [ -n "$SERVER_PID" ]; then
    # SIGTERM for a graceful stop, SIGKILL if it has not exited within 10 s.
    kill "$SERVER_PID" 2>/dev/null || true
    for _ in $(seq 1 50); do kill -0 "$SERVER_PID" 2>/dev/null || break; sleep 0.2; done
    kill -9 "$SERVER_PID" 2>/dev/null || true
    wait "$SERVER_PID" 2>/dev/null || true
    SERVER_PID=""
  fi
  return 0
}

# sign TARGET KIND COUNT OUT: fresh grants for one run (both cores; the server is idle now).
sign() {
  local target=$1 count=$2 out=$3
  if [ "$target" = fullmakt ]; then
    "$PY" "$HERE/grants.py" sign --kind fullmakt --key "$WORK/client_key.pem" --kid bench-1 \
      --iss "$FULLMAKT_CLIENT_ID" --aud "http://127.0.0.1:$FULLMAKT_PORT/" --scope "$SCOPE" \
      --count "$count" --out "$out"
  else
    "$PY" "$HERE/grants.py" sign --kind peer --key "$WORK/client_key.pem" --kid bench-1 \
      --iss bench --aud "http://127.0.0.1:$PEER_PORT" --scope "$SCOPE" \
      --resource "$PEER_RESOURCE" --count "$count" --out "$out"
  fi
}

# load TARGET RUN SECONDS RATE BODIES: one wrk run; RATE 0 = closed loop with --connections,
# otherwise open loop at RATE requests/s with --open-connections. Stores R[target.run.*].
load() {
  local target=$1 run=$2 secs=$3 rate=$4 bodies=$5 port out line t0 t1 c0 c1 s0 s1 k v conns
  conns=$CONNECTIONS; [ "$rate" != 0 ] && conns=$OPEN_CONNECTIONS
  port=$FULLMAKT_PORT; [ "$target" = peer ] && port=$PEER_PORT
  out=$WORK/$target.$run.wrk.txt
  echo "$run" > "$PHASE_FILE"
  s0=$(cpu_snap); c0=$(cpu_ticks "$SERVER_PID"); t0=$(date +%s.%N)
  BENCH_BODIES=$bodies BENCH_THREADS=$THREADS BENCH_RATE=$rate \
    taskset -c "$LOAD_CPU" wrk -t"$THREADS" -c"$conns" -d"${secs}s" --timeout 10s --latency \
    -s "$HERE/token.lua" "http://127.0.0.1:$port/" > "$out" 2>&1 &
  WRK_PID=$!
  wait "$WRK_PID" || true
  WRK_PID=""
  c1=$(cpu_ticks "$SERVER_PID"); t1=$(date +%s.%N); s1=$(cpu_snap)
  echo "after-$run" > "$PHASE_FILE"
  line=$(grep '^BENCHRESULT ' "$out" || true)
  if [ -z "$line" ]; then
    cat "$out"
    flag "$target $run: wrk printed no result"
    return
  fi
  for kv in ${line#BENCHRESULT }; do
    k=${kv%%=*}; v=${kv#*=}
    R[$target.$run.$k]=$v
  done
  R[$target.$run.server_cpu]=$(awk -v c="$((c1 - c0))" -v hz="$TICKS" -v t0="$t0" -v t1="$t1" \
    'BEGIN { printf "%.0f", 100 * c / hz / (t1 - t0) }')
  R[$target.$run.server_core]=$(core_busy "$s0" "$s1" "cpu$SERVER_CPU")
  R[$target.$run.load_core]=$(core_busy "$s0" "$s1" "cpu$LOAD_CPU")
  local p=$target.$run
  printf '%-8s %-7s %8.1f tokens/s  p50 %6s ms  p90 %6s ms  p99 %6s ms  max %7s ms  non-200 %s  server CPU %s%%\n' \
    "$target" "$run" "${R[$p.ok_rps]}" "${R[$p.p50_ms]}" "${R[$p.p90_ms]}" "${R[$p.p99_ms]}" \
    "${R[$p.max_ms]}" "$((R[$p.non200] + R[$p.bad200]))" "${R[$p.server_cpu]}"
  echo "         statuses ${R[$p.statuses]}, socket errors ${R[$p.sock_errors]}, timeouts ${R[$p.timeouts]}; CPU $SERVER_CPU busy ${R[$p.server_core]}%, CPU $LOAD_CPU (wrk) busy ${R[$p.load_core]}%"
  grep '^BENCHFIRSTERROR ' "$out" | sed 's/^BENCHFIRSTERROR /         first error: /' || true
  if [ "$run" != warmup ]; then
    [ "$((R[$p.non200] + R[$p.bad200]))" -gt 0 ] && flag "$target $run: $((R[$p.non200] + R[$p.bad200])) of ${R[$p.requests]} responses were not a 200 with an access_token (statuses ${R[$p.statuses]})"
    [ "${R[$p.exhausted]}" -gt 0 ] && flag "$target $run: ran out of pre-signed grants; tokens/s is understated (raise --grant-rate)"
    [ "${R[$p.sock_errors]}" -gt 0 ] || [ "${R[$p.timeouts]}" -gt 0 ] && flag "$target $run: ${R[$p.sock_errors]} socket errors, ${R[$p.timeouts]} timeouts"
    # Someone else on the server's core (beyond the sampler's few ms), or wrk out of CPU.
    [ $((R[$p.server_core] - R[$p.server_cpu])) -gt 10 ] && flag "$target $run: CPU $SERVER_CPU was ${R[$p.server_core]}% busy but the server used ${R[$p.server_cpu]}%: another process ran on the server's core"
    [ "${R[$p.load_core]}" -gt 90 ] && flag "$target $run: CPU $LOAD_CPU (wrk's core) was ${R[$p.load_core]}% busy: wrk, or another process on that core, may be the limit"
  fi
  if [ "$rate" != 0 ]; then
    local late_pct
    late_pct=$(awk -v l="${R[$p.late]}" -v n="${R[$p.requests]}" 'BEGIN { printf "%.2f", n ? 100 * l / n : 0 }')
    echo "         open loop: target $rate/s, achieved ${R[$p.rps]}/s; sends behind schedule: ${R[$p.late]} ($late_pct %), worst ${R[$p.max_late_ms]} ms"
    awk -v p="$late_pct" 'BEGIN { exit !(p > 1) }' && flag "$target $run: $late_pct % of sends were behind schedule; the open-loop latencies understate queueing"
  fi
  return 0
}

start_fullmakt() {
  local dir=$WORK/fullmakt
  mkdir -p "$dir"
  cd "$dir"
  cp "$WORK/client_jwks.json" jwks.json
  # Run from the temp dir: fullmakt.key and fullmakt.db are created here.
  taskset -c "$SERVER_CPU" "$BIN" serve --listen "127.0.0.1:$FULLMAKT_PORT" \
    --database-url sqlite://fullmakt.db --public-url "http://127.0.0.1:$FULLMAKT_PORT" \
    > server.log 2>&1 &
  SERVER_PID=$!
  wait_http "http://127.0.0.1:$FULLMAKT_PORT/health" fullmakt "$dir/server.log"
  # The store options go through the environment: they belong to `admin`, not to its
  # subcommands, so as flags they would have to precede `scope`/`client`.
  export FULLMAKT_DATABASE_URL=sqlite://fullmakt.db FULLMAKT_KEY_FILE=fullmakt.key
  "$BIN" admin scope create --name "$SCOPE" --owner "$ORG" \
    > scope.json 2> admin.log || { cat scope.json admin.log; die "admin scope create failed"; }
  "$BIN" admin client create --org "$ORG" --name bench --scope "$SCOPE" --jwks jwks.json \
    > client.json 2>> admin.log || { cat client.json admin.log; die "admin client create failed"; }
  unset FULLMAKT_DATABASE_URL FULLMAKT_KEY_FILE
  # The admin command prints JSON; take the first line that parses if it prints more than that.
  FULLMAKT_CLIENT_ID=$("$PY" -c '
import json, sys
text = open(sys.argv[1]).read()
for cand in [text] + text.splitlines():
    try:
        print(json.loads(cand)["client_id"]); break
    except Exception:
        pass
' client.json)
  [ -n "$FULLMAKT_CLIENT_ID" ] || { cat client.json; die "no client_id in admin client create output"; }
  echo "fullmakt: pid $SERVER_PID on CPU $SERVER_CPU, client_id $FULLMAKT_CLIENT_ID"
  cd "$WORK"
}

start_peer() {
  cd "$HERE/peer"
  NODE_ENV=production PORT=$PEER_PORT CLIENT_JWKS=$WORK/client_jwks.json CLIENT_ID=bench \
    SCOPE=$SCOPE RESOURCE=$PEER_RESOURCE \
    taskset -c "$SERVER_CPU" node server.js > "$WORK/peer.log" 2>&1 &
  SERVER_PID=$!
  cd "$WORK"
  wait_http "http://127.0.0.1:$PEER_PORT/.well-known/openid-configuration" oidc-provider "$WORK/peer.log"
  echo "oidc-provider: pid $SERVER_PID on CPU $SERVER_CPU, client_id bench"
}

bench_target() {
  local target=$1 samples rate80 n first max last
  section "$target"
  samples=$WORK/$target.rss
  : > "$samples"
  echo start > "$PHASE_FILE"
  if [ "$target" = fullmakt ]; then start_fullmakt; else start_peer; fi
  R[$target.rss_start]=$(rss_kb "$SERVER_PID")
  start_sampler "$SERVER_PID" "$samples"

  sign "$target" $((GRANT_RATE * WARMUP)) "$WORK/$target.warmup.txt"
  load "$target" warmup "$WARMUP" 0 "$WORK/$target.warmup.txt"
  rm -f "$WORK/$target.warmup.txt"

  # Idle check before signing: waiting for idle after it would age the grants.
  check_idle "$target max"
  sign "$target" $((GRANT_RATE * DURATION)) "$WORK/$target.max.txt"
  load "$target" max "$DURATION" 0 "$WORK/$target.max.txt"
  rm -f "$WORK/$target.max.txt"

  if [ "$SOAK" = 0 ] && [ -n "${R[$target.max.ok_rps]:-}" ]; then
    # 80 % of the measured maximum, open loop; grants for 110 % of the schedule plus slack.
    rate80=$(awk -v r="${R[$target.max.ok_rps]}" 'BEGIN { printf "%d", 0.8 * r }')
    # A fixed rate instead, for comparing two builds: 80 % of each run's own maximum moves
    # with the machine's speed during that run.
    [ "$OPEN_RATE" -gt 0 ] && rate80=$OPEN_RATE
    if [ "$rate80" -ge "$THREADS" ]; then
      n=$(awk -v r="$rate80" -v d="$DURATION" -v c="$OPEN_CONNECTIONS" 'BEGIN { printf "%d", 1.1 * r * d + 10 * c }')
      check_idle "$target 80 %"
      sign "$target" "$n" "$WORK/$target.rate80.txt"
      load "$target" rate80 "$DURATION" "$rate80" "$WORK/$target.rate80.txt"
      R[$target.rate80.target]=$rate80
      rm -f "$WORK/$target.rate80.txt"
    else
      flag "$target: max rate too low for an 80 % run"
    fi
  fi

  if [ "$SOAK" = 1 ] && [ -n "${R[$target.max.ok_rps]:-}" ]; then
    soak "$target" "$samples"
  fi

  R[$target.rss_end]=$(rss_kb "$SERVER_PID")
  R[$target.rss_hwm]=$(hwm_kb "$SERVER_PID")
  stop_server

  echo
  echo "RSS of $target (MiB; sampled each second, first / max / last of each phase):"
  echo "  after start     $(mib "${R[$target.rss_start]}")"
  for ph in warmup max rate80; do
    read -r first max last < <(phase_rss "$samples" "$ph")
    [ "$max" = 0 ] && continue
    R[$target.$ph.rss_max]=$max
    printf '  %-14s  %s / %s / %s\n' "$ph" "$(mib "$first")" "$(mib "$max")" "$(mib "$last")"
  done
  echo "  at exit         $(mib "${R[$target.rss_end]}")   (peak VmHWM $(mib "${R[$target.rss_hwm]}"))"
  if [ "$target" = fullmakt ]; then
    # Logging is part of the cost of a request; say how much of it there was.
    local lines total=0 ph
    lines=$(wc -l < "$WORK/fullmakt/server.log")
    for ph in warmup max rate80 $(seq -f 'soak%g' 1 "$SOAK_WINDOWS"); do total=$((total + ${R[$target.$ph.requests]:-0})); done
    echo "  server log: $lines lines for $total token requests"
  fi
  return 0
}

soak() {
  local target=$1 samples=$2 w n
  section "$target soak: $SOAK_WINDOWS x ${SOAK_WINDOW_S}s closed loop, grants signed between windows"
  n=$(awk -v r="${R[$target.max.ok_rps]}" -v d="$SOAK_WINDOW_S" 'BEGIN { printf "%d", 1.5 * r * d }')
  for w in $(seq 1 "$SOAK_WINDOWS"); do
    echo "sign-$w" > "$PHASE_FILE"
    check_idle "$target soak window $w"
    sign "$target" "$n" "$WORK/$target.soak.txt"
    load "$target" "soak$w" "$SOAK_WINDOW_S" 0 "$WORK/$target.soak.txt"
    rm -f "$WORK/$target.soak.txt"
    # fullmakt keeps its replay records in the database: its size explains part of the RSS
    # (SQLite page caches), so record it with each window.
    R[$target.soak$w.db_kb]=$(du -ck "$WORK/fullmakt"/fullmakt.db* 2>/dev/null | awk 'END { print $1 + 0 }')
  done
  echo
  echo "soak RSS per window (MiB, first / max / last of the window):"
  echo "| window | tokens/s | p99 ms | max ms | non-200 | RSS first | RSS max | RSS last | database + WAL MiB |"
  echo "|---|---|---|---|---|---|---|---|---|"
  for w in $(seq 1 "$SOAK_WINDOWS"); do
    read -r first max last < <(phase_rss "$samples" "soak$w")
    echo "| $w | ${R[$target.soak$w.ok_rps]:-?} | ${R[$target.soak$w.p99_ms]:-?} | ${R[$target.soak$w.max_ms]:-?} | ${R[$target.soak$w.non200]:-?} | $(mib "$first") | $(mib "$max") | $(mib "$last") | $([ "$target" = fullmakt ] && mib "${R[$target.soak$w.db_kb]:-0}" || echo –) |"
  done
  echo
  echo "soak RSS per minute of wall-clock time (MiB, last sample of each minute; phase at that time):"
  awk '$3 ~ /^(soak|sign-|after-soak)/ { if (!t0) t0 = $1; m = int(($1 - t0) / 60); rss[m] = $2; ph[m] = $3; if (m > last) last = m }
       END { for (i = 0; i <= last; i++) if (i in rss) printf "  minute %2d  %7.1f  (%s)\n", i + 1, rss[i] / 1024, ph[i] }' "$samples"
  local g
  g=$(awk '$3 == "soak1" { if (!a) a = $2 } $3 == "soak'"$SOAK_WINDOWS"'" { b = $2 } END { printf "%.1f", (b - a) / 1024 }' "$samples")
  echo "RSS growth from the start of window 1 to the end of window $SOAK_WINDOWS: $g MiB"
  R[$target.soak_growth]=$g
}

for t in $TARGETS; do bench_target "$t"; done

# ------------------------------------------------------------------------------------------
section "summary (Markdown)"
col() { # key target -> value or "–"
  local v=${R[$2.$1]:-}
  echo "${v:-–}"
}
pct() { awk -v a="$1" -v b="$2" 'BEGIN { if (a == "" || a == "–" || b == 0) print "–"; else printf "%.0f %%", 100 * a / b }'; }
lat() { # target run
  [ -n "${R[$1.$2.p50_ms]:-}" ] || { echo "–"; return; }
  echo "${R[$1.$2.p50_ms]} / ${R[$1.$2.p90_ms]} / ${R[$1.$2.p99_ms]}"
}
rss_cell() {
  [ -n "${R[$1.rss_start]:-}" ] || { echo "–"; return; }
  echo "$(mib "${R[$1.rss_start]}") / $(mib "${R[$1.max.rss_max]:-0}") / $(mib "${R[$1.rss_end]}")"
}
open_cell() {
  [ -n "${R[$1.rate80.target]:-}" ] || { echo "–"; return; }
  echo "${R[$1.rate80.target]} / ${R[$1.rate80.ok_rps]}"
}
fail_cell() {
  [ -n "${R[$1.max.requests]:-}" ] || { echo "–"; return; }
  local a=$((R[$1.max.non200] + R[$1.max.bad200])) b=0
  [ -n "${R[$1.rate80.requests]:-}" ] && b=$((R[$1.rate80.non200] + R[$1.rate80.bad200]))
  echo "$a / $b"
}
PEER_NAME="oidc-provider ${PEER_VERSION:-9.x} (Node $(node --version 2>/dev/null | tr -d v))"
echo "Machine: $MODEL, $(nproc) CPUs, $(date -u '+%Y-%m-%d'); server pinned to CPU $SERVER_CPU, wrk to CPU $LOAD_CPU; $(openssl version | cut -d' ' -f1-2) rsa2048: $SIGN_S sign/s, $VERIFY_S verify/s (one core)."
echo "Load: wrk on one core; max = closed loop, $CONNECTIONS connections; 80 % = open loop (fixed schedule), $OPEN_CONNECTIONS connections; ${DURATION} s per run after ${WARMUP} s warm-up; every request a distinct pre-signed RS256 grant."
echo
echo "| | fullmakt | $PEER_NAME |"
echo "|---|---|---|"
echo "| max tokens/s (closed loop) | $(col max.ok_rps fullmakt) | $(col max.ok_rps peer) |"
echo "| p50 / p90 / p99 ms at max | $(lat fullmakt max) | $(lat peer max) |"
echo "| open loop at 80 %: target / achieved tokens/s | $(open_cell fullmakt) | $(open_cell peer) |"
echo "| p50 / p90 / p99 ms at 80 % | $(lat fullmakt rate80) | $(lat peer rate80) |"
echo "| non-200 (max / 80 %) | $(fail_cell fullmakt) | $(fail_cell peer) |"
echo "| server CPU during max run | $(col max.server_cpu fullmakt)% | $(col max.server_cpu peer)% |"
echo "| % of RSA-2048 sign ceiling ($SIGN_S/s) | $(pct "${R[fullmakt.max.ok_rps]:-}" "$SIGN_S") | $(pct "${R[peer.max.ok_rps]:-}" "$SIGN_S") |"
echo "| % of RS256 token ceiling ($TOKEN_CEILING/s) | $(pct "${R[fullmakt.max.ok_rps]:-}" "$TOKEN_CEILING") | $(pct "${R[peer.max.ok_rps]:-}" "$TOKEN_CEILING") |"
echo "| RSS MiB: start / max during max run / end | $(rss_cell fullmakt) | $(rss_cell peer) |"
if [ "$SOAK" = 1 ]; then
  echo "| soak ${SOAK_WINDOWS}x${SOAK_WINDOW_S} s: RSS growth, window 1 start → window $SOAK_WINDOWS end | ${R[fullmakt.soak_growth]:-–}$([ -n "${R[fullmakt.soak_growth]:-}" ] && echo " MiB") | ${R[peer.soak_growth]:-–}$([ -n "${R[peer.soak_growth]:-}" ] && echo " MiB") |"
fi
if [ -n "${R[fullmakt.max.ok_rps]:-}" ] && [ -n "${R[peer.max.ok_rps]:-}" ]; then
  echo
  awk -v f="${R[fullmakt.max.ok_rps]}" -v p="${R[peer.max.ok_rps]}" \
    'BEGIN { if (p > 0) printf "fullmakt / oidc-provider max tokens/s: %.2fx\n", f / p }'
fi

if [ ${#FLAGS[@]} -gt 0 ]; then
  echo
  echo "!!! ${#FLAGS[@]} problem(s); the figures above are NOT clean:"
  for f in "${FLAGS[@]}"; do echo "!!!   $f"; done
  exit 2
fi
exit 0
