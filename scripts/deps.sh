#!/bin/sh
# Installs the Debian packages restd builds, tests and benchmarks with.
# Idempotent: only missing packages are installed, so `make` stays fast on a
# machine that already has them.
set -eu
PKGS="gcc make cmake pkg-config libh2o-evloop-dev libjansson-dev libyaml-dev
libsqlite3-dev sqlite3 libcmocka-dev libjwt-dev libsodium-dev liboath-dev libcurl4-openssl-dev python3
python3-pytest python3-requests python3-aiosmtpd python3-yaml
strace wrk nginx-light"
missing=""
for p in $PKGS; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing="$missing $p"
done
[ -z "$missing" ] && exit 0
echo "deps: installing$missing" >&2
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get install -y --no-install-recommends $missing >/dev/null 2>&1 || {
    $SUDO apt-get update >/dev/null
    $SUDO apt-get install -y --no-install-recommends $missing >/dev/null
}
