#!/usr/bin/env bash
# tests/gazu/run.sh - run the gazu studio session (tests/gazu/studio.py)
# against a fresh restd serving apps/kitsu, and optionally record it as the
# golden cases that tests/http/test_kitsu_golden.py replays.
#
#   GAZU_SRC=/tmp/gazu tests/gazu/run.sh            # run, report every step
#   GAZU_SRC=/tmp/gazu tests/gazu/run.sh --record   # also rewrite tests/http/golden/kitsu_studio.json
#
# gazu is not part of this repository and nothing here fetches it: export
# its public source tree (cgwire/gazu, tag v1.1.12) anywhere and point
# GAZU_SRC at the directory holding gazu/. It needs Debian's
# python3-requests and python3-typing-extensions. Without GAZU_SRC the
# script prints "skipped" and exits 77.
#
# Steps: a scratch directory in /tmp; build/restd (RESTD=... to choose
# another) serves a copy of apps/kitsu (app.yaml, and seed.json when there
# is one: what the replay test serves) on a free loopback port with a new
# database;
# when the app has an `auth:` section the admin account of
# tests/http/kitsu_helpers.py (the same fields, so the golden login replays)
# is created first with `restd user add`;
# studio.py runs; restd is stopped with SIGTERM and must exit 0.
# RESTD, KITSU_APP and GOLDEN_OUT choose another binary, app directory or
# golden file (defaults: build/restd, apps/kitsu, tests/http/golden/kitsu_studio.json).
# Exit status: studio.py's (0 all steps passed, 1 some failed), 77 skipped,
# 2 for a problem of this script.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
RESTD=${RESTD:-$ROOT/build/restd}
APP=${KITSU_APP:-$ROOT/apps/kitsu}
GOLDEN=${GOLDEN_OUT:-$ROOT/tests/http/golden/kitsu_studio.json}
EMAIL=admin@example.com
PASSWORD="kitsu admin password 42"   # the same as tests/http/kitsu_helpers.py
RECORD=0
for a; do
  case $a in
    --record) RECORD=1 ;;
    -h|--help) sed -n '2,21p' "$0"; exit 0 ;;
    *) echo "run.sh: unknown argument $a" >&2; exit 2 ;;
  esac
done

if [[ -z ${GAZU_SRC:-} || ! -f ${GAZU_SRC:-/nonexistent}/gazu/__init__.py ]]; then
  echo "skipped: set GAZU_SRC to gazu's source tree (the directory holding gazu/)"; exit 77
fi
[[ -x $RESTD ]] || { echo "run.sh: $RESTD not built (make build)" >&2; exit 2; }

TMP=$(mktemp -d /tmp/restd-gazu.XXXXXX)
PID=
cleanup() {
  local rc=$?
  if [[ -n $PID ]] && kill -0 "$PID" 2>/dev/null; then kill -KILL "$PID" 2>/dev/null || true; fi
  if [[ $rc != 0 && $rc != 1 ]]; then echo "run.sh: scratch directory kept: $TMP" >&2; else rm -rf "$TMP"; fi
}
trap cleanup EXIT

DB=$TMP/kitsu.db
# The app as tests/http/test_kitsu_golden.py serves it: the app file and its seed rows.
mkdir "$TMP/app"; cp "$APP/app.yaml" "$TMP/app/"
[[ ! -f $APP/seed.json ]] || cp "$APP/seed.json" "$TMP/app/"
APP=$TMP/app

if grep -q '^auth:' "$APP/app.yaml"; then
  printf '%s\n' "$PASSWORD" | "$RESTD" user add --app "$APP" --db "sqlite:$DB" --password-stdin \
    '{"email":"'"$EMAIL"'","first_name":"admin","last_name":"Test","role":"admin"}' >"$TMP/user-add.log" 2>&1 ||
    { cat "$TMP/user-add.log" >&2; echo "run.sh: restd user add failed" >&2; exit 2; }
else
  echo "note: $APP/app.yaml has no auth: section; no admin account, the auth steps will fail"
fi

# A free loopback port; when someone takes it first, restd says so and another is tried.
port=$((20000 + RANDOM % 20000))
for ((try = 0; ; try++)); do
  while (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; do port=$((port + 1)); done
  "$RESTD" serve --app "$APP" --db "sqlite:$DB" --listen "127.0.0.1:$port" --workers 1 \
    --log-level warn >"$TMP/restd.log" 2>&1 &
  PID=$!
  for ((i = 0; i < 150; i++)); do
    curl -fsS -o /dev/null --max-time 1 "http://127.0.0.1:$port/health" 2>/dev/null && break 2
    kill -0 "$PID" 2>/dev/null || break
    sleep 0.1
  done
  kill -KILL "$PID" 2>/dev/null || true; wait "$PID" 2>/dev/null || true; PID=
  if ((try < 3)) && grep -q 'in use' "$TMP/restd.log"; then port=$((port + 1)); continue; fi
  cat "$TMP/restd.log" >&2; echo "run.sh: restd did not start" >&2; exit 2
done

rc=0
commit=$(git -C "$ROOT" rev-parse --short=12 HEAD 2>/dev/null || echo unknown)
[[ -z $(git -C "$ROOT" status --porcelain --untracked-files=no 2>/dev/null) ]] || commit+="+changes"
if [[ $RECORD == 1 ]]; then
  mkdir -p "$(dirname "$GOLDEN")"
  export STUDIO_RECORD=$TMP/golden.json
  auth=false; grep -q '^auth:' "$APP/app.yaml" && auth=true
  export STUDIO_META='{"restd_commit": "'"$commit"'", "recorded": "'"$(date -u +%Y-%m-%d)"'", "app_auth": '"$auth"'}'
fi
KITSU_HOST="http://127.0.0.1:$port/api" KITSU_EMAIL=$EMAIL KITSU_PASSWORD=$PASSWORD \
  /usr/bin/python3 "$ROOT/tests/gazu/studio.py" || rc=$?

kill -TERM "$PID"
src=0; wait "$PID" || src=$?
PID=
if [[ $src != 0 ]] || grep -q 'Sanitizer\|runtime error:' "$TMP/restd.log"; then
  cat "$TMP/restd.log" >&2; echo "run.sh: restd exited with $src" >&2; exit 2
fi
[[ $rc == 0 || $rc == 1 ]] || { echo "run.sh: studio.py exited with $rc" >&2; exit 2; }
if [[ $RECORD == 1 ]]; then
  cp "$TMP/golden.json" "$GOLDEN"
  echo "wrote ${GOLDEN#"$ROOT"/}"
fi
exit "$rc"
