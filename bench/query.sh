#!/usr/bin/env bash
# bench/query.sh - restd list-query latency on a large table, on loopback.
#
# The "query features" benchmark: filters with totals, deep keyset pages
# and (for contrast) deep offset pages, at low concurrency, for latency.
# Shares its pieces with bench/run.sh through bench/lib.sh.
#
# restd (--workers WORKERS) is started once on a fresh database to create the
# schema of bench/app (model `item`, `category` an enum of 20 values with an
# index) and stopped; ROWS rows are bulk-loaded with the sqlite3 CLI (rowids
# 1..ROWS in creation order; category of rowid i is c<i mod 20>); restd is
# started again. Workloads (C = category c07, D = DEEP):
#
#   filter-total       GET /api/items?category=C&limit=50, with X-Pagination-Total
#   filter-nototal     the same with &total=false (only if restd takes `total`)
#   filter-uncached    the same page and total as filter-total, but every request
#                      also carries category[nin]=three other categories (a different
#                      triple each time, 969 of them): it selects the same rows, yet
#                      restd's cache of recent counts cannot answer it, so every
#                      request counts (SQLite folds the extra term into a constant)
#   keyset-deep        GET /api/items?cursor=<cursor of rowid D>&limit=50
#   offset-deep        GET /api/items?offset=D&limit=50 (the same page; expected slow)
#   keyset-filter      GET /api/items?category=C&cursor=<cursor of rowid D>&limit=50
#   first-page         GET /api/items?limit=50 (total from the trigger-kept counter)
#
# each with wrk (1 thread) at every connection count of CONNS_LIST, a
# warm-up then a counted run of DURATION. Before the runs every workload is
# sent once with curl and checked against the database (status 200, 50 rows,
# first row's id, category, X-Pagination-Total, next cursor). The cost of the
# filtered total is measured apart with the sqlite3 CLI (`.timer on`, same
# database): SELECT count(*) FROM item WHERE category = 'c07', COUNT_RUNS
# times before restd starts, just before the uncached runs and after restd
# stops (CPU time on this shared host moves from moment to moment).
#
# Hygiene as in bench/run.sh: loopback only, every process started here is
# stopped by PID on exit, any error aborts without touching the doc, every
# request of every run must succeed. The machine is shared: before the
# counted runs the others' CPU is sampled, and while it is above QUIET_MAX
# cores the script waits QUIET_WAIT s and samples again (QUIET_RETRIES times
# at most); a counted run during which the others used more than QUIET_MAX
# is run again after such a wait (as often), keeping the least disturbed try.
#
# Environment:
#   ROWS=1000000  DEEP=ROWS*9/10  DURATION=10s  WARMUP=2s  CONNS_LIST="1 8"  WORKERS=1
#   WRK_TIMEOUT=10s  PIN=0  STRICT=0 (see bench/run.sh)  COUNT_RUNS=21 (CLI count timings)
#   QUIET_MAX=0.2 QUIET_SAMPLE=5 QUIET_WAIT=30 QUIET_RETRIES=3 (cores, s, s, times)
#   WRITE_DOC=1       0: do not touch docs/performance.md (BENCH_DOC=FILE: write there instead)
#   KEEP=0            1: keep the scratch directory (/tmp/restd-bench-query.*: logs, db, wrk output)
#   RESTD=build/restd BENCH_AUTH= (Authorization header value, if needed)
set -euo pipefail
umask 022

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BENCH=$ROOT/bench
RESTD=${RESTD:-$ROOT/build/restd}
DOC=${BENCH_DOC:-$ROOT/docs/performance.md}
ROWS=${ROWS:-1000000}; DEEP=${DEEP:-$((ROWS / 10 * 9))}; DURATION=${DURATION:-10s}; WARMUP=${WARMUP:-2s}
CONNS_LIST=${CONNS_LIST:-1 8}; WORKERS=${WORKERS:-1}; WRK_TIMEOUT=${WRK_TIMEOUT:-10s}; PIN=${PIN:-0}
STRICT=${STRICT:-0}; COUNT_RUNS=${COUNT_RUNS:-21}; WRITE_DOC=${WRITE_DOC:-1}; KEEP=${KEEP:-0}
export BENCH_AUTH=${BENCH_AUTH:-}
CONNS=1; CAT=c07; PAGE=50; TARGET_MS=5
BENCH_TAG=bench-query; BENCH_TMP_NAME=restd-bench-query
# shellcheck source=bench/lib.sh
. "$BENCH/lib.sh"

