# strain — plain Makefile. `make` builds build/strain; `make test` runs every
# test tier; `make demo` runs the main job; `make bench` the benchmarks.
# Each target first installs the Debian packages it needs (scripts/deps.sh).

CC      ?= gcc
BUILD   ?= build
OPT     ?= -O2
WERROR  ?= $(if $(CI),-Werror,)
CFLAGS  ?= $(OPT) -g
CFLAGS  += -std=c11 -D_GNU_SOURCE -pthread -Isrc -MMD -MP \
           -Wall -Wextra -Wshadow -Wstrict-prototypes -Wno-unused-parameter $(WERROR)
LDLIBS  += -pthread -ljansson -lyaml -lpcre2-8 -lssl -lcrypto -lm -lz -lbrotlidec -lbrotlienc -lzstd

SRCS    := $(wildcard src/*/*.c)
# The report page's assets, embedded by src/report/html_assets.S with
# .incbin (docs/report.md); Chart.js is Debian's libjs-chart.js.
CHARTJS ?= /usr/share/javascript/chart.js/chart.min.js
REPORT_ASSETS := $(wildcard assets/report/*) $(CHARTJS)
ASSETS_OBJ := $(BUILD)/src/report/html_assets.o
OBJS    := $(SRCS:%.c=$(BUILD)/%.o) $(ASSETS_OBJ)
MAIN    := $(BUILD)/src/main.o
LIB     := $(BUILD)/libstrain.a
BIN     := $(BUILD)/strain
UNIT_SRCS := $(wildcard tests/unit/test_*.c)
UNIT_BINS := $(UNIT_SRCS:tests/unit/%.c=$(BUILD)/tests/%)
DEPS_STAMP := $(BUILD)/.deps-build

.PHONY: all test unit integration demo bench bench-tls asan fuzz clean format deps
all: $(BIN)

$(DEPS_STAMP): scripts/deps.sh
	@mkdir -p $(BUILD)
	@sh scripts/deps.sh build
	@touch $@

# The sources also build clean under -Wconversion (tests need not).
$(BUILD)/%.o: %.c | $(DEPS_STAMP)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -Wconversion -c $< -o $@

# .incbin's inputs are invisible to -MMD: listed here, so editing an
# asset rebuilds the object.
$(ASSETS_OBJ): src/report/html_assets.S $(REPORT_ASSETS) | $(DEPS_STAMP)
	@mkdir -p $(dir $@)
	$(CC) -c -I. -DCHARTJS_PATH='"$(CHARTJS)"' $< -o $@

$(LIB): $(OBJS)
	@rm -f $@
	ar rcs $@ $^

$(BIN): $(MAIN) $(LIB)
	$(CC) $(CFLAGS) -o $@ $^ $(LDLIBS)

$(BUILD)/tests/%: tests/unit/%.c $(LIB) | $(DEPS_STAMP)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -o $@ $< $(LIB) $(LDLIBS) -lcmocka

deps:
	@sh scripts/deps.sh test

# Every tier, then one summary line: "total: N passed, N failed".
test: $(BIN) $(UNIT_BINS) deps
	@/usr/bin/python3 tests/run.py --bin $(BIN) $(UNIT_BINS)

unit: $(UNIT_BINS)
	@/usr/bin/python3 tests/run.py --unit-only $(UNIT_BINS)

integration: $(BIN) deps
	@/usr/bin/python3 tests/run.py --bin $(BIN)

# ASan + UBSan build of everything, then the same tests against it.
asan:
	$(MAKE) BUILD=build/asan OPT="-O1 -fno-omit-frame-pointer -fsanitize=address,undefined -fno-sanitize-recover=undefined" \
		LDLIBS="-pthread -ljansson -lyaml -lpcre2-8 -lssl -lcrypto -lm -lz -lbrotlidec -lbrotlienc -lzstd -fsanitize=address,undefined" test

demo: $(BIN)
	$(BIN) demo

bench: $(BIN)
	@sh scripts/deps.sh bench
	@sh bench/run.sh

bench-tls: $(BIN)
	@sh scripts/deps.sh bench
	@sh bench/tls/run.sh

# libFuzzer drivers for everything that parses untrusted bytes (clang):
# HTTP heads and bodies, JSON paths, templates, plans, summaries, Set-Cookie and Location. Each runs
# FUZZ_SECONDS on a working corpus under $(BUILD)/fuzz/corpus_NAME, seeded
# from tests/fuzz/corpus/fuzz_NAME (what the fuzzer adds stays in build/).
FUZZ_SECONDS ?= 30
# Undefined behaviour stops the run like a crash (as in `make asan`).
FUZZ_CC := clang -std=c11 -D_GNU_SOURCE -O1 -g -Isrc -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined
# The plan loader with everything it reaches; not the target, which it never
# calls (and whose atomics clang 14 refuses), nor the command line.
FUZZ_PLAN_SRCS := $(filter-out src/target/% src/cli/%,$(SRCS))
# name, max input length
fuzz_run = mkdir -p $(BUILD)/fuzz/corpus_$(1) && \
	if [ -d tests/fuzz/corpus/fuzz_$(1) ]; then cp tests/fuzz/corpus/fuzz_$(1)/* $(BUILD)/fuzz/corpus_$(1)/; fi && \
	$(BUILD)/fuzz/fuzz_$(1) -max_total_time=$(FUZZ_SECONDS) -max_len=$(2) -artifact_prefix=$(BUILD)/fuzz/$(1)- \
		$(BUILD)/fuzz/corpus_$(1)
fuzz:
	@sh scripts/deps.sh fuzz
	@mkdir -p $(BUILD)/fuzz
	$(FUZZ_CC) tests/fuzz/fuzz_http.c src/http/http_parse.c src/core/buf.c src/core/alloc.c -o $(BUILD)/fuzz/fuzz_http
	$(FUZZ_CC) tests/fuzz/fuzz_jsonpath.c src/program/jsonpath.c src/program/jsonpath_compile.c src/program/jsonpath_value.c src/program/json_scan.c src/core/alloc.c -o $(BUILD)/fuzz/fuzz_jsonpath
	$(FUZZ_CC) tests/fuzz/fuzz_tmpl.c src/program/tmpl.c src/http/url.c src/http/request.c src/core/buf.c src/core/alloc.c -o $(BUILD)/fuzz/fuzz_tmpl
	$(FUZZ_CC) tests/fuzz/fuzz_cookie.c src/http/cookie.c src/http/url.c src/core/buf.c src/core/alloc.c -o $(BUILD)/fuzz/fuzz_cookie
	$(FUZZ_CC) -c -I. -DCHARTJS_PATH='"$(CHARTJS)"' src/report/html_assets.S -o $(BUILD)/fuzz/html_assets.o
	$(FUZZ_CC) tests/fuzz/fuzz_plan.c $(FUZZ_PLAN_SRCS) $(BUILD)/fuzz/html_assets.o -o $(BUILD)/fuzz/fuzz_plan $(LDLIBS)
	$(FUZZ_CC) tests/fuzz/fuzz_summary.c src/report/summary_read.c src/metrics/hist_codec.c src/metrics/hist.c src/core/alloc.c -o $(BUILD)/fuzz/fuzz_summary -ljansson -lcrypto -lm
	$(call fuzz_run,http,4096)
	$(call fuzz_run,jsonpath,4096)
	$(call fuzz_run,tmpl,4096)
	$(call fuzz_run,plan,16384)
	$(call fuzz_run,summary,65536)
	$(call fuzz_run,cookie,4096)

format:
	clang-format -i $(SRCS) $(wildcard src/*/*.h) src/main.c $(UNIT_SRCS)

clean:
	rm -rf $(BUILD)

-include $(OBJS:.o=.d) $(MAIN:.o=.d)
