# shellcheck shell=bash disable=SC2034
# bench/lib.sh - shell pieces shared by bench/run.sh and bench/query.sh.
#
# Sourced (not run) by both, after they have set ROOT and BENCH (the repo
# and its bench/ directory) and `set -euo pipefail`. Defines functions and
# a few constants only; nothing starts until the caller calls bench_setup.
#
# Settings read (the callers set defaults and document them): RESTD,
# WORKERS, CONNS, DURATION, WARMUP, WRK_TIMEOUT, PIN, STRICT, KEEP, ROWS,
# BENCH_AUTH, SRV_LOG (the log check_line shows, default RESTD_LOG). Globals
# set here: TMP (scratch directory), DB, RESTD_LOG,
# RESTD_SRC, RESTD_PID/RESTD_URL, RESTD_AT[url] (PID), R[workload.key] (wrk
# results), PIDS.
#
# Pieces: logging; process tracking (every PID started here is stopped by
# PID on exit); loopback ports and HTTP probes; restd start/stop (the bench
# app, or another app and database beside it: launch_restd); the bulk
# load of the bench app's `item` table with the sqlite3 CLI; wrk runs
# through bench/lua (warm-up with strict status checks, then the counted
# run), the parsing of their BENCH lines, and CPU accounting (server, wrk,
# everyone else); a quiet-machine wait; and the machine description.

BENCH_TAG=${BENCH_TAG:-bench}
log() { echo "[$BENCH_TAG] $*" >&2; }
die() { echo "[$BENCH_TAG] FAIL: $*" >&2; exit 1; }