((ROWS >= 20000)) || die "ROWS=$ROWS: at least 20000 rows (the deep pages need rows after DEEP)"
((DEEP >= 1 && DEEP + 20 * PAGE <= ROWS)) || die "DEEP=$DEEP must leave at least $((20 * PAGE)) rows after it (ROWS=$ROWS)"
bench_setup 1 wrk sqlite3 curl awk base64 sort

cursor() { printf %s "$1" | base64 | tr '+/' '-_' | tr -d '='; }   # base64url of the rowid's text
q1() { sqlite3 -bail "$DB" "$1"; }                                  # one value from the database
first_id() { grep -o '"id": *"[0-9a-f-]*"' "$1" | head -1 | grep -o '[0-9a-f-]\{36\}' || true; }
hdr() { # hdr FILE NAME: a response header's value (empty if absent)
  awk -v h="$2" 'BEGIN { h = tolower(h) } { sub(/\r$/, "") } tolower(substr($0, 1, length(h) + 1)) == h ":" {
    v = substr($0, length(h) + 2); sub(/^[ \t]+/, "", v); print v; exit }' "$1"
}

# probe NAME PATH EXPECT_ROWS FIRST_ID CATEGORY TOTAL NEXT: GET PATH once with curl and check the
# status (200), the row count, the first row's id, every row's category (CATEGORY, or - for any),
# X-Pagination-Total (TOTAL, or "absent") and X-Pagination-Next-Cursor (NEXT, - for unchecked).
probe() {
  local name=$1 path=$2 body=$TMP/probe-$1.json hd=$TMP/probe-$1.hdr st n m got
  st=$(HTTP_HEADERS=$hd http GET "$RESTD_URL$path" "$body")
  [[ $st == 200 ]] || { head -c 600 "$body" >&2; die "$name: GET $path: status $st, expected 200"; }
  n=$(json_count sku "$body")
  ((n == $3)) || { head -c 600 "$body" >&2; die "$name: $n rows, expected $3"; }
  got=$(first_id "$body")
  [[ $got == "$4" ]] || die "$name: first row $got, expected $4 (the row the database puts first)"
  if [[ $5 != - ]]; then
    m=$(grep -o "\"category\": *\"$5\"" "$body" | wc -l)
    ((m == n)) || die "$name: $m of $n rows of category $5"
  fi
  got=$(hdr "$hd" X-Pagination-Total)
  if [[ $6 == absent ]]; then [[ -z $got ]] || die "$name: X-Pagination-Total: $got, expected none"
  else [[ $got == "$6" ]] || die "$name: X-Pagination-Total: '$got', expected $6 (count in the database)"; fi
  if [[ $7 != - ]]; then
    got=$(hdr "$hd" X-Pagination-Next-Cursor)
    [[ $got == "$7" ]] || die "$name: X-Pagination-Next-Cursor: '$got', expected $7"
  fi
  log "checked $name: $n rows from $4, total ${6}"
}

