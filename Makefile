# restd: `make` builds build/restd, `make run` serves the default app,
# `make check` runs every test (unit + HTTP, plain and under ASan+UBSan).
APP    ?= apps/kitsu
DB     ?= sqlite:data/restd.db
LISTEN ?= 127.0.0.1:8080
PYTHON ?= /usr/bin/python3
JOBS   ?= $(shell nproc)
MAKEFLAGS += --no-print-directory

.PHONY: all deps build build-asan run check unit http bench fuzz clean

all: build

deps:
	@scripts/deps.sh

build: deps
	@cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
	@cmake --build build -j $(JOBS)

build-asan: deps
	@cmake -S . -B build-asan -DCMAKE_BUILD_TYPE=Debug -DRESTD_SANITIZE=ON >/dev/null
	@cmake --build build-asan -j $(JOBS)

# On the first start of an app with sign-in (no database yet), make an
# admin account and print its password once (restd user add generates it).
# Its fields are the app's users model's: APP/admin.json when the app has
# one, else ADMIN.
ADMIN  ?= {"email": "admin@example.com", "full_name": "Administrator", "role": "admin"}

run: build
	@mkdir -p data
	@if grep -q '^auth:' $(APP)/app.yaml && [ ! -e "$(patsubst sqlite:%,%,$(DB))" ]; then \
	  build/restd user add --app $(APP) --db $(DB) "$$(cat $(APP)/admin.json 2>/dev/null || echo '$(ADMIN)')"; fi
	build/restd serve --app $(APP) --db $(DB) --listen $(LISTEN)

unit: build build-asan
	cd build && ctest --output-on-failure
	cd build-asan && ctest --output-on-failure

# The HTTP suite runs against the sanitizer build; ASan reports fail the test
# that started the server (see tests/http/conftest.py).
http: build build-asan
	RESTD_BIN=$(CURDIR)/build-asan/restd LSAN_OPTIONS=suppressions=$(CURDIR)/tests/lsan.supp \
	  $(PYTHON) -m pytest -q tests/http

check: unit http

bench: build
	bench/run.sh

# libFuzzer drivers (clang) for the body, query-string and app-file parsers;
# FUZZ_SECONDS per driver. Not part of check: fuzzing is open-ended.
fuzz: deps
	tests/fuzz/run.sh

clean:
	rm -rf build build-asan build-fuzz
