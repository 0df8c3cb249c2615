#!/usr/bin/env bash
# bench/run.sh - restd throughput and latency beside nginx, on loopback.
#
# Starts restd on a fresh SQLite database with the app in bench/app/ (one
# model, `item`), bulk-loads ROWS rows with the sqlite3 CLI, starts nginx
# serving the bytes of one real row (and of one real list page) as static
# files, and drives each with wrk (one thread). A second restd serves
# bench/app-auth/ (the same `item` model plus a `person` model and an
# `auth:` section: every model route needs a bearer token) on its own port
# and its own copy of the loaded database (copied after the load, before
# either server starts on it); one account is made in it with `restd user
# add`, and its access token, from the login route, is sent with every
# request of the get-auth workload. Workloads, in this order so that nginx
# brackets the restd runs:
#
#   nginx-one   nginx: a static file holding one row fetched from restd
#   get         restd: GET /api/items/<id>, random ids of the loaded rows
#   get-auth    the auth restd: the same requests (same ids, duration, connections)
#               with `Authorization: Bearer <access token>`; stopped after
#   nginx-list  nginx: a static file holding the list page below
#   list        restd: GET /api/items?category=c07&limit=50
#   create      restd: POST /api/items, a new unique row per request
#   nginx-one2  nginx-one again; the ratio base is the mean of both
#
# Every request must succeed: any status >= 400, socket error or timeout
# aborts the benchmark (a benchmark of errors is meaningless), and so does
# a first request (curl) answering with anything but the expected status.
# Afterwards: peak RSS (VmHWM) of restd and its anonymous (own) memory
# (RssAnon: VmHWM includes the database pages it maps), a count of the rows the creates
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
#   RESTD=build/restd BENCH_AUTH= (Authorization header value for the bench
#                     app's server, if needed; the auth server gets its own)
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
# The authenticated server: bench/app-auth (login route and account as below), database in its
# own directory (restd keeps the token signing key, jwt.key, beside the database).
AUTH_APP=$BENCH/app-auth; AUTH_LOGIN=/api/auth/login; AUTH_EMAIL=bench@example.com
# Shared pieces (processes, restd, bulk load, wrk runs, CPU accounting, machine description).
# shellcheck source=bench/lib.sh
. "$BENCH/lib.sh"

bench_setup "$([[ $STATIC_ONLY == 1 ]] && echo 0 || echo 1)" wrk nginx sqlite3 curl awk

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
  # The auth server's copy: the loaded file as is (the load ends with a truncating checkpoint and
  # no restd has it open, so the WAL is empty), before either server starts on it.
  [[ ! -s $DB-wal ]] || die "the WAL of $DB is not empty after the load: cannot copy the file alone"
  mkdir -p "$TMP/auth"; AUTH_DB=$TMP/auth/bench.db; AUTH_LOG=$TMP/restd-auth.log
  cp "$DB" "$AUTH_DB"
  AUTH_PW=bench-$NONCE-$RANDOM
  log "auth copy: $AUTH_DB; adding the account $AUTH_EMAIL (restd user add)"
  printf '%s\n' "$AUTH_PW" | "$RESTD" user add --app "$AUTH_APP" --db "sqlite:$AUTH_DB" --password-stdin \
    '{"email":"'"$AUTH_EMAIL"'","role":"user"}' >"$TMP/user-add.log" 2>&1 ||
    { cat "$TMP/user-add.log" >&2; die "restd user add failed"; }
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

  # The auth server: log in, then the same GET by id with the token (200, the same bytes as
  # without auth on the other server) and without it (401).
  log "auth restd: bench/app-auth on its copy of the database"
  launch_restd "$AUTH_APP" "$AUTH_DB" "$AUTH_LOG"; AUTH_PID=$LAUNCHED_PID; AUTH_URL=$LAUNCHED_URL
  st=$(BENCH_AUTH='' http POST "$AUTH_URL$AUTH_LOGIN" "$TMP/login.json" \
    '{"email":"'"$AUTH_EMAIL"'","password":"'"$AUTH_PW"'"}')
  [[ $st == 200 ]] || { cat "$TMP/login.json" >&2; die "login: status $st, expected 200"; }
  TOKEN=$(grep -o '"access_token": *"[A-Za-z0-9_.-]*"' "$TMP/login.json" | sed 's/.*"\([^"]*\)"$/\1/') || true
  [[ $TOKEN == *.*.* ]] || { cat "$TMP/login.json" >&2; die "login: no access token in the answer"; }
  TOKEN_TTL=$(grep -o '"expires_in": *[0-9]*' "$TMP/login.json" | grep -o '[0-9]*$') || TOKEN_TTL=0
  st=$(BENCH_AUTH='' http GET "$AUTH_URL$BASE/$ROUTE/$ID" "$TMP/one-noauth.json")
  [[ $st == 401 ]] || { cat "$TMP/one-noauth.json" >&2; die "auth GET by id without a token: status $st, expected 401"; }
  st=$(BENCH_AUTH="Bearer $TOKEN" http GET "$AUTH_URL$BASE/$ROUTE/$ID" "$TMP/one-auth.json")
  [[ $st == 200 ]] || { cat "$TMP/one-auth.json" >&2; die "auth GET by id with the token: status $st, expected 200"; }
  cmp -s "$TMP/one.json" "$TMP/one-auth.json" ||
    { cat "$TMP/one.json" "$TMP/one-auth.json" >&2; die "auth GET by id: the body differs from the unauthenticated one"; }
  log "auth restd: login 200 (token ${#TOKEN} bytes, expires in $TOKEN_TTL s); GET by id 200 with it, 401 without"