# sql_time SQL [TAG]: median wall and CPU (user + sys) ms of SQL over COUNT_RUNS runs after one
# untimed run, with the sqlite3 CLI's .timer on the benchmark's database; sets SQL_WALL SQL_CPU
# SQL_OUT. With TAG the CPU times are also appended to $TMP/times-TAG.txt.
sql_time() {
  local f=$TMP/timer.out i
  SQL_OUT=$(q1 "$1")
  { echo "$1;"; echo ".timer on"; for ((i = 0; i < COUNT_RUNS; i++)); do echo "$1;"; done; } |
    sqlite3 -bail -cmd '.output /dev/null' "$DB" >"$f" 2>&1 || { cat "$f" >&2; die "sqlite3 failed on: $1"; }
  SQL_WALL=$(awk '/^Run Time:/ { print $4 * 1000 }' "$f" | med)
  SQL_CPU=$(awk '/^Run Time:/ { print ($6 + $8) * 1000 }' "$f" | med)
  [[ $SQL_WALL != -1 ]] || { cat "$f" >&2; die "no .timer output from sqlite3"; }
  [[ -z ${2:-} ]] || awk '/^Run Time:/ { print ($6 + $8) * 1000 }' "$f" >>"$TMP/times-$2.txt"
}
time_count() { # time_count WHEN: the filtered count with sql_time, its median into COUNT_AT[WHEN]
  sql_time "$COUNT_SQL" count; [[ $SQL_OUT == "$N_CAT" ]] || die "count: $SQL_OUT, expected $N_CAT"
  COUNT_AT[$1]=$SQL_CPU; log "  count ($1): median $SQL_CPU ms of CPU over $COUNT_RUNS runs"
}
med() { sort -g | awk '{ a[NR] = $1 } END { printf "%.3f", NR ? a[int((NR + 1) / 2)] : -1 }'; }
plan() { sqlite3 -bail "$DB" "EXPLAIN QUERY PLAN $1" | grep -v '^QUERY PLAN' | sed 's/^[-|` ]*//' | paste -sd ';' | sed 's/;/; /g'; }

# measure NAME SCRIPT PATH: the counted runs at every CONNS_LIST; a run the others disturbed (more
# than QUIET_MAX cores) is run again after wait_quiet, QUIET_RETRIES times at most, and the least
# disturbed try is kept. Results in R[NAME-cN.*].
measure() {
  local base=$1 c name try o best_o k
  for c in $CONNS_LIST; do
    name=$base-c$c
    declare -A keep=()
    for ((try = 1; ; try++)); do
      CONNS=$c run_wrk "$name" "$2" "$RESTD_URL" "$3"
      o=${R[$name.other_cores]}
      if ((try == 1)) || busier "$best_o" "$o"; then
        keep=(); for k in "${!R[@]}"; do [[ $k == "$name".* ]] && keep[$k]=${R[$k]}; done
        best_o=$o; cp "$TMP/wrk-$name.out" "$TMP/wrk-$name.kept.out"
      fi
      busier "$o" "$QUIET_MAX" || break
      if ((try > QUIET_RETRIES)); then log "$name: still disturbed after $QUIET_RETRIES retries: keeping the least disturbed try"; break; fi
      log "$name: the others used $o cores during the run (> $QUIET_MAX): once quiet, again (retry $try of $QUIET_RETRIES)"
      wait_quiet "$RESTD_PID"
    done
    for k in "${!keep[@]}"; do R[$k]=${keep[$k]}; done
    R[$name.tries]=$try
    unset keep
  done
}

# =============================== main ===============================
LOAD0=$(cut -d' ' -f1-3 /proc/loadavg)
START=$(date +%s)
NONCE=$(date +%s)$$

