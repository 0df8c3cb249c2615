#!/usr/bin/env bash
# bench/run.sh - restd throughput and latency beside nginx, on loopback.
#
# Starts restd on a fresh SQLite database with the app in bench/app/ (one
# model, `item`), bulk-loads ROWS rows with the sqlite3 CLI, starts nginx
# serving the bytes of one real row (and of one real list page) as static
# files, and drives each with wrk (one thread). Workloads, in this order so
# that nginx brackets the restd runs:
#
#   nginx-one   nginx: a static file holding one row fetched from restd
#   get         restd: GET /api/items/<id>, random ids of the loaded rows
#   nginx-list  nginx: a static file holding the list page below
#   list        restd: GET /api/items?category=c07&limit=50
#   create      restd: POST /api/items, a new unique row per request
#   nginx-one2  nginx-one again; the ratio base is the mean of both
#
# Every request must succeed: any status >= 400, socket error or timeout
# aborts the benchmark (a benchmark of errors is meaningless), and so does
# a first request (curl) answering with anything but the expected status.
# Afterwards: peak RSS (VmHWM) of restd, a count of the rows the creates
# made, an optional fsync count under strace (group commit evidence), and
# the generated section of docs/performance.md.
#
# Environment:
#   DURATION=10s  CONNS=64  WORKERS=1  WARMUP=2s  ROWS=100000
#   WRK_TIMEOUT=10s   wrk's latency cap: slower replies count as timeouts
#   PIN=0             1: restd/nginx on CPU 0, wrk on CPU 1
#   STRICT=0          1: count every non-2xx in the counted runs too (a Lua
#                     response() hook; costs wrk CPU, see bench/lua/common.lua).
#                     The warm-up runs always do; counted runs count >= 400.
#   SYNC_CHECK=1      count fsync/fdatasync under strace during a short
#                     extra create run (slows that run; not in the table)
#   STATIC_ONLY=0     1: nginx only, with a synthetic row (no restd needed)
#   WRITE_DOC=1       0: do not touch docs/performance.md (BENCH_DOC=FILE: write there instead)
#   KEEP=0            1: keep the scratch directory (logs, db, wrk output)
#   RESTD=build/restd BENCH_AUTH= (Authorization header value, if needed)
#
# Only 127.0.0.1 is used; every process started here is stopped on exit.
set -euo pipefail
umask 022

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BENCH=$ROOT/bench
RESTD=${RESTD:-$ROOT/build/restd}
DOC=${BENCH_DOC:-$ROOT/docs/performance.md}
DURATION=${DURATION:-10s}; CONNS=${CONNS:-64}; WORKERS=${WORKERS:-1}; WARMUP=${WARMUP:-2s}
ROWS=${ROWS:-100000}; WRK_TIMEOUT=${WRK_TIMEOUT:-10s}; PIN=${PIN:-0}
STRICT=${STRICT:-0}; SYNC_CHECK=${SYNC_CHECK:-1}; STATIC_ONLY=${STATIC_ONLY:-0}; WRITE_DOC=${WRITE_DOC:-1}; KEEP=${KEEP:-0}
export BENCH_AUTH=${BENCH_AUTH:-}
LIST_QUERY="category=c07&limit=50"
BASE=/api; ROUTE=items; HEALTH=/health   # as in bench/app/app.yaml

log() { echo "[bench] $*" >&2; }
die() { echo "[bench] FAIL: $*" >&2; exit 1; }

SRV_PFX=(); WRK_PFX=()
if [[ $PIN == 1 ]]; then SRV_PFX=(taskset -c 0); WRK_PFX=(taskset -c 1); fi

for t in wrk nginx sqlite3 curl awk; do command -v "$t" >/dev/null || die "$t not found (make deps)"; done
[[ $STATIC_ONLY == 1 || -x $RESTD ]] || die "$RESTD not built (make build)"

TMP=$(mktemp -d /tmp/restd-bench.XXXXXX)
chmod 755 "$TMP"
# Run a copy: others may rebuild build/restd meanwhile (and could not while it runs).
if [[ $STATIC_ONLY != 1 ]]; then cp "$RESTD" "$TMP/restd"; RESTD_SRC=$RESTD; RESTD=$TMP/restd; fi