# bench_setup NEED_RESTD TOOL...: pinning prefixes, the tools, the scratch directory $TMP (with a
# copy of restd when NEED_RESTD is 1: others may rebuild build/restd meanwhile, and could not
# while it runs), and the exit trap that stops every process started here.
bench_setup() {
  local need=$1 t; shift
  SRV_PFX=(); WRK_PFX=()
  if [[ $PIN == 1 ]]; then SRV_PFX=(taskset -c 0); WRK_PFX=(taskset -c 1); fi
  for t; do command -v "$t" >/dev/null || die "$t not found (make deps)"; done
  [[ $need != 1 || -x $RESTD ]] || die "$RESTD not built (make build)"
  TMP=$(mktemp -d "/tmp/${BENCH_TMP_NAME:-restd-bench}.XXXXXX")
  chmod 755 "$TMP"
  if [[ $need == 1 ]]; then cp "$RESTD" "$TMP/restd"; RESTD_SRC=$RESTD; RESTD=$TMP/restd; fi
  DB=$TMP/bench.db
  RESTD_LOG=$TMP/restd.log
  trap cleanup EXIT
  trap 'exit 130' INT TERM
}

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
http() { # http METHOD URL OUT [BODY]: prints the status code; body into OUT (headers into $HTTP_HEADERS if set)
  local a=(-sS -o "$3" -w '%{http_code}' --max-time 10 -X "$1")
  [[ -n ${HTTP_HEADERS:-} ]] && a+=(-D "$HTTP_HEADERS")
  [[ -n $BENCH_AUTH ]] && a+=(-H "Authorization: $BENCH_AUTH")
  [[ $# -ge 4 ]] && a+=(-H 'Content-Type: application/json' --data-binary "$4")
  curl "${a[@]}" "$2"
}

# ---- restd (on $DB, the app in bench/app; BASE, ROUTE, HEALTH as in bench/app/app.yaml) ----
BASE=/api; ROUTE=items; HEALTH=/health
RESTD_PID=
declare -A RESTD_AT   # RESTD_AT[url] = PID of the restd serving url (for srv_pids)
launch_restd() { # launch_restd APP DB LOG: restd serving APP on DB, output into LOG; sets LAUNCHED_PID, LAUNCHED_URL
  local port
  free_port port
  echo "=== start $(date -u +%T) port $port" >>"$3"
  spawn "$3" "$RESTD" serve --app "$1" --db "sqlite:$2" \
    --listen "127.0.0.1:$port" --workers "$WORKERS" --log-level error
  LAUNCHED_PID=$SPAWNED; LAUNCHED_URL=http://127.0.0.1:$port; RESTD_AT[$LAUNCHED_URL]=$LAUNCHED_PID
  wait_http "$LAUNCHED_URL$HEALTH" "$LAUNCHED_PID" "$3"
}
halt_restd() { # halt_restd PID LOG: SIGTERM; restd must exit 0
  stop "$1" 20
  [[ $STOP_RC == 0 ]] || die "restd (PID $1) exited with status $STOP_RC on SIGTERM; log: $2"
}
start_restd() { # the bench app on $DB: sets RESTD_PID, RESTD_URL, RESTD_PORT
  launch_restd "$BENCH/app" "$DB" "$RESTD_LOG"
  RESTD_PID=$LAUNCHED_PID; RESTD_URL=$LAUNCHED_URL; RESTD_PORT=${RESTD_URL##*:}
}
stop_restd() {
  halt_restd "$RESTD_PID" "$RESTD_LOG"
  RESTD_PID=
}
restd_log_lines() { # restd_log_lines [LOG...]: the lines restd logged at --log-level error in the LOGs (default
  # $RESTD_LOG) into $TMP/restd-errors.log; sets LOG_LINES
  cat "${@:-$RESTD_LOG}" | grep -v '^=== start' >"$TMP/restd-errors.log" || true
  LOG_LINES=$(wc -l <"$TMP/restd-errors.log")
  ((LOG_LINES == 0)) || { log "restd logged $LOG_LINES line(s) at --log-level error; the first ones:"; head -5 "$TMP/restd-errors.log" >&2; }
}

# Columns the bulk load writes; restd's real schema must have exactly these.
COLUMNS="id name sku category price qty active description created_day created_at updated_at"
load_rows() { # ROWS rows into item (rowids 1..ROWS in creation order); ids into $TMP/ids.txt
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

# ---- wrk ----
declare -A R   # R[workload.key] = value from the BENCH line
run_wrk() { # run_wrk NAME SCRIPT URL PATH [DURATION]: warm-up, then the counted run
  # (CONNS connections; get_by_id.lua appends the lines of WRK_IDS, default the loaded ids, to PATH)
  local name=$1 script=$2 url=$3 path=$4 dur=${5:-$DURATION} out line kv
  export BENCH_LUA=$BENCH/lua BENCH_PATH=$path BENCH_IDS=${WRK_IDS:-$TMP/ids.txt}
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
srv_pids() { # the processes serving URL: nginx's workers, or the restd serving it
  if [[ $1 == "${NGX_URL:-}" ]]; then ps -o pid= --ppid "$NGX_PID" | tr -d ' '; else echo "${RESTD_AT[$1]:-$RESTD_PID}"; fi
}
check_line() { # check_line NAME LINE: every request must have succeeded
  local kv k v bad=
  [[ -n $2 ]] || die "$1: wrk printed no BENCH line"
  for kv in $2; do
    k=${kv%%=*}; v=${kv#*=}
    case $k in non2xx|connect_err|read_err|write_err|timeouts) [[ $v == 0 ]] || bad+=" $k=$v" ;; esac
    [[ $k == requests && $v == 0 ]] && bad+=" requests=0"
  done
  [[ -z $bad ]] || { cat "$TMP/wrk-$1.out" >&2; tail -20 "${SRV_LOG:-$RESTD_LOG}" >&2 2>/dev/null || true
                     die "$1: errors during the run:$bad (a benchmark of errors is meaningless)"; }
}

# ---- the machine's other load ----
others_cores() { # others_cores SECONDS [PID...]: cores used by every process but PIDs over SECONDS
  local b0 b1 s0 s1 t0 t1
  b0=$(cpu_busy); s0=$(proc_cpu "${@:2}"); t0=$(date +%s%N)
  sleep "$1"
  b1=$(cpu_busy); s1=$(proc_cpu "${@:2}"); t1=$(date +%s%N)
  awk -v b="$((b1 - b0))" -v s="$((s1 - s0))" -v hz="$HZ" -v ns="$((t1 - t0))" \
    'BEGIN { o = (b - s) / hz / (ns / 1e9); printf "%.2f\n", (o < 0 ? 0 : o) }'
}
busier() { awk -v a="$1" -v b="$2" 'BEGIN { exit !(a != "n/a" && a > b) }'; } # busier A B: A > B
# wait_quiet [PID...]: sample the others' CPU (every process but PIDs) for QUIET_SAMPLE seconds;
# while above QUIET_MAX cores, wait QUIET_WAIT seconds and sample again, at most QUIET_RETRIES
# times. Sets QUIET_CORES (the last sample), QUIET_TRIES (retries used), QUIET_OK (1: quiet).
QUIET_MAX=${QUIET_MAX:-0.2}; QUIET_SAMPLE=${QUIET_SAMPLE:-5}; QUIET_WAIT=${QUIET_WAIT:-30}; QUIET_RETRIES=${QUIET_RETRIES:-3}
wait_quiet() {
  local i
  for ((i = 0; ; i++)); do
    QUIET_CORES=$(others_cores "$QUIET_SAMPLE" "$@"); QUIET_TRIES=$i
    busier "$QUIET_CORES" "$QUIET_MAX" || { QUIET_OK=1; log "machine quiet: others use $QUIET_CORES cores"; return 0; }
    log "machine busy: others use $QUIET_CORES cores (> $QUIET_MAX); the busiest processes:"
    ps -eo pid=,pcpu=,etime=,comm= --sort=-pcpu | head -3 | sed "s/^/[$BENCH_TAG]     /" >&2
    if ((i >= QUIET_RETRIES)); then QUIET_OK=0; log "still busy after $i retries: going on, the report flags it"; return 0; fi
    log "waiting ${QUIET_WAIT} s (retry $((i + 1)) of $QUIET_RETRIES)"; sleep "$QUIET_WAIT"
  done
}

# ---- helpers ----
fmt() { awk -v x="$1" 'BEGIN { printf (x >= 100 ? "%.0f" : (x >= 10 ? "%.1f" : "%.2f")), x }'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "n/a" }'; }
hwm_kib() { awk '/^VmHWM/ { print $2 }' "/proc/$1/status" 2>/dev/null || echo 0; }
mem_kib() { # mem_kib PID: "VmHWM VmRSS RssAnon RssFile Threads" (KiB; 0 when absent)
  awk '/^VmHWM/ { h = $2 } /^VmRSS/ { r = $2 } /^RssAnon/ { a = $2 } /^RssFile/ { f = $2 } /^Threads/ { t = $2 }
    END { print h + 0, r + 0, a + 0, f + 0, t + 0 }' "/proc/$1/status" 2>/dev/null || echo 0 0 0 0 0
}
json_count() { grep -o "\"$1\"" "$2" | wc -l; }

# ---- the machine and the build, for the report ----
machine_facts() { # sets COMMIT, CPU, MEM, SQ_V
  COMMIT=$(git -C "$ROOT" rev-parse --short=12 HEAD 2>/dev/null || echo "none (no commit yet)")
  if [[ -n $(git -C "$ROOT" --no-optional-locks status --porcelain --untracked-files=no 2>/dev/null) ]] ||
     ! git -C "$ROOT" rev-parse -q --verify HEAD >/dev/null 2>&1; then COMMIT+=", work tree has uncommitted changes"; fi
  CPU=$(sed -n 's/^model name\s*: //p' /proc/cpuinfo | head -1)
  MEM=$(awk '/MemTotal/ { printf "%.1f GiB", $2 / 1048576 }' /proc/meminfo)
  SQ_V=$(sqlite3 --version | cut -d' ' -f1)
}
machine_desc() { echo "$(nproc) cores, $CPU, $(uname -sr), $MEM RAM"; }

# write_section BEGIN END FILE: replace the lines between the markers in $DOC by FILE (markers
# appended when missing). Only called after a run succeeded.
write_section() {
  if [[ ! -f $DOC ]] || ! grep -qF -- "$1" "$DOC" || ! grep -qF -- "$2" "$DOC"; then
    printf '\n%s\n%s\n' "$1" "$2" >>"$DOC"
  fi
  awk -v f="$3" -v b="$1" -v e="$2" '
    index($0, b) { print; while ((getline l < f) > 0) print l; skip = 1; next }
    index($0, e) { skip = 0 }
    !skip { print }' "$DOC" >"$TMP/performance.md"
  cat "$TMP/performance.md" >"$DOC"
}
