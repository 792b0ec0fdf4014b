# aitrader — the two commands users need: `make run` and `make test`.
BUILD      ?= build
ASAN_BUILD ?= build-asan
PREFIX     ?= /usr/local
CONFIG     ?= modules.ini
JOBS       ?= $(shell nproc 2>/dev/null || echo 2)
# Warnings are errors in CI (CI=true) and wherever AT_WERROR=ON is given.
AT_WERROR  ?= $(if $(CI),ON,OFF)
CMAKE_ARGS ?=

.PHONY: all deps build web run demo test test-fast asan bench install clean format format-check

all: build

deps:
	@bash scripts/deps.sh

build: deps
	@cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCMAKE_INSTALL_PREFIX=$(PREFIX) \
	    -DAT_WERROR=$(AT_WERROR) $(CMAKE_ARGS) >/dev/null
	@cmake --build $(BUILD) -j$(JOBS)
	@$(MAKE) --no-print-directory web

# The dashboard (web/ -> web/dist, served by ui_dashboard): rebuilt only when
# a file of web/ changed since the last build (the stamp web/dist/.built).
# Without node/npm scripts/web.sh says so and builds nothing (exit 0).
WEB_SRC := $(shell find web/src web/index.html web/package.json web/package-lock.json \
                web/vite.config.ts web/tsconfig.json -type f 2>/dev/null)
web: web/dist/.built
web/dist/.built: $(WEB_SRC) scripts/web.sh
	@bash scripts/web.sh

# Run the engine with ./modules.ini (Ctrl-C stops it cleanly).
run: build
	./$(BUILD)/aitrader run -c $(CONFIG)

# The offline demo: okx-sim replaying real OKX candles, the engine trading it
# (demo/modules.ini), the dashboard's URL printed; Ctrl-C stops both. Builds
# only what it runs (scripts/demo.sh says the rest).
DEMO_TARGETS := aitrader okx-sim storage_sqlite exchange_okx exchange_paper indicator_ta \
                ai_rules risk_limits risk_breaker ui_dashboard
demo: deps
	@cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCMAKE_INSTALL_PREFIX=$(PREFIX) \
	    -DAT_WERROR=$(AT_WERROR) $(CMAKE_ARGS) >/dev/null
	@cmake --build $(BUILD) -j$(JOBS) --target $(DEMO_TARGETS)
	@$(MAKE) --no-print-directory web
	@bash scripts/demo.sh $(BUILD)

# Every test: the normal build (unit, runtime, PostgreSQL, fuzz replay), then
# the ASan+UBSan build of the same suites, then the formatting check.
test: build
	ctest --test-dir $(BUILD) --output-on-failure -j$(JOBS)
	$(MAKE) --no-print-directory asan
	$(MAKE) --no-print-directory format-check

# Only the normal build's tests (quicker while developing).
test-fast: build
	ctest --test-dir $(BUILD) --output-on-failure -j$(JOBS)

asan: deps
	@cmake -S . -B $(ASAN_BUILD) -DCMAKE_BUILD_TYPE=Debug -DAT_SANITIZE=ON \
	    -DAT_WERROR=$(AT_WERROR) $(CMAKE_ARGS) >/dev/null
	@cmake --build $(ASAN_BUILD) -j$(JOBS)
	ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
	    ctest --test-dir $(ASAN_BUILD) --output-on-failure -j$(JOBS) -LE noasan

bench: build
	@if [ -x bench/run.sh ]; then bash bench/run.sh $(BUILD); else \
	    echo "bench: no benchmarks in this build yet"; fi

install: build
	cmake --install $(BUILD) --prefix $(PREFIX)

format:
	clang-format -i $$(git ls-files '*.c' '*.h')

format-check:
	@clang-format --dry-run --Werror $$(git ls-files '*.c' '*.h') && echo "format-check: ok"

clean:
	rm -rf $(BUILD) $(ASAN_BUILD) web/dist