fi
ONE_BYTES=$(wc -c <"$TMP/one.json"); LIST_BYTES=$(wc -c <"$TMP/list.json")

start_nginx
st=$(http GET "$NGX_URL/one.json" /dev/null); [[ $st == 200 ]] || die "nginx one.json: status $st"

run_wrk nginx-one fixed.lua "$NGX_URL" /one.json
if [[ $STATIC_ONLY != 1 ]]; then
  run_wrk get get_by_id.lua "$RESTD_URL" "$BASE/$ROUTE/"
  BENCH_AUTH="Bearer $TOKEN" SRV_LOG=$AUTH_LOG run_wrk get-auth get_by_id.lua "$AUTH_URL" "$BASE/$ROUTE/"
  read -r A_HWM _ A_ANON A_FILE A_THREADS < <(mem_kib "$AUTH_PID")
  halt_restd "$AUTH_PID" "$AUTH_LOG"
  run_wrk nginx-list fixed.lua "$NGX_URL" /list.json
  run_wrk list fixed.lua "$RESTD_URL" "$BASE/$ROUTE?$LIST_QUERY"
  run_wrk create create.lua "$RESTD_URL" "$BASE/$ROUTE"
fi
run_wrk nginx-one2 fixed.lua "$NGX_URL" /one.json
NGX_BASE=$(awk -v a="${R[nginx-one.rps]}" -v b="${R[nginx-one2.rps]}" 'BEGIN { printf "%.1f", (a + b) / 2 }')

SYNC_NOTE="not run"
if [[ $STATIC_ONLY != 1 ]]; then
  read -r RSS_KIB RSS_NOW RSS_ANON RSS_FILE NTHREADS < <(mem_kib "$RESTD_PID")
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
  restd_log_lines "$RESTD_LOG" "$AUTH_LOG"
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
machine_facts
NGX_V=$(nginx -v 2>&1 | sed 's/.*nginx\///')
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
mib() { awk -v k="$1" 'BEGIN { printf "%.1f", k / 1024 }'; }
pass() { awk -v a="$1" -v b="$2" 'BEGIN { print (a >= b ? "**met**" : "**not met**") }'; }
NGX_US=$(awk -v a="$(us_req nginx-one)" -v b="$(us_req nginx-one2)" 'BEGIN { printf "%.1f", (a + b) / 2 }')
CPU_RATIO=n/a; [[ $STATIC_ONLY == 1 ]] || CPU_RATIO=$(ratio "$NGX_US" "$(us_req get)")
if [[ $STATIC_ONLY != 1 ]]; then # authenticated over unauthenticated: req/s (≥ 0.90 meets), CPU per request (≤ 1.10)
  AUTH_RPS_RATIO=$(ratio "${R[get-auth.rps]}" "${R[get.rps]}"); AUTH_CPU_RATIO=$(ratio "$(us_req get-auth)" "$(us_req get)")
