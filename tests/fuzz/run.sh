#!/bin/sh
# Builds the libFuzzer drivers with clang (ASan+UBSan) and runs each for
# FUZZ_SECONDS (default 60). Not part of `make check`: fuzzing is open-ended.
# Crashes land in build-fuzz/crash-*; replay one with: build-fuzz/fuzz_X FILE
set -eu
cd "$(dirname "$0")/../.."
secs=${FUZZ_SECONDS:-60}
command -v clang >/dev/null || { [ "$(id -u)" -eq 0 ] && S="" || S=sudo; $S apt-get install -y clang >/dev/null; }
out=build-fuzz
mkdir -p $out
SRC=$(find src -name '*.c' ! -name main.c)
CFLAGS="-std=gnu17 -D_GNU_SOURCE -DH2O_USE_LIBUV=0 -DRESTD_VERSION=\"fuzz\" -Isrc -isystem /usr/include/h2o -g -O1"
SAN="-fsanitize=fuzzer,address,undefined"
for d in jin query app jwt authhdr; do
    clang $CFLAGS $SAN tests/fuzz/fuzz_$d.c $SRC -o $out/fuzz_$d \
        -lh2o-evloop -ljansson -lyaml -lsqlite3 -lsodium -loath -ljwt -lcurl -lpthread -lm
    mkdir -p $out/corpus_$d
    (cd $out && ./fuzz_$d -max_total_time="$secs" -max_len=65536 corpus_$d ../tests/fuzz/seeds_$d 2>&1 | tail -3)
done
