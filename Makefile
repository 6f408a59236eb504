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

.PHONY: all test unit integration demo bench bench-tls asan fuzz fuzz-build fuzz-smoke fuzz-long clean format deps
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

# ASan + UBSan build of everything, then the same tests against it. A
# report fails the target even when the process that hit it was expected
# to fail anyway, or was a server a test stopped: every sanitized process
# writes its reports under $(ASAN_LOGS) (not to a stderr a test reads),
# and any file there at the end fails the run and is printed.
ASAN_LOGS := $(abspath build/asan/sanitizer-reports)
asan:
	@rm -rf $(ASAN_LOGS) && mkdir -p $(ASAN_LOGS)
	@ASAN_OPTIONS=log_path=$(ASAN_LOGS)/asan:detect_leaks=1 \
	UBSAN_OPTIONS=log_path=$(ASAN_LOGS)/ubsan:print_stacktrace=1:halt_on_error=1 \
	$(MAKE) BUILD=build/asan OPT="-O1 -fno-omit-frame-pointer -fsanitize=address,undefined -fno-sanitize-recover=undefined" \
		LDLIBS="-pthread -ljansson -lyaml -lpcre2-8 -lssl -lcrypto -lm -lz -lbrotlidec -lbrotlienc -lzstd -fsanitize=address,undefined" test; \
	rc=$$?; \
	if [ -n "$$(ls -A $(ASAN_LOGS))" ]; then \
		for f in $(ASAN_LOGS)/*; do echo "== $$f"; head -n 80 "$$f"; done; \
		echo "asan: $$(ls $(ASAN_LOGS) | wc -l) sanitizer report(s), in $(ASAN_LOGS)"; exit 1; \
	fi; \
	exit $$rc

demo: $(BIN)
	$(BIN) demo

bench: $(BIN)
	@sh scripts/deps.sh bench
	@sh bench/run.sh

bench-tls: $(BIN)
	@sh scripts/deps.sh bench
	@sh bench/tls/run.sh

# libFuzzer drivers for everything that parses untrusted bytes (clang):
# HTTP heads and bodies, JSON paths, templates, plans, summaries,
# thresholds, CSV data, redaction, Set-Cookie and Location. Each driver is tests/fuzz/fuzz_NAME.c with its seed
# corpus in tests/fuzz/corpus/fuzz_NAME (crashes found become regression
# inputs there). The sources are compiled once into an archive the drivers
# link against, so a driver pulls in what it reaches and nothing else.
#   make fuzz        each driver FUZZ_SECONDS on a working corpus under
#                    $(BUILD)/fuzz/corpus_NAME, seeded from the checked-in one
#                    (what the fuzzer adds stays in build/)
#   make fuzz-smoke  each driver FUZZ_SMOKE_SECONDS from the checked-in corpus
#                    alone (every input in it is run first): CI's check, with
#                    a fixed FUZZ_SMOKE_SEED so that CI judges the change, not
#                    the luck of a seed, and a failure can be replayed; new
#                    inputs are the campaign's job (FUZZ_SMOKE_SEED=0: random)
#   make fuzz-long   the campaign, FUZZ_TIME per driver, not CI (docs/hardening.md)
# Any crash, leak, hang (FUZZ_TIMEOUT per input) or sanitizer report stops
# the driver with a non-zero status and leaves the input in
# $(BUILD)/fuzz/NAME-crash-* (or leak-, timeout-, oom-).
FUZZ_SECONDS ?= 30
FUZZ_SMOKE_SECONDS ?= 20
FUZZ_SMOKE_SEED ?= 1
FUZZ_TIME ?= 1800
FUZZ_TIMEOUT ?= 10
FUZZ_DRIVERS := http jsonpath tmpl plan summary threshold csv redact cookie
# Longest input per driver.
FUZZ_MAXLEN_http := 4096
FUZZ_MAXLEN_jsonpath := 4096
FUZZ_MAXLEN_tmpl := 4096
FUZZ_MAXLEN_plan := 16384
FUZZ_MAXLEN_summary := 65536
FUZZ_MAXLEN_threshold := 1024
FUZZ_MAXLEN_csv := 16384
FUZZ_MAXLEN_redact := 4096
FUZZ_MAXLEN_cookie := 4096
FUZZ_DIR := $(BUILD)/fuzz
# Undefined behaviour stops the run like a crash (as in `make asan`).
FUZZ_CFLAGS := -std=c11 -D_GNU_SOURCE -O1 -g -Isrc -fsanitize=address,undefined -fno-sanitize-recover=undefined
# Everything a driver may reach; not the target, which no driver calls (and
# whose atomics clang 14 refuses), nor the command line.
FUZZ_SRCS := $(filter-out src/target/% src/cli/%,$(SRCS))
FUZZ_OBJS := $(FUZZ_SRCS:%.c=$(FUZZ_DIR)/obj/%.o) $(FUZZ_DIR)/obj/html_assets.o
FUZZ_LIB := $(FUZZ_DIR)/libstrain-fuzz.a
FUZZ_BINS := $(FUZZ_DRIVERS:%=$(FUZZ_DIR)/fuzz_%)
FUZZ_STAMP := $(BUILD)/.deps-fuzz

$(FUZZ_STAMP): scripts/deps.sh
	@mkdir -p $(BUILD)
	@sh scripts/deps.sh fuzz
	@touch $@

$(FUZZ_DIR)/obj/%.o: %.c | $(FUZZ_STAMP)
	@mkdir -p $(dir $@)
	clang $(FUZZ_CFLAGS) -fsanitize=fuzzer-no-link -MMD -MP -c $< -o $@

$(FUZZ_DIR)/obj/html_assets.o: src/report/html_assets.S $(REPORT_ASSETS) | $(FUZZ_STAMP)
	@mkdir -p $(dir $@)
	clang -c -I. -DCHARTJS_PATH='"$(CHARTJS)"' $< -o $@

$(FUZZ_LIB): $(FUZZ_OBJS)
	@rm -f $@
	ar rcs $@ $^

$(FUZZ_DIR)/fuzz_%: tests/fuzz/fuzz_%.c $(FUZZ_LIB) | $(FUZZ_STAMP)
	clang $(FUZZ_CFLAGS) -fsanitize=fuzzer -MMD -MP -MF $@.d $< $(FUZZ_LIB) -o $@ $(LDLIBS)

# name, seconds, working corpus (created; the checked-in seeds copied in)
fuzz_run = rm -f $(FUZZ_DIR)/$(1)-crash-* $(FUZZ_DIR)/$(1)-leak-* $(FUZZ_DIR)/$(1)-timeout-* && \
	mkdir -p $(3) && \
	if [ -d tests/fuzz/corpus/fuzz_$(1) ]; then cp tests/fuzz/corpus/fuzz_$(1)/* $(3)/; fi && \
	$(FUZZ_DIR)/fuzz_$(1) -max_total_time=$(2) -max_len=$(FUZZ_MAXLEN_$(1)) -timeout=$(FUZZ_TIMEOUT) \
		-print_final_stats=1 -artifact_prefix=$(FUZZ_DIR)/$(1)- $(4) $(3)

fuzz-build: $(FUZZ_BINS)

fuzz: $(FUZZ_BINS)
	@$(foreach d,$(FUZZ_DRIVERS),$(call fuzz_run,$(d),$(FUZZ_SECONDS),$(FUZZ_DIR)/corpus_$(d)) && ) true

# A fresh working corpus each time, so CI judges the checked-in inputs and
# what FUZZ_SMOKE_SECONDS finds from them, nothing left from earlier runs.
# FUZZ_SMOKE_JOBS drivers at a time (each is one process on one core; the
# time limit is wall-clock, so two at a time on two cores halve the stage
# and each driver still gets its core), every driver's lines together.
# (fuzz-smoke-NAME is a pattern rule, so it cannot be .PHONY.)
FUZZ_SMOKE_JOBS ?= 2
fuzz-smoke: $(FUZZ_BINS)
	@rm -rf $(FUZZ_DIR)/smoke
	@$(MAKE) --no-print-directory -j$(FUZZ_SMOKE_JOBS) -Otarget $(FUZZ_DRIVERS:%=fuzz-smoke-%)
	@echo "fuzz-smoke: every driver ran clean"

fuzz-smoke-%: $(FUZZ_DIR)/fuzz_%
	@echo "fuzz-smoke: $*" && \
	$(call fuzz_run,$*,$(FUZZ_SMOKE_SECONDS),$(FUZZ_DIR)/smoke/corpus_$*,-seed=$(FUZZ_SMOKE_SEED)) 2>$(FUZZ_DIR)/smoke-$*.log || \
		{ tail -n 60 $(FUZZ_DIR)/smoke-$*.log; echo "fuzz-smoke: $* FAILED"; exit 1; }; \
	grep -E '^stat::number_of_executed_units|^#[0-9]+[[:space:]]+DONE' $(FUZZ_DIR)/smoke-$*.log

# The campaign: one driver after another (one core each), on the working
# corpus `make fuzz` uses, with the figures per driver in
# $(FUZZ_DIR)/long-NAME.log.
fuzz-long: $(FUZZ_BINS)
	@$(foreach d,$(FUZZ_DRIVERS),echo "fuzz-long: $(d), $(FUZZ_TIME) s" && \
		$(call fuzz_run,$(d),$(FUZZ_TIME),$(FUZZ_DIR)/corpus_$(d)) 2>$(FUZZ_DIR)/long-$(d).log || \
		{ tail -n 60 $(FUZZ_DIR)/long-$(d).log; echo "fuzz-long: $(d) FAILED"; exit 1; }; \
		grep -E '^stat::number_of_executed_units|^#[0-9]+[[:space:]]+DONE' $(FUZZ_DIR)/long-$(d).log; ) \
	echo "fuzz-long: every driver ran clean"

format:
	clang-format -i $(SRCS) $(wildcard src/*/*.h) src/main.c $(UNIT_SRCS)

clean:
	rm -rf $(BUILD)

-include $(OBJS:.o=.d) $(MAIN:.o=.d) $(wildcard $(FUZZ_DIR)/obj/src/*/*.d $(FUZZ_DIR)/fuzz_*.d)
