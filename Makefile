# One non-recursive Makefile for the block-graph oracle and differential fuzzer.
#
#   make            build the release variant: build/replay, build/unit
#   make check      everything CI runs: unit tests and stream tests, in the
#                   release build and under ASan+UBSan (build/asan), and the
#                   coverage floor of real/ (build/cov, tests/coverage-floor.txt)
#   make fuzz       a bounded fuzz campaign; its report in reports/fuzz/<run>/;
#                   exit status 1 only for a finding corpus/regress/ lacks
#   make qemu-gen   generated streams run on QEMU against model and real
#                   (QEMU_GEN_STREAMS, QEMU_GEN_STEPS, QEMU_GEN_SEED)
#   make coverage   coverage of unit tests, corpus (and fuzz corpus with
#                   FUZZ_SECONDS=N) as genhtml pages in reports/coverage/
#   make deps       install what is missing (apt-get, idempotent)
#   make clean      remove build/ and generated reports
#
# One build directory per variant; objects never mix.  Release binaries are
# build/<tool>, objects build/obj/; the sanitizer variant is build/asan/, the
# coverage variant (clang source-based) build/cov/.

CC       ?= cc
ifeq ($(origin CC),default)
CC       := gcc
endif
CFLAGS   ?= -O2 -g
WARN      = -Wall -Wextra -Wformat=2 -Wshadow -Wstrict-prototypes -Wno-unused-parameter
CPPFLAGS  = -Icommon -Iqemu -Ireplay -Itests -D_GNU_SOURCE -MMD -MP
STD       = -std=gnu11
LDLIBS    = -ljansson -lz
-include config.mak