fi

report() {
  echo "## Latest run"
  echo
  echo "Generated by \`bench/run.sh\` on $(date -u '+%Y-%m-%d %H:%M UTC'); do not edit by hand between the markers."
  echo
  echo "- Machine: $(machine_desc); load average before the run: $LOAD0."
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
    row get-auth "GET by id, authenticated" "the same requests with \`Authorization: Bearer\` and a ${#TOKEN}-byte access token, checked on every request; second restd (bench/app-auth) on its copy of the database"
    row nginx-list "nginx static list page" "$LIST_BYTES-byte file (the list page below)"
    row list "list" "\`GET $BASE/$ROUTE?$LIST_QUERY\`, 50 rows, $LIST_BYTES bytes; $(ratio "${R[list.rps]}" "${R[nginx-list.rps]}") of nginx serving the same bytes"
    row create "POST create" "new row per request; $ACKED acknowledged, $MADE rows in the database after the run"
  fi
  row nginx-one2 "nginx static one row" "second run, after the restd runs"
  echo
  echo "Every request of every run succeeded: no socket error or timeout; no status outside 2xx in the warm-ups, none >= 400 in the counted runs$([[ $STRICT == 1 ]] && echo ' (checked strictly too)'); each request kind was first sent with curl and its exact status checked."
  if [[ $STATIC_ONLY != 1 ]]; then
    echo
    echo "- Peak RSS of restd (VmHWM at the end of the runs): $((RSS_KIB / 1024)) MiB (VmRSS then: $((RSS_NOW / 1024)) MiB; $NTHREADS threads).$CHILD_NOTE It includes the database pages restd maps for reads (page cache, shared and reclaimable): at the end $(mib "$RSS_ANON") MiB anonymous (RssAnon: restd's own memory) and $((RSS_FILE / 1024)) MiB of mapped files (RssFile: the database pages read, the binary and its libraries). The auth server after its run: VmHWM $((A_HWM / 1024)) MiB, $(mib "$A_ANON") MiB anonymous, $((A_FILE / 1024)) MiB mapped files, $A_THREADS threads."
    echo "- Durability: $SYNC_NOTE."
    echo "- restd log at \`--log-level error\`: $LOG_LINES line(s); database \`quick_check\`: ok; bulk load of $ROWS rows: $LOAD_S s."
    echo
    echo "| target | measured | status |"
    echo "|---|---:|---|"
    echo "| GET by id ≥ 70% of nginx (same run) | $(ratio "${R[get.rps]}" "$NGX_BASE") by req/s$( { busy get || busy nginx-one || busy nginx-one2; } && echo ' (disturbed: see the flags above)'); $CPU_RATIO by CPU per request | $(pass "$(ratio "${R[get.rps]}" "$NGX_BASE")" 0.70) by req/s; $(pass "$CPU_RATIO" 0.70) by CPU |"
    echo "| authenticated GET by id within 10% of unauthenticated (same run) | $AUTH_RPS_RATIO of unauthenticated by req/s$( { busy get || busy get-auth; } && echo ' (disturbed: see the flags above)'); CPU per request $(us_req get-auth) µs against $(us_req get) µs, $AUTH_CPU_RATIO times | $(pass "$AUTH_RPS_RATIO" 0.90) by req/s (≥ 0.90); $(pass 1.10 "$AUTH_CPU_RATIO") by CPU (≤ 1.10) |"
    echo "| POST create ≥ 5,000 durable creates/s at 64 connections | $(fmt "${R[create.rps]}")/s at $CONNS | $( ((CONNS == 64)) && pass "${R[create.rps]}" 5000 || echo "n/a: CONNS=$CONNS") |"
  fi
}
REPORT=$(report)
echo "$REPORT"

if [[ $WRITE_DOC == 1 && $STATIC_ONLY != 1 ]]; then
  printf '%s\n' "$REPORT" >"$TMP/report.md"
  write_section '<!-- bench:begin -->' '<!-- bench:end -->' "$TMP/report.md"
  log "wrote the generated section of ${DOC#"$ROOT"/}"
fi