log "restd: creating the schema ($RESTD_SRC, $("$RESTD" --version 2>&1 | head -1))"
start_restd
stop_restd
log "loading $ROWS rows with sqlite3"
t0=$(date +%s.%N); load_rows; LOAD_S=$(awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", b - a }')
DB_MIB=$(( $(stat -c %s "$DB") / 1048576 ))
log "loaded in $LOAD_S s ($DB_MIB MiB); reference values from the database"

# What the pages must hold, from the database itself (rowid order is creation order).
N_ALL=$(q1 "SELECT count(*) FROM item")
N_CAT=$(q1 "SELECT count(*) FROM item WHERE category = '$CAT'")
N_CTR=$(q1 "SELECT n FROM _restd_counts WHERE model = 'item'")
[[ $N_CTR == "$N_ALL" ]] || die "row counter _restd_counts says $N_CTR, the table has $N_ALL rows"
((N_CAT > 0)) || die "no rows of category $CAT"
ID_FIRST=$(q1 "SELECT id FROM item WHERE rowid = 1")
ID_CAT_FIRST=$(q1 "SELECT id FROM item WHERE category = '$CAT' ORDER BY rowid LIMIT 1")
ID_DEEP=$(q1 "SELECT id FROM item WHERE rowid = $((DEEP + 1))")
ID_CAT_DEEP=$(q1 "SELECT id FROM item WHERE category = '$CAT' AND rowid > $DEEP ORDER BY rowid LIMIT 1")
NEXT_CAT_DEEP=$(q1 "SELECT rowid FROM item WHERE category = '$CAT' AND rowid > $DEEP ORDER BY rowid LIMIT 1 OFFSET $((PAGE - 1))")
[[ -n $ID_FIRST && -n $ID_DEEP && -n $ID_CAT_DEEP && -n $NEXT_CAT_DEEP ]] || die "reference rows missing in the database"
CUR=$(cursor "$DEEP")

# The filtered total's cost in SQLite alone, and the plans of the workloads' queries.
COUNT_SQL="SELECT count(*) FROM \"item\" AS t WHERE t.\"category\" = '$CAT'"
declare -A COUNT_AT
log "timing with the sqlite3 CLI ($COUNT_RUNS runs each): $COUNT_SQL, and the pages"
time_count before
sql_time "SELECT * FROM \"item\" AS t WHERE t.\"category\" = '$CAT' ORDER BY t.rowid LIMIT $PAGE"
PAGE1_CPU=$SQL_CPU
sql_time "SELECT * FROM \"item\" AS t ORDER BY t.rowid LIMIT $PAGE OFFSET $DEEP"
OFFS_WALL=$SQL_WALL; OFFS_CPU=$SQL_CPU
sql_time "SELECT * FROM \"item\" AS t WHERE t.rowid > $DEEP ORDER BY t.rowid LIMIT $((PAGE + 1))"
KEYS_CPU=$SQL_CPU
log "  filtered page without count: $PAGE1_CPU ms CPU; offset $DEEP: $OFFS_CPU ms CPU; keyset: $KEYS_CPU ms CPU"
PLAN_COUNT=$(plan "$COUNT_SQL")
PLAN_KF=$(plan "SELECT * FROM \"item\" AS t WHERE t.\"category\" = '$CAT' AND t.rowid > $DEEP ORDER BY t.rowid LIMIT $((PAGE + 1))")
PLAN_KD=$(plan "SELECT * FROM \"item\" AS t WHERE t.rowid > $DEEP ORDER BY t.rowid LIMIT $((PAGE + 1))")
PLAN_OFF=$(plan "SELECT * FROM \"item\" AS t ORDER BY t.rowid LIMIT $PAGE OFFSET $DEEP")

log "restarting restd"
start_restd

# The extra filter of filter-uncached: every triple of the other 19 categories (969 of them).
others=(); for ((i = 0; i < 20; i++)); do [[ $(printf c%02d "$i") == "$CAT" ]] || others+=("$(printf c%02d "$i")"); done
for ((a = 0; a < 19; a++)); do for ((b = a + 1; b < 19; b++)); do for ((c = b + 1; c < 19; c++)); do
  echo "${others[a]},${others[b]},${others[c]}"; done; done; done >"$TMP/nin.txt"
N_NIN=$(wc -l <"$TMP/nin.txt")

L=$BASE/$ROUTE
P_FILTER="$L?category=$CAT&limit=$PAGE"
P_NOTOTAL="$L?category=$CAT&limit=$PAGE&total=false"
P_UNCACHED="$L?category=$CAT&limit=$PAGE&category%5Bnin%5D="   # + a triple per request
P_KEYSET="$L?cursor=$CUR&limit=$PAGE"
P_OFFSET="$L?offset=$DEEP&limit=$PAGE"
P_KFILTER="$L?category=$CAT&cursor=$CUR&limit=$PAGE"
P_FIRST="$L?limit=$PAGE"

# First requests, checked by hand against the database.
probe filter-total "$P_FILTER" "$PAGE" "$ID_CAT_FIRST" "$CAT" "$N_CAT" -
probe filter-uncached "$P_UNCACHED$(sed -n 100p "$TMP/nin.txt")" "$PAGE" "$ID_CAT_FIRST" "$CAT" "$N_CAT" -
probe keyset-deep "$P_KEYSET" "$PAGE" "$ID_DEEP" - "$N_ALL" "$(cursor $((DEEP + PAGE)))"
probe offset-deep "$P_OFFSET" "$PAGE" "$ID_DEEP" - "$N_ALL" -
[[ $(hdr "$TMP/probe-offset-deep.hdr" X-Pagination-Offset) == "$DEEP" ]] || die "offset-deep: X-Pagination-Offset is not $DEEP"
probe keyset-filter "$P_KFILTER" "$PAGE" "$ID_CAT_DEEP" "$CAT" "$N_CAT" "$(cursor "$NEXT_CAT_DEEP")"
probe first-page "$P_FIRST" "$PAGE" "$ID_FIRST" - "$N_ALL" -
# total=false: measured only if this restd takes it (docs/query.md); a 400 naming it means it does not.
st=$(http GET "$RESTD_URL$P_NOTOTAL" "$TMP/probe-nototal.json")
if [[ $st == 200 ]]; then
  HAVE_NOTOTAL=1
  probe filter-nototal "$P_NOTOTAL" "$PAGE" "$ID_CAT_FIRST" "$CAT" absent -
elif [[ $st == 400 ]] && grep -q "total" "$TMP/probe-nototal.json"; then
  HAVE_NOTOTAL=0; log "restd refuses total=false ($(head -c 200 "$TMP/probe-nototal.json")): filter-nototal skipped"
else
  head -c 600 "$TMP/probe-nototal.json" >&2; die "total=false: status $st"
fi

# The counted pass, on as quiet a machine as we can get.
wait_quiet "$RESTD_PID"
QUIET0=$QUIET_CORES; QUIET0_TRIES=$QUIET_TRIES; QUIET0_OK=$QUIET_OK
measure filter-total fixed.lua "$P_FILTER"
((HAVE_NOTOTAL)) && measure filter-nototal fixed.lua "$P_NOTOTAL"
time_count "just before the uncached runs"
WRK_IDS=$TMP/nin.txt measure filter-uncached get_by_id.lua "$P_UNCACHED"
measure keyset-deep fixed.lua "$P_KEYSET"
measure offset-deep fixed.lua "$P_OFFSET"
measure keyset-filter fixed.lua "$P_KFILTER"
measure first-page fixed.lua "$P_FIRST"

RSS_KIB=$(hwm_kib "$RESTD_PID")
read -r RSS_ANON RSS_FILE NTHREADS < <(awk '/^RssAnon/ { a = $2 } /^RssFile/ { f = $2 } /^Threads/ { t = $2 }
  END { print a + 0, f + 0, t + 0 }' "/proc/$RESTD_PID/status")
stop_restd
restd_log_lines
time_count after
COUNT_CPU=$(med <"$TMP/times-count.txt"); COUNT_MIN=$(sort -g "$TMP/times-count.txt" | head -1)
N_AFTER=$(q1 "SELECT count(*) FROM item")
[[ $N_AFTER == "$N_ALL" ]] || die "the table changed during a read-only benchmark: $N_AFTER rows, was $N_ALL"

# ---- report ----
machine_facts
ELAPSED=$(( $(date +%s) - START ))
us_req() { awk -v c="${R[$1.srv_cores]}" -v r="${R[$1.rps]}" 'BEGIN { printf "%.0f", c * 1e6 / r }'; }
ms() { fmt "${R[$1.$2]}"; }
num() { awk -v x="$1" 'BEGIN { s = sprintf("%d", x); o = ""
  while (length(s) > 3) { o = "," substr(s, length(s) - 2) o; s = substr(s, 1, length(s) - 3) }; print s o }'; }
row() { # row WORKLOAD LABEL NOTES: one table row per connection count
  local c w warn tries
  for c in $CONNS_LIST; do
    w=$1-c$c; warn=; tries=
    busier "${R[$w.other_cores]}" "$QUIET_MAX" && warn=" **(machine busy: disturbed)**"
    ((${R[$w.tries]} > 1)) && tries="; best of ${R[$w.tries]} tries"
    printf '| %s | %s | %s | %s ms | %s ms | %s; CPU: server %s cores, %s µs/req; wrk %s; others %s%s%s |\n' \
      "$2" "$c" "$(fmt "${R[$w.rps]}")" "$(ms "$w" p50_ms)" "$(ms "$w" p99_ms)" "$3" \
      "${R[$w.srv_cores]}" "$(us_req "$w")" "${R[$w.wrk_cores]}" "${R[$w.other_cores]}" "$tries" "$warn"
  done
}
under() { awk -v a="$1" -v b="$2" 'BEGIN { print (a < b ? "**met**" : "**not met**") }'; }
target() { # target WORKLOAD: p50 at each connection count against TARGET_MS
  local c out=
  for c in $CONNS_LIST; do out+="${out:+; }$(ms "$1-c$c" p50_ms) ms at $c: $(under "${R[$1-c$c.p50_ms]}" "$TARGET_MS")"; done
  echo "$out"
}
C1=${CONNS_LIST%% *}
share() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.0f%%", 100 * a / b; else print "n/a" }'; }
# The count's share of an uncached request, and what total=false saves, at the first connection count.
HTTP_SAVED=n/a
((HAVE_NOTOTAL)) && HTTP_SAVED=$(awk -v a="${R[filter-uncached-c$C1.p50_ms]}" -v b="${R[filter-nototal-c$C1.p50_ms]}" 'BEGIN { printf "%.2f", a - b }')

report() {
  echo "## Query benchmark: latest run"
  echo
  echo "Generated by \`bench/query.sh\` on $(date -u '+%Y-%m-%d %H:%M UTC'); do not edit by hand between the markers."
  echo
  echo "- Machine: $(machine_desc); load average before the run: $LOAD0, after: $(cut -d' ' -f1-3 /proc/loadavg)."
  echo "- Others' CPU before the counted runs: $QUIET0 cores over ${QUIET_SAMPLE} s$( ((QUIET0_TRIES > 0)) && echo " after $QUIET0_TRIES wait(s) of $QUIET_WAIT s")$( ((QUIET0_OK)) || echo " **(still above $QUIET_MAX: busy machine)**"); per run in the notes (flagged above $QUIET_MAX cores; such a run is retried up to $QUIET_RETRIES times after a wait, keeping the least disturbed try)."
  echo "- restd: commit $COMMIT; \`--workers $WORKERS\`; SQLite $SQ_V database of $(num "$N_ALL") rows ($DB_MIB MiB, bulk-loaded in $LOAD_S s), $(num "$N_CAT") of category $CAT; deep pages start after rowid $(num "$DEEP") (cursor \`$CUR\`)."
  echo "- Load: wrk 4.1, 1 thread, $(echo "$CONNS_LIST" | sed 's/ / and /g') connection(s), $DURATION per run after a $WARMUP warm-up, latency cap $WRK_TIMEOUT; pinning: $([[ $PIN == 1 ]] && echo 'restd on CPU 0, wrk on CPU 1' || echo none). With one event loop restd answers one request at a time, so at 8 connections a request mostly waits for the 7 before it: p50 there is about 8 times the service time. Whole run: $ELAPSED s."
  echo
  echo "| workload | connections | req/s | p50 | p99 | notes |"
  echo "|---|---:|---:|---:|---:|---|"
  row filter-total "1. filter + total" "\`?category=$CAT&limit=$PAGE\`; total $(num "$N_CAT") (counted once, then from restd's count cache)"
  ((HAVE_NOTOTAL)) && row filter-nototal "1. filter, \`total=false\`" "\`?category=$CAT&limit=$PAGE&total=false\`; no count"
  row filter-uncached "1. filter + total, uncached" "as 1 plus \`category[nin]=\` one of $N_NIN triples of other categories per request: same rows and total, counted every time"
  row keyset-deep "2. keyset, deep" "\`?cursor=$CUR&limit=$PAGE\`: rows $(num $((DEEP + 1)))-$(num $((DEEP + PAGE))); total from the row counter"
  row offset-deep "3. offset, deep" "\`?offset=$DEEP&limit=$PAGE\`: the same rows; SQLite steps over the $(num "$DEEP") rows before them"
  row keyset-filter "4. keyset + filter" "\`?category=$CAT&cursor=$CUR&limit=$PAGE\`; total $(num "$N_CAT") (count cache)"
  row first-page "5. first page" "\`?limit=$PAGE\`; total $(num "$N_ALL") from the trigger-kept row counter"
  echo
  echo "Every request of every run answered 200 with no socket error or timeout (statuses outside 2xx counted in the warm-ups, >= 400 in the counted runs$([[ $STRICT == 1 ]] && echo ', strictly too')). Each workload was first sent with curl and checked against the database: 50 rows, the first row's id (\`rowid = $(num $((DEEP + 1)))\` for 2 and 3), the category, \`X-Pagination-Total\` (absent with \`total=false\`) and \`X-Pagination-Next-Cursor\`."
  echo
  echo "- **The count** (sqlite3 CLI, \`.timer on\`, the same database; $COUNT_RUNS runs after a warm one, three times: before restd started, just before the uncached runs, after restd stopped): \`SELECT count(*) FROM item WHERE category = '$CAT'\` ($(num "$N_CAT") matching rows) takes **$COUNT_CPU ms of CPU** (user + sys; median of all $(wc -l <"$TMP/times-count.txt") runs; medians of the three sets $(fmt "${COUNT_AT[before]}") / $(fmt "${COUNT_AT[just before the uncached runs]}") / $(fmt "${COUNT_AT[after]}") ms, fastest run $COUNT_MIN ms; the timer's wall clock has 1 ms steps). Plan: $PLAN_COUNT. The filtered page alone (\`ORDER BY rowid LIMIT $PAGE\`, all columns) takes $PAGE1_CPU ms. Share of the count in an uncached request at $C1 connection: $(share "$COUNT_CPU" "${R[filter-uncached-c$C1.p50_ms]}") of its p50 ($(ms "filter-uncached-c$C1" p50_ms) ms)$( ((HAVE_NOTOTAL)) && echo "; measured through restd, \`total=false\` answers in $(ms "filter-nototal-c$C1" p50_ms) ms, $HTTP_SAVED ms ($(share "$HTTP_SAVED" "${R[filter-uncached-c$C1.p50_ms]}")) less")."
  echo "- **Deep pages in SQLite alone** (CLI, same method): the offset page (\`LIMIT $PAGE OFFSET $DEEP\`) takes $OFFS_CPU ms of CPU ($OFFS_WALL ms wall), plan: $PLAN_OFF; the keyset page (\`rowid > $DEEP\`) $KEYS_CPU ms, plan: $PLAN_KD; keyset with the filter: $PLAN_KF."
  echo "- Peak RSS of restd (VmHWM at the end of the runs): $((RSS_KIB / 1024)) MiB; at the end $((RSS_ANON / 1024)) MiB anonymous and $((RSS_FILE / 1024)) MiB of mapped database file (restd maps the file for reads; those pages are the kernel's page cache, shared, not restd's heap); $NTHREADS threads."
  echo "- restd log at \`--log-level error\`: $LOG_LINES line(s); rows after the runs: $(num "$N_AFTER") (unchanged)."
  echo
  echo "| target | measured (p50 at each connection count) |"
  echo "|---|---|"
  echo "| 1. filtered first page with total, p50 < $TARGET_MS ms | $(target filter-total) |"
  echo "| 1. the same, count not cached | $(target filter-uncached) |"
  echo "| 2. keyset page at row $(num $((DEEP + 1))), p50 < $TARGET_MS ms | $(target keyset-deep) |"
}
REPORT=$(report)
echo "$REPORT"

if [[ $WRITE_DOC == 1 ]]; then
  printf '%s\n' "$REPORT" >"$TMP/report.md"
  write_section '<!-- bench-query:begin -->' '<!-- bench-query:end -->' "$TMP/report.md"
  log "wrote the generated section of ${DOC#"$ROOT"/}"
fi
