#!/usr/bin/env bash
# bench/kitsu.sh - the Kitsu benchmark: gazu's common listing calls on a big studio.
#
# The bar of the Kitsu issue: `GET /api/data/tasks?project_id=<id>` and
# `GET /api/data/projects/<id>/shots` on a studio of 50 projects, 100,000
# shots and 1,000,000 tasks, served by restd with apps/kitsu. Shares its
# pieces with bench/run.sh through bench/lib.sh.
#
# Data set (in a scratch directory under /tmp, never in git):
#   1. restd starts once on a fresh database: it creates the schema (and
#      whatever initial data the app seeds). When apps/kitsu has an `auth:`
#      section an admin is added first with `restd user add` and every
#      request carries its bearer token.
#   2. Through the API, one template row each: a project, a sequence and a
#      shot (entities), a task; the lookups they point at are found or made
#      (entity types Sequence and Shot, TASKS/SHOTS task types for shots,
#      task status todo). Making them through restd gives every column
#      restd's own defaults and shapes. restd stops.
#   3. sqlite3 copies the templates in one transaction: PROJECTS projects,
#      20 sequences each, SHOTS shots spread evenly over the sequences, and
#      TASKS tasks (TASKS/SHOTS per shot, one per task type), with UUIDv7
#      ids and timestamps in restd's format, rowid order = creation order,
#      foreign keys checked, and restd's triggers (the per-model row
#      counters in _restd_counts) firing as for any insert. Every column
#      the load does not set is copied from its template, so columns other
#      branches add come along. The templates are deleted afterwards.
#   4. restd starts again and each request is sent once with curl and
#      checked against the database (status, rows, totals). A 404 for
#      `projects/<id>/shots` (a Zou route restd may not serve yet) skips
#      that workload with a message.
# Workloads (wrk, 1 thread, CONNS connections, WARMUP then DURATION, the
# project id going round all PROJECTS projects):
#   tasks          GET /api/data/tasks?project_id=<id>          gazu's tasks-of-a-project filter
#   tasks-rel      the same with relations=true                 every row with its ref_list fields (assignees)
#   tasks-page     GET /api/data/tasks?project_id=<id>&page=1   the same, Kitsu's first page with its total
#   shots          GET /api/data/projects/<id>/shots            gazu's all_shots_for_project
#   shots-filter   GET /api/data/entities?project_id=<id>&entity_type_id=<Shot>  the same rows by the generic filter
#
# Environment:
#   PROJECTS=50 SHOTS=100000 TASKS=1000000 (TASKS a multiple of SHOTS, at most 10 per shot)
#   DURATION=10s WARMUP=2s CONNS=8 WORKERS=1 WRK_TIMEOUT=10s PIN=0 STRICT=0 (see bench/run.sh)
#   WRITE_DOC=1  0: leave docs/performance.md alone (BENCH_DOC=FILE: write there instead)
#   KEEP=0       1: keep the scratch directory (/tmp/restd-bench-kitsu.*: database, logs, wrk output)
#   ANALYZE=0    1: run SQLite's ANALYZE with the CLI after the load (restd analyses at start on its
#                own, docs/decisions.md §13; this is for binaries from before that)
#   RESTD=build/restd  KITSU_APP=apps/kitsu
set -euo pipefail
umask 022

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BENCH=$ROOT/bench
RESTD=${RESTD:-$ROOT/build/restd}
APP=${KITSU_APP:-$ROOT/apps/kitsu}
DOC=${BENCH_DOC:-$ROOT/docs/performance.md}
PROJECTS=${PROJECTS:-50}; SHOTS=${SHOTS:-100000}; TASKS=${TASKS:-1000000}
DURATION=${DURATION:-10s}; WARMUP=${WARMUP:-2s}; CONNS=${CONNS:-8}; WORKERS=${WORKERS:-1}
WRK_TIMEOUT=${WRK_TIMEOUT:-10s}; PIN=${PIN:-0}; STRICT=${STRICT:-0}; WRITE_DOC=${WRITE_DOC:-1}; KEEP=${KEEP:-0}
ANALYZE=${ANALYZE:-0}
export BENCH_AUTH=
SEQS_PER_PROJECT=20
BENCH_TAG=bench-kitsu; BENCH_TMP_NAME=restd-bench-kitsu
# shellcheck source=bench/lib.sh
. "$BENCH/lib.sh"
API=/api/data
TASK_TYPES=(Layout Animation Lighting FX Compositing Rendering Camera Cloth Hair Matte)