COMMON = $(sort $(wildcard common/*.c))
QEMU   = $(sort $(wildcard qemu/*.c))
MODEL  = $(sort $(wildcard model/*.c))
REAL   = $(sort $(wildcard real/*.c))
LIBSRC = $(COMMON) $(QEMU) $(MODEL) $(REAL) replay/backends.c replay/record.c replay/minimize.c
UNIT   = $(sort $(wildcard tests/unit/*.c)) tests/test_main.c
FUZZLIB = fuzz/mutator.c fuzz/mut_crossover.c fuzz/gen.c fuzz/gen_node.c fuzz/gen_pick.c fuzz/mut_lines.c \
          fuzz/mut_state.c fuzz/mut_state_query.c fuzz/mut_values.c

# Quiet by default; V=1 shows the commands.
ifeq ($(V),1)
Q :=
else
Q := @
endif

B ?= build
O  = $(B)/obj
obj = $(patsubst %.c,$(O)/%.o,$(1))

all: deps-check $(B)/replay $(B)/unit

$(O)/%.o: %.c
	@mkdir -p $(@D)
	@$(if $(Q),echo "  CC      $(B) $<")
	$(Q)$(CC) $(STD) $(CPPFLAGS) $(WARN) $(CFLAGS) -c -o $@ $<

$(B)/replay: $(call obj,$(LIBSRC) replay/replay.c)
	@mkdir -p $(@D)
	@$(if $(Q),echo "  LD      $@")
	$(Q)$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $^ $(LDLIBS)

$(B)/unit: $(call obj,$(LIBSRC) $(FUZZLIB) fuzz/fuzz_stats.c $(UNIT))
	@mkdir -p $(@D)
	@$(if $(Q),echo "  LD      $@")
	$(Q)$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $^ $(LDLIBS)

# ---- dependencies ---------------------------------------------------------
DEPS_PKGS = clang gcc make libjansson-dev zlib1g-dev lcov gnuplot-nox \
            qemu-system-x86 qemu-utils coreutils \
            llvm libclang-rt-dev
deps:
	@sh tools/deps.sh $(DEPS_PKGS)
# Cheap check used by every build: only runs the installer when a package is missing.
deps-check:
	@sh tools/deps.sh --quiet $(DEPS_PKGS)

# ---- fuzz targets (clang, libFuzzer + ASan + UBSan) ------------------------
FUZZ_CC    = clang
FUZZ_FLAGS = -O1 -g -fsanitize=fuzzer-no-link,address,undefined -fno-omit-frame-pointer \
             -fno-sanitize-recover=undefined
# How targets link; fuzz/build.sh passes OSS-Fuzz's $CXX $CXXFLAGS $LIB_FUZZING_ENGINE
# and static jansson and zlib.
FUZZ_LINK   = $(CC) $(CFLAGS) -fsanitize=fuzzer,address,undefined
FUZZ_LDLIBS = $(LDLIBS)

# The stream parser target: reader, expectation checker, normaliser.
$(B)/fuzz_stream: $(call obj,$(COMMON) fuzz/fuzz_stream.c)
	@mkdir -p $(@D)
	@$(if $(Q),echo "  LD      $@")
	$(Q)$(FUZZ_LINK) -o $@ $^ $(FUZZ_LDLIBS)

# The differential target: model against real in-process (fuzz_diff.c), with
# the structure-aware mutator.  Neither the mutator, the model nor the input
# count (fuzz_stats.c) is instrumented for coverage: the mutator's branches
# and the count's table are not progress, and the oracle's byte-by-byte
# loops would cost a callback per comparison; the feedback comes from the
# engine and the shared code.
$(B)/fuzz_diff: $(call obj,$(LIBSRC) $(FUZZLIB) fuzz/fuzz_stats.c fuzz/fuzz_diff.c)
	@mkdir -p $(@D)
	@$(if $(Q),echo "  LD      $@")
	$(Q)$(FUZZ_LINK) -o $@ $^ $(FUZZ_LDLIBS)
# `override`: fuzz-build and fuzz/build.sh give CFLAGS on the command line,
# which would otherwise win over this target-specific value; fuzzer-no-link
# may be a word of its own (OSS-Fuzz) or one item of a -fsanitize= list.
comma := ,
$(call obj,$(FUZZLIB) $(MODEL) fuzz/fuzz_stats.c): override CFLAGS := $(subst fuzzer-no-link$(comma),,$(filter-out -fsanitize=fuzzer-no-link,$(CFLAGS)))

fuzz-build: deps-check
	@$(MAKE) --no-print-directory B=build/fuzz CC=$(FUZZ_CC) CFLAGS='$(FUZZ_FLAGS)' \
	    build/fuzz/fuzz_stream build/fuzz/fuzz_diff

FUZZ_SECONDS ?= 60
FUZZ_JOBS    ?= 1
# Exit status: 0 no new finding, 1 a finding corpus/regress/ does not reproduce,
# 2 the campaign could not run (tools/fuzz-campaign.sh).
fuzz: all fuzz-build
	@bash tools/fuzz-campaign.sh $(FUZZ_SECONDS) $(FUZZ_JOBS)

# Generated streams judged by QEMU itself: what model and engine get wrong
# together, which fuzz_diff cannot see (tools/qemu-gen.sh).  Exit status 1
# when QEMU disagrees with either on a stream.
QEMU_GEN_STREAMS ?= 100
QEMU_GEN_STEPS   ?= 8
QEMU_GEN_SEED    ?= 1
$(B)/gen_streams: $(call obj,$(COMMON) $(FUZZLIB) fuzz/gen_streams.c)
	@mkdir -p $(@D)
	@$(if $(Q),echo "  LD      $@")
	$(Q)$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $^ $(LDLIBS)

qemu-gen: all $(B)/gen_streams
	@bash tools/qemu-gen.sh $(QEMU_GEN_STREAMS) $(QEMU_GEN_STEPS) $(QEMU_GEN_SEED)

# ---- tests ----------------------------------------------------------------
ASAN_FLAGS = -O1 -g -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined

check: all fuzz-build $(B)/gen_streams
	@$(MAKE) --no-print-directory B=build/asan CFLAGS='$(ASAN_FLAGS)' build/asan/replay build/asan/unit
	@$(MAKE) --no-print-directory coverage-build-replay
	@bash tests/run.sh build build/asan build/fuzz $(COV)

clean:
	rm -rf build reports/coverage reports/fuzz reports/index.html

.PHONY: all check deps deps-check clean fuzz fuzz-build qemu-gen
.DELETE_ON_ERROR:
-include $(shell find build -name '*.d' 2>/dev/null)

# ---- bench: figures only, no thresholds -------------------------------------
#   make bench   1. the engine's 4 KiB I/O against qemu-img bench (bench/bench.c);
#                2. fuzz_diff's executions per second on generated 8- and 32-step
#                   streams (bench/bench_fuzz.c), release build and ASan+UBSan
#                   build (build/asan; leak checking off: leaks are make check's);
#                   the mismatches they find go to bench_fuzz.findings beside them;
#                   and the CPU cost of one step of each common kind (-kinds);
#                3. the mutator's validity rate and mutations per second
#                   (fuzz/fuzz_mutator_selftest.c, which exits 1 below 90% valid
#                   or on an oversized output: a broken mutator, not a slow one).
$(B)/bench: $(call obj,$(LIBSRC) bench/bench.c)
	@mkdir -p $(@D)
	@$(if $(Q),echo "  LD      $@")
	$(Q)$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $^ $(LDLIBS)

$(B)/bench_fuzz: $(call obj,$(LIBSRC) $(FUZZLIB) fuzz/fuzz_stats.c fuzz/fuzz_diff.c bench/bench_fuzz.c)
	@mkdir -p $(@D)
	@$(if $(Q),echo "  LD      $@")
	$(Q)$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $^ $(LDLIBS)

$(B)/fuzz_mutator_selftest: $(call obj,$(COMMON) $(FUZZLIB) fuzz/fuzz_mutator_selftest.c)
	@mkdir -p $(@D)
	@$(if $(Q),echo "  LD      $@")
	$(Q)$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $^ $(LDLIBS)

bench: $(B)/bench $(B)/bench_fuzz $(B)/fuzz_mutator_selftest
	@$(MAKE) -s --no-print-directory B=build/asan CFLAGS='$(ASAN_FLAGS)' build/asan/bench_fuzz
	@echo "== engine against qemu-img bench"
	@$(B)/bench
	@echo "== fuzz_diff, release build ($(B)/bench_fuzz; mismatches in $(B)/bench_fuzz.findings)"
	@$(B)/bench_fuzz -kinds 2>$(B)/bench_fuzz.findings
	@echo "== fuzz_diff, ASan+UBSan build (build/asan/bench_fuzz; mismatches in build/asan/bench_fuzz.findings)"
	@ASAN_OPTIONS=detect_leaks=0 build/asan/bench_fuzz -kinds 2>build/asan/bench_fuzz.findings
	@echo "== the mutator ($(B)/fuzz_mutator_selftest)"
	@$(B)/fuzz_mutator_selftest -n 20000

.PHONY: bench

# ---- coverage: clang source-based, exported to lcov (tools/coverage.sh says why)
#   make coverage         build/cov, then the unit tests and every corpus stream
#                         on the in-process backends (model, real), and with
#                         FUZZ_SECONDS=N a fuzz campaign's corpus too; genhtml
#                         into reports/coverage/{model,real,shared}/; prints the
#                         per-file table (reports/coverage/summary.{txt,json})
#   make coverage-floor   re-measure the corpus-alone floors that make check
#                         enforces (tests/coverage-floor.txt)
COV       = build/cov
COV_CC    = clang
COV_FLAGS = -O0 -g -fprofile-instr-generate -fcoverage-mapping

coverage-build: deps-check
	@$(MAKE) --no-print-directory B=$(COV) CC=$(COV_CC) CFLAGS='$(COV_FLAGS)' $(COV)/replay $(COV)/unit
	@echo coverage >$(COV)/VARIANT

# What make check needs for the floor: the replay tool only.
coverage-build-replay: deps-check
	@$(MAKE) --no-print-directory B=$(COV) CC=$(COV_CC) CFLAGS='$(COV_FLAGS)' $(COV)/replay
	@echo coverage >$(COV)/VARIANT

coverage: coverage-build
ifneq ($(filter command environment,$(firstword $(origin FUZZ_SECONDS))),)
	-@$(MAKE) --no-print-directory fuzz
	@bash tools/coverage.sh report build/fuzz/corpus/*/
else
	@bash tools/coverage.sh report
endif

coverage-floor: coverage-build-replay
	@bash tools/coverage.sh set-floor

.PHONY: coverage coverage-build coverage-build-replay coverage-floor

# make print-VAR: a variable's value (fuzz/build.sh reads the source lists).
print-%:
	@echo $($*)