# ---- processes: every PID started here is tracked and stopped by PID on exit ----
PIDS=()
spawn() { # spawn LOG CMD...: run in the background, sets SPAWNED
  "${SRV_PFX[@]}" "${@:2}" >>"$1" 2>&1 &
  SPAWNED=$!; PIDS+=("$SPAWNED")
}
forget() { local p a=(); for p in "${PIDS[@]}"; do [[ $p == "$1" ]] || a+=("$p"); done; PIDS=("${a[@]}"); }
alive() { # alive PID: running (a zombie is not)
  local st; st=$(sed 's/.*) //' "/proc/$1/stat" 2>/dev/null) || return 1; [[ ${st%% *} != Z ]]
}
stop() { # stop PID [GRACE_S]: TERM, KILL after the grace; sets STOP_RC (exit status, 137 if killed)
  local i n=$(( ${2:-15} * 10 )); STOP_RC=0
  if alive "$1"; then
    kill -TERM "$1" 2>/dev/null || true
    for ((i = 0; i < n; i++)); do alive "$1" || break; sleep 0.1; done
    if alive "$1"; then log "PID $1 still running after ${2:-15} s: SIGKILL"; kill -KILL "$1" 2>/dev/null || true; fi
  fi
  wait "$1" 2>/dev/null || STOP_RC=$?
  forget "$1"
}
cleanup() {
  local rc=$? i
  trap - EXIT INT TERM
  for ((i = ${#PIDS[@]} - 1; i >= 0; i--)); do stop "${PIDS[i]}" 5 || true; done
  if [[ $KEEP == 1 || $rc != 0 ]]; then log "scratch directory kept: $TMP"; else rm -rf "$TMP"; fi
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

NEXT_PORT=$((20000 + RANDOM % 20000))
free_port() { # free_port VAR: a loopback port nobody listens on
  while (exec 3<>"/dev/tcp/127.0.0.1/$NEXT_PORT") 2>/dev/null; do NEXT_PORT=$((NEXT_PORT + 1)); done
  printf -v "$1" %s "$NEXT_PORT"; NEXT_PORT=$((NEXT_PORT + 1))
}
wait_http() { # wait_http URL PID LOG: until a 2xx, or fail if PID died / 30 s passed
  local i
  for ((i = 0; i < 300; i++)); do
    curl -fsS -o /dev/null --max-time 2 "$1" 2>/dev/null && return 0
    alive "$2" || { tail -20 "$3" >&2; die "PID $2 exited before answering $1"; }
    sleep 0.1
  done
  tail -20 "$3" >&2; die "no 2xx from $1 within 30 s"
}
http() { # http METHOD URL OUT [BODY]: prints the status code; body into OUT
  local a=(-sS -o "$3" -w '%{http_code}' --max-time 10 -X "$1")
  [[ -n $BENCH_AUTH ]] && a+=(-H "Authorization: $BENCH_AUTH")
  [[ $# -ge 4 ]] && a+=(-H 'Content-Type: application/json' --data-binary "$4")
  curl "${a[@]}" "$2"
}

# ---- restd ----
DB=$TMP/bench.db
RESTD_LOG=$TMP/restd.log
RESTD_PID=
start_restd() {
  free_port RESTD_PORT
  echo "=== start $(date -u +%T) port $RESTD_PORT" >>"$RESTD_LOG"
  spawn "$RESTD_LOG" "$RESTD" serve --app "$BENCH/app" --db "sqlite:$DB" \
    --listen "127.0.0.1:$RESTD_PORT" --workers "$WORKERS" --log-level error
  RESTD_PID=$SPAWNED; RESTD_URL=http://127.0.0.1:$RESTD_PORT
  wait_http "$RESTD_URL$HEALTH" "$RESTD_PID" "$RESTD_LOG"
}
stop_restd() {
  stop "$RESTD_PID" 20
  [[ $STOP_RC == 0 ]] || die "restd (PID $RESTD_PID) exited with status $STOP_RC on SIGTERM; log: $RESTD_LOG"
  RESTD_PID=
}

# Columns the bulk load writes; restd's real schema must have exactly these.
COLUMNS="id name sku category price qty active description created_day created_at updated_at"
load_rows() {
  local cols
  sqlite3 "$DB" .schema >"$TMP/schema.sql"
  cols=$(sqlite3 "$DB" "SELECT name FROM pragma_table_info('item') ORDER BY name" | tr '\n' ' ')
  [[ $cols == "$(tr ' ' '\n' <<<"$COLUMNS" | sort | tr '\n' ' ')" ]] ||
    { cat "$TMP/schema.sql" >&2; die "table item has columns [$cols], the bulk load expects [$COLUMNS]"; }
  # ids: UUIDv7 as restd makes them (48-bit unix ms of created_at, version 7, variant 10, random
  # rest), lowercase 8-4-4-4-12; timestamps canonical UTC with microseconds; rowid order = time order.
  sqlite3 -bail "$DB" >"$TMP/load.log" 2>&1 <<EOF || { cat "$TMP/load.log" >&2; die "bulk load failed"; }
PRAGMA busy_timeout = 5000;
BEGIN;
WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < $ROWS),
r(i, s, us, h) AS MATERIALIZED (
  SELECT i, CAST(strftime('%s', '2024-01-01') AS INTEGER) + 60 * i, (i * 7919) % 1000000,
         lower(hex(randomblob(10)))
  FROM n)
INSERT INTO item (id, name, sku, category, price, qty, active, description, created_day, created_at, updated_at)
SELECT substr(t, 1, 8) || '-' || substr(t, 9, 4) || '-7' || substr(h, 1, 3) || '-' ||
       substr('89ab', 1 + (i % 4), 1) || substr(h, 4, 3) || '-' || substr(h, 7, 12),
       printf('Item %06d', i), printf('SKU-%06d', i), printf('c%02d', i % 20),
       round((i % 10000) / 100.0 + 0.99, 2), i % 500, (i % 3) <> 0,
       printf('Bench item %d of category c%02d', i, i % 20),
       date(s, 'unixepoch', '-' || (i % 730) || ' days'), ts, ts
FROM (SELECT i, h, s, printf('%012x', s * 1000 + us / 1000) AS t,
             strftime('%Y-%m-%dT%H:%M:%S', s, 'unixepoch') || printf('.%06dZ', us) AS ts FROM r);
COMMIT;
PRAGMA wal_checkpoint(TRUNCATE);
EOF
  local n; n=$(sqlite3 "$DB" "SELECT count(*) FROM item")
  ((n >= ROWS)) || die "bulk load: $n rows in item, expected $ROWS"
  sqlite3 "$DB" "SELECT id FROM item" >"$TMP/ids.txt"
}

# ---- nginx: as many workers as restd has event loops, static files, temp paths in $TMP/nginx ----
NGX_PID=
start_nginx() {
  local d=$TMP/nginx user=
  mkdir -p "$d/www" "$d/tmp"
  cp "$TMP/one.json" "$TMP/list.json" "$d/www/"
  # As root, the worker would otherwise switch to `nobody`: keep the current user.
  [[ $(id -u) == 0 ]] && user="user $(id -un) $(id -gn);"
  free_port NGX_PORT
  cat >"$d/nginx.conf" <<EOF
$user
worker_processes $WORKERS; daemon off; master_process on; pid $d/nginx.pid; error_log $d/error.log;
events { worker_connections 4096; }
http {
  access_log off; default_type application/json; types { }
  keepalive_requests 100000000; keepalive_timeout 60s;
  client_body_temp_path $d/tmp/b; proxy_temp_path $d/tmp/p; fastcgi_temp_path $d/tmp/f;
  uwsgi_temp_path $d/tmp/u; scgi_temp_path $d/tmp/s;
  server { listen 127.0.0.1:$NGX_PORT; root $d/www; }
}
EOF
  spawn "$d/stderr.log" nginx -e "$d/error.log" -p "$d" -c "$d/nginx.conf"
  NGX_PID=$SPAWNED; NGX_URL=http://127.0.0.1:$NGX_PORT
  wait_http "$NGX_URL/one.json" "$NGX_PID" "$d/error.log"
}

# ---- wrk ----
declare -A R   # R[workload.key] = value from the BENCH line
run_wrk() { # run_wrk NAME SCRIPT URL PATH [DURATION]: warm-up, then the counted run
  local name=$1 script=$2 url=$3 path=$4 dur=${5:-$DURATION} out line kv
  export BENCH_LUA=$BENCH/lua BENCH_PATH=$path BENCH_IDS=$TMP/ids.txt
  if [[ $WARMUP != 0 && $WARMUP != 0s ]]; then
    log "$name: warm-up $WARMUP"
    BENCH_NAME=$name-warmup BENCH_NONCE=$NONCE-$name-warmup BENCH_STRICT=1 "${WRK_PFX[@]}" wrk -t1 -c"$CONNS" -d"$WARMUP" --timeout "$WRK_TIMEOUT" \
      -s "$BENCH/lua/$script" "$url" >"$TMP/wrk-$name-warmup.out" 2>&1 || die "wrk failed: $TMP/wrk-$name-warmup.out"
    check_line "$name-warmup" "$(grep '^BENCH ' "$TMP/wrk-$name-warmup.out")"
  fi
  log "$name: $dur, $CONNS connections: $url$path"
  local pids b0 b1 s0 s1 t0 t1 wcpu=
  pids=$(srv_pids "$url"); b0=$(cpu_busy); s0=$(proc_cpu $pids); t0=$(date +%s%N)
  BENCH_NAME=$name BENCH_NONCE=$NONCE-$name BENCH_STRICT=$STRICT "${TIME[@]}" "${WRK_PFX[@]}" wrk -t1 -c"$CONNS" -d"$dur" \
    --timeout "$WRK_TIMEOUT" --latency -s "$BENCH/lua/$script" "$url" >"$TMP/wrk-$name.out" 2>&1 ||
    die "wrk failed: $TMP/wrk-$name.out"
  b1=$(cpu_busy); s1=$(proc_cpu $pids); t1=$(date +%s%N)
  line=$(grep '^BENCH ' "$TMP/wrk-$name.out") || die "no BENCH line in $TMP/wrk-$name.out"
  check_line "$name" "$line"
  for kv in $line; do [[ $kv == *=* ]] && R[$name.${kv%%=*}]=${kv#*=}; done
  # CPU in cores over the run: the server (all its threads), wrk, and everything else on the machine.
  [[ ${#TIME[@]} -gt 0 ]] && wcpu=$(awk '/^WRKCPU/ { print $2 + $3 }' "$TMP/wrk-$name.out")
  read -r R[$name.srv_cores] R[$name.wrk_cores] R[$name.other_cores] < <(awk -v b="$((b1 - b0))" \
    -v s="$((s1 - s0))" -v w="$wcpu" -v hz="$HZ" -v ns="$((t1 - t0))" 'BEGIN {
      sec = ns / 1e9; srv = s / hz / sec; tot = b / hz / sec
      if (w == "") { printf "%.2f n/a n/a\n", srv; exit }
      wc = w / sec; o = tot - srv - wc; if (o < 0) o = 0
      printf "%.2f %.2f %.2f\n", srv, wc, o }')
  log "  $line"
  log "  cpu (cores): server ${R[$name.srv_cores]}, wrk ${R[$name.wrk_cores]}, everything else ${R[$name.other_cores]}"
}
# CPU accounting: jiffies busy on the whole machine (user, nice, system, steal; not irq/softirq,
# which no process is charged for), and of given processes (user + system, all threads).
HZ=$(getconf CLK_TCK)
TIME=(); [[ -x /usr/bin/time ]] && TIME=(/usr/bin/time -f 'WRKCPU %U %S' -a -o /dev/stdout)
cpu_busy() { awk '/^cpu / { print $2 + $3 + $4 + $9; exit }' /proc/stat; }
proc_cpu() { local p t=0; for p; do t=$((t + $(sed 's/.*) //' "/proc/$p/stat" 2>/dev/null | awk '{ s = $12 + $13 } END { print s + 0 }'))); done; echo "$t"; }
srv_pids() { # the processes serving URL: restd, or nginx's workers
  if [[ $1 == "${NGX_URL:-}" ]]; then ps -o pid= --ppid "$NGX_PID" | tr -d ' '; else echo "$RESTD_PID"; fi
}
check_line() { # check_line NAME LINE: every request must have succeeded
  local kv k v bad=
  [[ -n $2 ]] || die "$1: wrk printed no BENCH line"
  for kv in $2; do
    k=${kv%%=*}; v=${kv#*=}
    case $k in non2xx|connect_err|read_err|write_err|timeouts) [[ $v == 0 ]] || bad+=" $k=$v" ;; esac
    [[ $k == requests && $v == 0 ]] && bad+=" requests=0"
  done
  [[ -z $bad ]] || { cat "$TMP/wrk-$1.out" >&2; tail -20 "$RESTD_LOG" >&2 2>/dev/null || true
                     die "$1: errors during the run:$bad (a benchmark of errors is meaningless)"; }
}

# ---- helpers ----
fmt() { awk -v x="$1" 'BEGIN { printf (x >= 100 ? "%.0f" : (x >= 10 ? "%.1f" : "%.2f")), x }'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "n/a" }'; }
hwm_kib() { awk '/^VmHWM/ { print $2 }' "/proc/$1/status" 2>/dev/null || echo 0; }
json_count() { grep -o "\"$1\"" "$2" | wc -l; }

# =============================== main ===============================
LOAD0=$(cut -d' ' -f1-3 /proc/loadavg)
START=$(date +%s)
NONCE=$(date +%s)$$   # skus made by the creates: w<NONCE>-<run>-<thread>-<counter>

if [[ $STATIC_ONLY == 1 ]]; then
  printf '{"id":"3f2b8c1e-5d4a-4e7b-9c1d-2a6f8e0b7c35","name":"Item 050000","sku":"SKU-050000","category":"c00","price":0.99,"qty":0,"active":true,"description":"Bench item 50000 of category c00","created_day":"2024-06-19","created_at":"2024-02-04T17:20:00.000000Z","updated_at":"2024-02-04T17:20:00.000000Z"}' >"$TMP/one.json"
  echo '[]' >"$TMP/list.json"
else
  log "restd: creating the schema ($RESTD_SRC, $("$RESTD" --version 2>&1 | head -1))"
  start_restd
  stop_restd
  log "loading $ROWS rows with sqlite3"
  t0=$(date +%s.%N); load_rows; LOAD_S=$(awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", b - a }')
  log "loaded in $LOAD_S s; restarting restd"
  start_restd

  # First requests, checked by hand: exact statuses and plausible bodies.
  ID=$(sed -n "$((ROWS / 2))p" "$TMP/ids.txt")
  st=$(http GET "$RESTD_URL$BASE/$ROUTE/$ID" "$TMP/one.json")
  [[ $st == 200 ]] || { cat "$TMP/one.json" >&2; die "GET by id: status $st, expected 200"; }
  grep -q "\"$ID\"" "$TMP/one.json" || { cat "$TMP/one.json" >&2; die "GET by id: the body does not hold id $ID"; }
  st=$(http GET "$RESTD_URL$BASE/$ROUTE?$LIST_QUERY" "$TMP/list.json")
  [[ $st == 200 ]] || { cat "$TMP/list.json" >&2; die "list: status $st, expected 200"; }
  n=$(json_count sku "$TMP/list.json"); m=$(grep -o '"category": *"c07"' "$TMP/list.json" | wc -l)
  ((n == 50 && m == 50)) || { head -c 600 "$TMP/list.json" >&2; die "list: $n rows / $m of category c07, expected 50 / 50"; }
  st=$(http POST "$RESTD_URL$BASE/$ROUTE" "$TMP/created.json" \
    '{"name":"Bench probe","sku":"probe-'"$NONCE"'","category":"c03","price":1.5,"qty":2,"active":true,"description":"probe","created_day":"2025-01-02"}')
  [[ $st == 201 ]] || { cat "$TMP/created.json" >&2; die "POST create: status $st, expected 201"; }
  NEW_ID=$(grep -o '"id": *"[0-9a-f-]*"' "$TMP/created.json" | head -1 | grep -o '[0-9a-f-]\{36\}') ||
    { cat "$TMP/created.json" >&2; die "POST create: no id in the response"; }
  st=$(http GET "$RESTD_URL$BASE/$ROUTE/$NEW_ID" /dev/null)
  [[ $st == 200 ]] || die "GET of the row just created ($NEW_ID): status $st"
  st=$(http GET "$RESTD_URL$BASE/$ROUTE/00000000-0000-4000-8000-000000000000" /dev/null)
  [[ $st == 404 ]] || log "note: GET of an unknown id answered $st (expected 404)"
fi
ONE_BYTES=$(wc -c <"$TMP/one.json"); LIST_BYTES=$(wc -c <"$TMP/list.json")

start_nginx
st=$(http GET "$NGX_URL/one.json" /dev/null); [[ $st == 200 ]] || die "nginx one.json: status $st"

run_wrk nginx-one fixed.lua "$NGX_URL" /one.json
if [[ $STATIC_ONLY != 1 ]]; then
  run_wrk get get_by_id.lua "$RESTD_URL" "$BASE/$ROUTE/"
  run_wrk nginx-list fixed.lua "$NGX_URL" /list.json
  run_wrk list fixed.lua "$RESTD_URL" "$BASE/$ROUTE?$LIST_QUERY"
  run_wrk create create.lua "$RESTD_URL" "$BASE/$ROUTE"
fi
run_wrk nginx-one2 fixed.lua "$NGX_URL" /one.json
NGX_BASE=$(awk -v a="${R[nginx-one.rps]}" -v b="${R[nginx-one2.rps]}" 'BEGIN { printf "%.1f", (a + b) / 2 }')

SYNC_NOTE="not run"
if [[ $STATIC_ONLY != 1 ]]; then
  RSS_KIB=$(hwm_kib "$RESTD_PID"); RSS_NOW=$(awk '/^VmRSS/ { print $2 }' "/proc/$RESTD_PID/status")
  NTHREADS=$(awk '/^Threads/ { print $2 }' "/proc/$RESTD_PID/status")
  CHILD_NOTE=
  for c in $(ps -o pid= --ppid "$RESTD_PID" 2>/dev/null || true); do
    CHILD_NOTE+=" child $c: $(( $(hwm_kib "$c") / 1024 )) MiB;"
  done

  # fsync evidence: strace counts the sync calls of every restd thread during a short extra run.
  if [[ $SYNC_CHECK == 1 ]] && command -v strace >/dev/null; then
    log "sync check: 3 s of creates under strace (not part of the table)"
    strace -f -c -e trace=fsync,fdatasync,sync_file_range,msync -p "$RESTD_PID" -o "$TMP/strace.txt" 2>"$TMP/strace.err" &
    SPID=$!; PIDS+=("$SPID"); sleep 1
    if alive "$SPID"; then
      WARMUP=0 run_wrk create-strace create.lua "$RESTD_URL" "$BASE/$ROUTE" 3s
      kill -INT "$SPID" 2>/dev/null || true; wait "$SPID" 2>/dev/null || true; forget "$SPID"
      SYNCS=$(awk '$NF ~ /^(fsync|fdatasync|sync_file_range|msync)$/ { s += $4 } END { print s + 0 }' "$TMP/strace.txt")
      if ((SYNCS > 0)); then
        SYNC_NOTE="$SYNCS sync calls for ${R[create-strace.requests]} creates in 3 s under strace ($(awk -v a="${R[create-strace.requests]}" -v b="$SYNCS" 'BEGIN { printf "%.1f", a / b }') creates per sync; strace slows restd, so this shows syncing and batching, not speed)"
      else
        SYNC_NOTE="NO fsync/fdatasync seen during ${R[create-strace.requests]} creates: acknowledged writes are not synced"
      fi
    else
      forget "$SPID"; SYNC_NOTE="strace could not attach ($(head -1 "$TMP/strace.err"))"
    fi
  fi

  stop_restd
  grep -v '^=== start' "$RESTD_LOG" >"$TMP/restd-errors.log" || true
  LOG_LINES=$(wc -l <"$TMP/restd-errors.log")
  ((LOG_LINES == 0)) || { log "restd logged $LOG_LINES line(s) at --log-level error; the first ones:"; head -5 "$TMP/restd-errors.log" >&2; }
  # Rows per counted create run (warm-ups have "-warmup" in the sku): at least the creates wrk saw
  # acknowledged, at most CONNS more (requests in flight when wrk stops may still commit).
  MADE=$(sqlite3 "$DB" "SELECT count(*) FROM item WHERE sku GLOB 'w$NONCE-create-[0-9]*'")
  ACKED=${R[create.requests]}
  ((MADE >= ACKED)) || die "creates: $ACKED acknowledged by restd, only $MADE rows in the database"
  ((MADE <= ACKED + CONNS)) || die "creates: $MADE rows in the database, more than the $ACKED acknowledged + $CONNS in flight"
  QC=$(sqlite3 "$DB" "PRAGMA quick_check" | head -3 | tr '\n' ' ')
  [[ $QC == "ok " ]] || die "database quick_check after the run: $QC"
fi
stop "$NGX_PID" 10

# ---- report ----
COMMIT=$(git -C "$ROOT" rev-parse --short=12 HEAD 2>/dev/null || echo "none (no commit yet)")
if [[ -n $(git -C "$ROOT" --no-optional-locks status --porcelain --untracked-files=no 2>/dev/null) ]] ||
   ! git -C "$ROOT" rev-parse -q --verify HEAD >/dev/null 2>&1; then COMMIT+=", work tree has uncommitted changes"; fi
CPU=$(sed -n 's/^model name\s*: //p' /proc/cpuinfo | head -1)
MEM=$(awk '/MemTotal/ { printf "%.1f GiB", $2 / 1048576 }' /proc/meminfo)
NGX_V=$(nginx -v 2>&1 | sed 's/.*nginx\///'); SQ_V=$(sqlite3 --version | cut -d' ' -f1)
ELAPSED=$(( $(date +%s) - START ))

us_req() { awk -v c="${R[$1.srv_cores]}" -v r="${R[$1.rps]}" 'BEGIN { printf "%.1f", c * 1e6 / r }'; }
busy() { awk -v o="${R[$1.other_cores]}" 'BEGIN { exit !(o != "n/a" && o > 0.2) }'; }
row() { # row WORKLOAD LABEL NOTES
  local w=$1 warn=
  busy "$w" && warn=" **(machine busy: req/s disturbed)**"
  printf '| %s | %s | %s ms | %s ms | %s | %s; CPU: server %s cores, %s µs/req; wrk %s; others %s%s |\n' \
    "$2" "$(fmt "${R[$w.rps]}")" "$(fmt "${R[$w.p50_ms]}")" "$(fmt "${R[$w.p99_ms]}")" \
    "$(ratio "${R[$w.rps]}" "$NGX_BASE")" "$3" "${R[$w.srv_cores]}" "$(us_req "$w")" "${R[$w.wrk_cores]}" \
    "${R[$w.other_cores]}" "$warn"
}
pass() { awk -v a="$1" -v b="$2" 'BEGIN { print (a >= b ? "**met**" : "**not met**") }'; }
NGX_US=$(awk -v a="$(us_req nginx-one)" -v b="$(us_req nginx-one2)" 'BEGIN { printf "%.1f", (a + b) / 2 }')
CPU_RATIO=n/a; [[ $STATIC_ONLY == 1 ]] || CPU_RATIO=$(ratio "$NGX_US" "$(us_req get)")

report() {
  echo "## Latest run"
  echo
  echo "Generated by \`bench/run.sh\` on $(date -u '+%Y-%m-%d %H:%M UTC'); do not edit by hand between the markers."
  echo
  echo "- Machine: $(nproc) cores, $CPU, $(uname -sr), $MEM RAM; load average before the run: $LOAD0."
  echo "- restd: commit $COMMIT; \`--workers $WORKERS\`, SQLite database with $ROWS rows loaded."
  echo "- Load: wrk 4.1, 1 thread, $CONNS connections, $DURATION per workload after a $WARMUP warm-up," \
       "latency cap $WRK_TIMEOUT; pinning: $([[ $PIN == 1 ]] && echo 'servers on CPU 0, wrk on CPU 1' || echo none)." \
       "nginx $NGX_V with $WORKERS worker process(es), static files; SQLite $SQ_V. Whole run: $ELAPSED s."
  echo "- CPU in the notes: cores used (user + system time per second of run) by the server (all its threads; also per request), by wrk, and by every other process on the machine (irq/softirq time, e.g. loopback packets, is charged to none). Others above about 0.2 cores mean the machine was busy with other work: req/s are then lower and noisier than on a quiet machine, and the server's µs/req is the steadier figure. Load average after the run: $(cut -d' ' -f1-3 /proc/loadavg)."
  echo "- Ratio: req/s over the mean of the two nginx one-row runs ($(fmt "$NGX_BASE") req/s); nginx varies with the moment on this shared machine, so only same-run ratios compare."
  echo "- CPU per request ratio: nginx's server CPU per request (mean of its two one-row runs, $NGX_US µs) over restd's. With both servers on one core and wrk the same for both, it predicts the req/s ratio of a quiet machine, and it moves little when other work shares the machine."
  echo
  echo "| workload | req/s | p50 | p99 | ratio to nginx | notes |"
  echo "|---|---:|---:|---:|---:|---|"
  row nginx-one "nginx static one row" "$ONE_BYTES-byte file (the row below, fetched from restd); first run"
  if [[ $STATIC_ONLY != 1 ]]; then
    row get "GET by id" "\`GET $BASE/$ROUTE/{id}\`, random ids of $ROWS rows; $ONE_BYTES-byte body; no auth"
    row nginx-list "nginx static list page" "$LIST_BYTES-byte file (the list page below)"
    row list "list" "\`GET $BASE/$ROUTE?$LIST_QUERY\`, 50 rows, $LIST_BYTES bytes; $(ratio "${R[list.rps]}" "${R[nginx-list.rps]}") of nginx serving the same bytes"
    row create "POST create" "new row per request; $ACKED acknowledged, $MADE rows in the database after the run"
  fi
  row nginx-one2 "nginx static one row" "second run, after the restd runs"
  echo
  echo "Every request of every run succeeded: no socket error or timeout; no status outside 2xx in the warm-ups, none >= 400 in the counted runs$([[ $STRICT == 1 ]] && echo ' (checked strictly too)'); each request kind was first sent with curl and its exact status checked."
  if [[ $STATIC_ONLY != 1 ]]; then
    echo
    echo "- Peak RSS of restd (VmHWM at the end of the runs): $((RSS_KIB / 1024)) MiB (VmRSS then: $((RSS_NOW / 1024)) MiB; $NTHREADS threads).$CHILD_NOTE"
    echo "- Durability: $SYNC_NOTE."
    echo "- restd log at \`--log-level error\`: $LOG_LINES line(s); database \`quick_check\`: ok; bulk load of $ROWS rows: $LOAD_S s."
    echo
    echo "| target | measured | status |"
    echo "|---|---:|---|"
    echo "| GET by id ≥ 70% of nginx (same run) | $(ratio "${R[get.rps]}" "$NGX_BASE") by req/s$( { busy get || busy nginx-one || busy nginx-one2; } && echo ' (disturbed: see the flags above)'); $CPU_RATIO by CPU per request | $(pass "$(ratio "${R[get.rps]}" "$NGX_BASE")" 0.70) by req/s; $(pass "$CPU_RATIO" 0.70) by CPU |"
    echo "| POST create ≥ 5,000 durable creates/s at 64 connections | $(fmt "${R[create.rps]}")/s at $CONNS | $( ((CONNS == 64)) && pass "${R[create.rps]}" 5000 || echo "n/a: CONNS=$CONNS") |"
  fi
}
REPORT=$(report)
echo "$REPORT"

if [[ $WRITE_DOC == 1 && $STATIC_ONLY != 1 ]]; then
  if [[ ! -f $DOC ]] || ! grep -q '<!-- bench:begin -->' "$DOC" || ! grep -q '<!-- bench:end -->' "$DOC"; then
    printf '\n<!-- bench:begin -->\n<!-- bench:end -->\n' >>"$DOC"
  fi
  printf '%s\n' "$REPORT" >"$TMP/report.md"
  awk -v f="$TMP/report.md" '
    /<!-- bench:begin -->/ { print; while ((getline l < f) > 0) print l; skip = 1; next }
    /<!-- bench:end -->/ { skip = 0 }
    !skip { print }' "$DOC" >"$TMP/performance.md"
  cat "$TMP/performance.md" >"$DOC"
  log "wrote the generated section of ${DOC#"$ROOT"/}"
fi