SEQS=$((PROJECTS * SEQS_PER_PROJECT)); PER_SHOT=$((TASKS / SHOTS))
((PROJECTS >= 1 && SHOTS >= SEQS && SHOTS % SEQS == 0)) ||
  die "SHOTS=$SHOTS must be a multiple of PROJECTS*$SEQS_PER_PROJECT=$SEQS"
((TASKS % SHOTS == 0 && PER_SHOT >= 1 && PER_SHOT <= ${#TASK_TYPES[@]})) ||
  die "TASKS=$TASKS must be 1 to ${#TASK_TYPES[@]} times SHOTS=$SHOTS"
[[ -f $APP/app.yaml ]] || die "no app file $APP/app.yaml"
bench_setup 1 wrk sqlite3 curl awk

first_id() { grep -o '"id": *"[0-9a-f-]\{36\}"' "$1" | head -1 | grep -o '[0-9a-f-]\{36\}' || true; }
q1() { sqlite3 -bail "$DB" "$1"; }

# api METHOD PATH EXPECT [BODY]: one request to restd ($API-relative PATH), the body into
# $TMP/api.json; dies unless the status is EXPECT.
api() {
  local st
  st=$(http "$1" "$RESTD_URL$API/$2" "$TMP/api.json" "${@:4}")
  [[ $st == "$3" ]] || { head -c 800 "$TMP/api.json" >&2; echo >&2; die "$1 $API/$2: status $st, expected $3"; }
}
# find_or_make VAR ROUTE QUERY BODY: the id of the first row of GET ROUTE?QUERY, or of the row
# POST ROUTE BODY makes when there is none (the app's initial data may have it already).
find_or_make() {
  local id
  api GET "$2?$3" 200; id=$(first_id "$TMP/api.json")
  if [[ -z $id ]]; then api POST "$2" 201 "$4"; id=$(first_id "$TMP/api.json"); fi
  [[ -n $id ]] || { head -c 800 "$TMP/api.json" >&2; die "no id for $2?$3"; }
  printf -v "$1" %s "$id"
}

# Sign-in, when the app has auth: the admin is added with the CLI (restd must not be running on
# the database), and sign_in logs in and sets BENCH_AUTH.
HAS_AUTH=0; grep -q '^auth:' "$APP/app.yaml" && HAS_AUTH=1
LOGIN_PATH=$(sed -n 's/^[[:space:]]\{1,\}login:[[:space:]]*\([^[:space:]]*\)[[:space:]]*$/\1/p' "$APP/app.yaml" | head -1 | tr -d "\"'")
LOGIN_PATH=${LOGIN_PATH:-/api/auth/login}
ADMIN_EMAIL=bench-admin@example.com; ADMIN_PW=
add_admin() {
  ADMIN_PW=bench-$(date +%s)-$RANDOM$RANDOM
  printf '%s\n' "$ADMIN_PW" | "$RESTD" user add --app "$APP" --db "sqlite:$DB" --password-stdin \
    '{"email":"'"$ADMIN_EMAIL"'","first_name":"Bench","last_name":"Admin","role":"admin"}' >"$TMP/user-add.log" 2>&1 ||
    { cat "$TMP/user-add.log" >&2; die "restd user add failed"; }
}
sign_in() {
  local st tok
  ((HAS_AUTH)) || return 0
  st=$(BENCH_AUTH='' http POST "$RESTD_URL$LOGIN_PATH" "$TMP/login.json" \
    '{"email":"'"$ADMIN_EMAIL"'","password":"'"$ADMIN_PW"'"}')
  [[ $st == 200 ]] || { cat "$TMP/login.json" >&2; die "login at $LOGIN_PATH: status $st, expected 200"; }
  tok=$(grep -o '"access_token": *"[A-Za-z0-9_.-]*"' "$TMP/login.json" | sed 's/.*"\([^"]*\)"$/\1/') || true
  [[ $tok == *.*.* ]] || { cat "$TMP/login.json" >&2; die "login: no access token in the answer"; }
  BENCH_AUTH="Bearer $tok"
}
start_kitsu() {
  launch_restd "$APP" "$DB" "$RESTD_LOG"; RESTD_PID=$LAUNCHED_PID; RESTD_URL=$LAUNCHED_URL
  sign_in
}

# SQL pieces. uuid7 MS: a UUIDv7 as restd makes them (48-bit unix ms, version 7, variant 10,
# random rest), lowercase; each randomblob() call is fresh, so the pieces need no shared value.
# ts MS: restd's stored timestamp (UTC, microseconds, Z).
uuid7() {
  echo "substr(printf('%012x', $1), 1, 8) || '-' || substr(printf('%012x', $1), 9, 4) || '-7' ||" \
       "substr(lower(hex(randomblob(2))), 2) || '-' || substr('89ab', 1 + abs(random() % 4), 1) ||" \
       "substr(lower(hex(randomblob(2))), 2) || '-' || lower(hex(randomblob(6)))"
}
ts() { echo "strftime('%Y-%m-%dT%H:%M:%S', ($1) / 1000, 'unixepoch') || printf('.%06dZ', (($1) % 1000) * 1000)"; }
# copy_rows TABLE TEMPLATE_ID FROM COL=EXPR...: INSERT INTO TABLE every column, each one copied
# from the template row (alias tpl) unless given as COL=EXPR; FROM is the rest of the SELECT.
copy_rows() {
  local t=$1 tpl=$2 from=$3 kv c cols=() sel=(); shift 3
  local -A ov=()
  for kv; do ov[${kv%%=*}]=${kv#*=}; done
  while read -r c; do
    cols+=("\"$c\"")
    if [[ -n ${ov[$c]+set} ]]; then sel+=("${ov[$c]}"); unset "ov[$c]"; else sel+=("tpl.\"$c\""); fi
  done < <(q1 "SELECT name FROM pragma_table_info('$t') ORDER BY cid")
  ((${#ov[@]} == 0)) || die "table $t has no column(s): ${!ov[*]}"
  local IFS=,
  printf 'INSERT INTO "%s" (%s)\n  SELECT %s\n  FROM %s JOIN "%s" AS tpl ON tpl.id = '\''%s'\'';\n' \
    "$t" "${cols[*]}" "${sel[*]}" "$from" "$t" "$tpl"
}

load_studio() {
  local T0 tt_values="" k
  T0=$(( $(date -u -d 2024-01-01 +%s) * 1000 ))
  for ((k = 1; k <= PER_SHOT; k++)); do tt_values+="${tt_values:+, }($k, '${TT[k]}')"; done
  {
    echo "PRAGMA foreign_keys = ON; PRAGMA busy_timeout = 5000; PRAGMA cache_size = -262144;"
    echo "PRAGMA temp_store = MEMORY;"
    echo "BEGIN;"
    # Projects 1..P; sequence s of project 1 + (s-1)/20; shot h of sequence 1 + (h-1)/(SHOTS/SEQS).
    echo "CREATE TEMP TABLE gp (i INTEGER PRIMARY KEY, id TEXT NOT NULL, name TEXT NOT NULL, ms INTEGER NOT NULL);"
    echo "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < $PROJECTS)"
    echo "  INSERT INTO gp SELECT i, $(uuid7 "($T0 + i * 60000)"), printf('Project %02d', i), $T0 + i * 60000 FROM n;"
    echo "CREATE TEMP TABLE gs (i INTEGER PRIMARY KEY, p INTEGER NOT NULL, id TEXT NOT NULL, name TEXT NOT NULL, ms INTEGER NOT NULL);"
    echo "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < $SEQS)"
    echo "  INSERT INTO gs SELECT i, 1 + (i - 1) / $SEQS_PER_PROJECT, $(uuid7 "($T0 + 86400000 + i * 1000)"),"
    echo "    printf('SQ%03d', 1 + (i - 1) % $SEQS_PER_PROJECT), $T0 + 86400000 + i * 1000 FROM n;"
    echo "CREATE TEMP TABLE gh (i INTEGER PRIMARY KEY, s INTEGER NOT NULL, id TEXT NOT NULL, name TEXT NOT NULL, ms INTEGER NOT NULL);"
    echo "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < $SHOTS)"
    echo "  INSERT INTO gh SELECT i, 1 + (i - 1) / $((SHOTS / SEQS)), $(uuid7 "($T0 + 2 * 86400000 + i * 100)"),"
    echo "    printf('SH%04d', 10 * (1 + (i - 1) % $((SHOTS / SEQS)))), $T0 + 2 * 86400000 + i * 100 FROM n;"
    echo "CREATE TEMP TABLE gt (k INTEGER PRIMARY KEY, id TEXT NOT NULL);"
    echo "INSERT INTO gt VALUES $tt_values;"
    copy_rows project "$TPL_P" "gp" id=gp.id name=gp.name "created_at=$(ts gp.ms)" "updated_at=$(ts gp.ms)"
    copy_rows entity "$TPL_SEQ" "gs JOIN gp ON gp.i = gs.p" id=gs.id name=gs.name project_id=gp.id \
      "created_at=$(ts gs.ms)" "updated_at=$(ts gs.ms)"
    copy_rows entity "$TPL_SHOT" "gh JOIN gs ON gs.i = gh.s JOIN gp ON gp.i = gs.p" id=gh.id name=gh.name \
      project_id=gp.id parent_id=gs.id "created_at=$(ts gh.ms)" "updated_at=$(ts gh.ms)"
    # Tasks in creation order: shot by shot, one per task type.
    local tms="($T0 + 3 * 86400000 + ((gh.i - 1) * $PER_SHOT + gt.k) * 10)"
    copy_rows task "$TPL_TASK" "gh JOIN gs ON gs.i = gh.s JOIN gp ON gp.i = gs.p JOIN gt" \
      "id=$(uuid7 "$tms")" project_id=gp.id entity_id=gh.id task_type_id=gt.id \
      "created_at=$(ts "$tms")" "updated_at=$(ts "$tms")" | sed '$ s/;$/ ORDER BY gh.i, gt.k;/'
    echo "DELETE FROM task WHERE id = '$TPL_TASK';"
    echo "DELETE FROM entity WHERE id IN ('$TPL_SHOT', '$TPL_SEQ');"
    echo "DELETE FROM project WHERE id = '$TPL_P';"
    echo "SELECT id FROM gp ORDER BY i;"
    echo "COMMIT;"
    echo "PRAGMA wal_checkpoint(TRUNCATE);"
  } >"$TMP/load.sql"
  sqlite3 -bail "$DB" <"$TMP/load.sql" >"$TMP/load.out" 2>&1 ||
    { tail -5 "$TMP/load.out" >&2; die "bulk load failed (SQL in $TMP/load.sql; KEEP=1 keeps it)"; }
  grep -x '[0-9a-f-]\{36\}' "$TMP/load.out" >"$TMP/projects.txt" || true
  [[ $(wc -l <"$TMP/projects.txt") == "$PROJECTS" ]] || die "bulk load: $(wc -l <"$TMP/projects.txt") project ids, expected $PROJECTS"
}

# =============================== main ===============================
LOAD0=$(cut -d' ' -f1-3 /proc/loadavg)
START=$(date +%s)
NONCE=$(date +%s)$$   # wrk run names (bench/lib.sh)
log "restd: creating the schema ($RESTD_SRC, app $APP)"
((HAS_AUTH)) && add_admin
start_kitsu
api POST projects 201 '{"name":"bench template '"$$"'"}'; TPL_P=$(first_id "$TMP/api.json")
find_or_make ET_SEQ entity-types name=Sequence '{"name":"Sequence"}'
find_or_make ET_SHOT entity-types name=Shot '{"name":"Shot"}'
find_or_make TS task-status short_name=todo '{"name":"Todo","short_name":"todo","color":"#f5f5f5","is_default":true}'
declare -a TT
for ((k = 1; k <= PER_SHOT; k++)); do
  find_or_make "TT[$k]" task-types "name=${TASK_TYPES[k - 1]}&for_entity=Shot" \
    '{"name":"'"${TASK_TYPES[k - 1]}"'","for_entity":"Shot","color":"#999999"}'
done
api POST entities 201 '{"name":"tpl-seq","project_id":"'"$TPL_P"'","entity_type_id":"'"$ET_SEQ"'"}'
TPL_SEQ=$(first_id "$TMP/api.json")
api POST entities 201 '{"name":"tpl-shot","project_id":"'"$TPL_P"'","entity_type_id":"'"$ET_SHOT"'","parent_id":"'"$TPL_SEQ"'","nb_frames":48,"data":{"frame_in":1,"frame_out":48}}'
TPL_SHOT=$(first_id "$TMP/api.json")
api POST tasks 201 '{"name":"main","project_id":"'"$TPL_P"'","entity_id":"'"$TPL_SHOT"'","task_type_id":"'"${TT[1]}"'","task_status_id":"'"$TS"'"}'
TPL_TASK=$(first_id "$TMP/api.json")
[[ -n $TPL_P && -n $TPL_SEQ && -n $TPL_SHOT && -n $TPL_TASK ]] || die "a template row has no id"
stop_restd

log "loading $PROJECTS projects, $SEQS sequences, $SHOTS shots and $TASKS tasks with sqlite3"
t0=$(date +%s.%N); load_studio; LOAD_S=$(awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", b - a }')
STATS_NOTE="no ANALYZE by the load"
if [[ $ANALYZE == 1 ]]; then
  q1 "ANALYZE; PRAGMA wal_checkpoint(TRUNCATE);" >/dev/null; STATS_NOTE="ANALYZE run with the CLI after the load"
fi
DB_MB=$(( $(stat -c %s "$DB") / 1048576 ))
log "loaded in $LOAD_S s; database $DB_MB MiB"
# The load's own check: rows per table and restd's trigger-kept counters agree.
for t in project entity task; do
  n=$(q1 "SELECT count(*) FROM \"$t\""); c=$(q1 "SELECT n FROM _restd_counts WHERE model = '$t'")
  [[ $n == "$c" ]] || die "table $t: $n rows but _restd_counts says $c"
done
n=$(q1 "SELECT count(*) FROM task WHERE project_id IN (SELECT id FROM project WHERE name GLOB 'Project [0-9][0-9]')")
((n == TASKS)) || die "$n tasks in the generated projects, expected $TASKS"
n=$(q1 "SELECT count(*) FROM entity WHERE entity_type_id = '$ET_SHOT'")
((n >= SHOTS)) || die "$n shots, expected at least $SHOTS"

# restd's first start on the loaded studio: it finds the tables without statistics and analyses
# them before it answers (docs/decisions.md §13); the time to its first healthy answer shows the cost.
t0=$(date +%s.%N); start_kitsu; START_S=$(awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", b - a }')
STAT_TABLES=$(q1 "SELECT count(DISTINCT tbl) FROM sqlite_stat1" 2>/dev/null || echo 0)
if ((STAT_TABLES > 0)); then
  STATS_NOTE+="; planner statistics (sqlite_stat1) for $STAT_TABLES tables when restd answered, $START_S s after it started"
else
  STATS_NOTE+="; no planner statistics when restd answered (this binary does not analyse), $START_S s after it started"
fi
PID_MID=$(sed -n "$(( (PROJECTS + 1) / 2 ))p" "$TMP/projects.txt")
TASKS_PER_PROJECT=$((TASKS / PROJECTS)); SHOTS_PER_PROJECT=$((SHOTS / PROJECTS))
# probe NAME PATH KEY EXPECT_ROWS TOTAL: GET once, check status 200, the rows (objects with KEY;
# EXPECT_ROWS "any" to take what restd sends, at least one) and "total" (TOTAL, or - for none).
declare -A ROWS_OF BYTES_OF
probe() {
  local st n f=$TMP/probe-$1.json
  st=$(http GET "$RESTD_URL${2//\{id\}/$PID_MID}" "$f")
  [[ $st == 200 ]] || { head -c 600 "$f" >&2; echo >&2; die "$1: GET ${2//\{id\}/$PID_MID}: status $st, expected 200"; }
  n=$(grep -o "\"$3\":" "$f" | wc -l)
  if [[ $4 == any ]]; then ((n >= 1)) || die "$1: no rows"; else ((n == $4)) || die "$1: $n rows, expected $4"; fi
  if [[ $5 != - ]]; then grep -q "\"total\": *$5[,}]" "$f" || die "$1: no \"total\": $5 in the answer"; fi
  ROWS_OF[$1]=$n; BYTES_OF[$1]=$(wc -c <"$f")
  log "checked $1: $n rows, ${BYTES_OF[$1]} bytes"
}
# The bare list: Zou returns every matching row; restd returns what its list rules give (all of
# them, or a first page): any count, but each row must be a task of the project.
probe tasks "$API/tasks?project_id={id}" task_type_id any -
m=$(grep -o "\"project_id\": *\"$PID_MID\"" "$TMP/probe-tasks.json" | wc -l)
((m == ROWS_OF[tasks])) || die "tasks: $m of ${ROWS_OF[tasks]} rows are of project $PID_MID"
probe tasks-rel "$API/tasks?project_id={id}&relations=true" task_type_id "${ROWS_OF[tasks]}" -
grep -q '"assignees":' "$TMP/probe-tasks-rel.json" || die "tasks-rel: no assignees in the rows"
probe tasks-page "$API/tasks?project_id={id}&page=1" task_type_id any "$TASKS_PER_PROJECT"
SHOTS_NOTE=
st=$(http GET "$RESTD_URL$API/projects/$PID_MID/shots" "$TMP/probe-shots.json")
if [[ $st == 404 ]]; then
  SHOTS_NOTE="skipped: \`GET $API/projects/<id>/shots\` answered 404 (the route is not served yet)"
  log "shots: $SHOTS_NOTE"
else
  probe shots "$API/projects/{id}/shots" parent_id any -
fi
probe shots-filter "$API/entities?project_id={id}&entity_type_id=$ET_SHOT&page=1" parent_id any "$SHOTS_PER_PROJECT"

export WRK_IDS=$TMP/projects.txt
run_wrk tasks paths.lua "$RESTD_URL" "$API/tasks?project_id={id}"
run_wrk tasks-rel paths.lua "$RESTD_URL" "$API/tasks?project_id={id}&relations=true"
run_wrk tasks-page paths.lua "$RESTD_URL" "$API/tasks?project_id={id}&page=1"
[[ -n $SHOTS_NOTE ]] || run_wrk shots paths.lua "$RESTD_URL" "$API/projects/{id}/shots"
run_wrk shots-filter paths.lua "$RESTD_URL" "$API/entities?project_id={id}&entity_type_id=$ET_SHOT&page=1"
read -r RSS_KIB _ RSS_ANON _ NTHREADS < <(mem_kib "$RESTD_PID")
stop_restd
restd_log_lines
QC=$(q1 "PRAGMA quick_check" | head -3 | tr '\n' ' ')
[[ $QC == "ok " ]] || die "database quick_check after the run: $QC"

# ---- report ----
machine_facts
ELAPSED=$(( $(date +%s) - START ))
row() { # row WORKLOAD REQUEST NOTES
  local w=$1 warn=
  awk -v o="${R[$w.other_cores]}" 'BEGIN { exit !(o != "n/a" && o > 0.2) }' && warn=" **(machine busy)**"
  printf '| %s | `%s` | %s | %s ms | %s ms | %s rows, %s bytes | %s; server %s cores; others %s%s |\n' \
    "$w" "$2" "$(fmt "${R[$w.rps]}")" "$(fmt "${R[$w.p50_ms]}")" "$(fmt "${R[$w.p99_ms]}")" \
    "${ROWS_OF[$w]}" "${BYTES_OF[$w]}" "$3" "${R[$w.srv_cores]}" "${R[$w.other_cores]}" "$warn"
}
report() {
  echo "## Kitsu benchmark: latest run"
  echo
  echo "Generated by \`bench/kitsu.sh\` on $(date -u '+%Y-%m-%d %H:%M UTC'); do not edit by hand between the markers."
  echo
  echo "- Machine: $(machine_desc); load average before the run: $LOAD0, after: $(cut -d' ' -f1-3 /proc/loadavg)."
  local bin=; [[ $RESTD_SRC == "$ROOT/build/restd" ]] || bin=" (binary $RESTD_SRC)"
  [[ $APP == "$ROOT/apps/kitsu" ]] || bin+=" (app $APP)"
  echo "- restd: commit $COMMIT$bin; \`--workers $WORKERS\`; apps/kitsu$( ((HAS_AUTH)) && echo ', every request with an admin bearer token' || echo ' (no auth section: no token)'). SQLite $SQ_V."
  echo "- Studio: $PROJECTS projects, $SEQS sequences, $SHOTS shots ($SHOTS_PER_PROJECT a project), $TASKS tasks ($PER_SHOT a shot, $TASKS_PER_PROJECT a project); bulk load $LOAD_S s, database $DB_MB MiB; $STATS_NOTE."
  echo "- Load: wrk 4.1, 1 thread, $CONNS connections, $DURATION per workload after a $WARMUP warm-up, latency cap $WRK_TIMEOUT; the project id goes round all $PROJECTS projects. Whole run: $ELAPSED s."
  echo
  echo "| workload | request | req/s | p50 | p99 | answer | notes |"
  echo "|---|---|---:|---:|---:|---|---|"
  local all="gazu's tasks of a project"
  ((ROWS_OF[tasks] >= TASKS_PER_PROJECT)) || all+=" (restd sent the first ${ROWS_OF[tasks]} of the project's $TASKS_PER_PROJECT: a bare list is whole up to the app's max_limit; Zou sends them all)"
  row tasks "GET $API/tasks?project_id=<id>" "$all; ref_list fields left out (lists.relations: on_request)"
  row tasks-rel "GET $API/tasks?project_id=<id>&relations=true" "the same rows with their ref_list fields (assignees), one link lookup per row"
  row tasks-page "GET $API/tasks?project_id=<id>&page=1" "Kitsu's first page with the total ($TASKS_PER_PROJECT)"
  local sh="gazu's all_shots_for_project"
  [[ -n $SHOTS_NOTE ]] || ((ROWS_OF[shots] >= SHOTS_PER_PROJECT)) || sh+=" (restd sent the first ${ROWS_OF[shots]} of the project's $SHOTS_PER_PROJECT; Zou sends them all)"
  if [[ -z $SHOTS_NOTE ]]; then row shots "GET $API/projects/<id>/shots" "$sh"
  else echo "| shots | \`GET $API/projects/<id>/shots\` | | | | | $SHOTS_NOTE |"; fi
  row shots-filter "GET $API/entities?project_id=<id>&entity_type_id=<Shot>&page=1" "the same shots by the generic filter, first page and total ($SHOTS_PER_PROJECT)"
  echo
  echo "Every request of every run succeeded (no socket error, timeout or status >= 400); each request kind was first sent with curl and checked against the database. Peak RSS of restd: $((RSS_KIB / 1024)) MiB ($(awk -v k="$RSS_ANON" 'BEGIN { printf "%.1f", k / 1024 }') MiB anonymous at the end, $NTHREADS threads); restd log at \`--log-level error\`: $LOG_LINES line(s); \`quick_check\`: ok."
}
REPORT=$(report)
echo "$REPORT"
if [[ $WRITE_DOC == 1 ]]; then
  printf '%s\n' "$REPORT" >"$TMP/report.md"
  write_section '<!-- bench-kitsu:begin -->' '<!-- bench-kitsu:end -->' "$TMP/report.md"
  log "wrote the generated section of ${DOC#"$ROOT"/}"
fi
