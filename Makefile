# tiktok2mqtt: one non-recursive Makefile.
#
#   make                  libtiktok (build/libtiktok.a) and the tools (build/tt-decode)
#   make deps             install the Debian packages and npm packages that are missing
#   make check            deps, build, every test; SANITIZE=address,undefined and WERROR=1 apply
#   make check-brokers    the bridge against RabbitMQ and ejabberd (tests/brokers); CI runs it too
#   make check-tsan       the connection and bridge suites under ThreadSanitizer (build/tsan)
#   make format-check     clang-format --dry-run over our C sources
#   make fuzz             every libFuzzer target (clang), FUZZ_SECONDS=60 each (tests/fuzz/fuzz.mk)
#   make fuzz-build       build them all, run none (make check does, tests/build/run.sh)
#   make bench-decode     decode throughput against the Node library (docs/PERFORMANCE.md)
#   make install          PREFIX, DESTDIR, SYSCONFDIR, LIBDIR (packaging/install.mk, docs/install.md)
#   make uninstall        removes what install put (never an edited configuration)
#   make deb              Debian packages into $(B)/deb (packaging/deb.mk)
#   make docs             regenerate docs/config.md and man/tiktok2mqtt.ini.5 from bridge/cfg_table.h
#   make bench            every benchmark (tools/bench.mk), rewriting docs/PERFORMANCE.md
#
# User knobs: CC, CFLAGS (appended last, so they win), SANITIZE, WERROR=1, V=1, PREFIX,
# PAHO_LINK=shared (paho's shared library, not its static archive: bridge/daemon.mk).

CC       ?= cc
CFLAGS   ?= -O2 -g
PREFIX   ?= /usr/local
SANITIZE ?=
WERROR   ?=
FUZZ_SECONDS ?= 60
SOAK_MINUTES ?= 30
PKG_CONFIG ?= pkg-config
PAHO_LINK ?= static

# A sanitized build lives beside the plain one, so the two never mix objects; ThreadSanitizer
# cannot be combined with ASan, so its build has a directory of its own (make check-tsan).
ifeq ($(SANITIZE),)
B := build
else ifeq ($(SANITIZE),thread)
B := build/tsan
else
B := build/san
endif

TT_WARN := -Wall -Wextra -Wpedantic -Wshadow -Wstrict-prototypes -Wmissing-prototypes \
	-Wold-style-definition -Wpointer-arith -Wcast-qual -Wwrite-strings -Wundef -Wvla \
	-Wformat=2 -Wimplicit-fallthrough -Wconversion -Wno-sign-conversion
ifneq ($(WERROR),)
TT_WARN += -Werror
endif
ifneq ($(SANITIZE),)
SAN_FLAGS := -fsanitize=$(SANITIZE) -fno-omit-frame-pointer -fno-sanitize-recover=all
endif

# Everyone sees the public header and common/ (what the library, the daemon, the simulator and
# the tools share); the library's internals (connector/src) and the generated nanopb code are
# added below for the library, its tests and the simulator alone.
TT_CPPFLAGS := -D_POSIX_C_SOURCE=200809L -D_DEFAULT_SOURCE -Iconnector/include -Icommon \
	-DPB_ENABLE_MALLOC
LIB_CPPFLAGS := -Iconnector/src -I$(B)/gen
ALL_CFLAGS := -std=c11 $(TT_CPPFLAGS) $(TT_WARN) -fvisibility=hidden -MMD -MP $(SAN_FLAGS) $(CFLAGS)
ALL_LDFLAGS := $(SAN_FLAGS) $(LDFLAGS)

# Objects remember the flags they were compiled with: a `make CFLAGS=...` (or another CC) in a
# build directory rebuilds them, where it used to link them with objects of the old flags. The
# warning flags (WERROR included) change no object and are left out. The file is rewritten only
# when the flags differ, so a second `make` still has nothing to do (tests/build/run.sh).
FLAGS_STAMP := $(B)/obj/cflags
FLAGS_NOW := $(CC) $(SAN_FLAGS) $(CFLAGS)
$(shell mkdir -p $(B)/obj)
ifneq ($(file <$(FLAGS_STAMP)),$(FLAGS_NOW))
$(file >$(FLAGS_STAMP),$(FLAGS_NOW))
endif
NANOPB_LIBS := -lprotobuf-nanopb
CJSON_LIBS := -lcjson
# what a program linking libtiktok.a needs besides it
LIB_LIBS := -lwebsockets -lcurl -lssl -lcrypto -lprotobuf-nanopb -ldeflate

ifeq ($(V),)
Q := @
QCC = @echo "  CC      $@";
QAR = @echo "  AR      $@";
QLD = @echo "  LD      $@";
QGEN = @echo "  GEN     $@";
endif

# common/: what the library, the daemon, the simulator and the tools share. The library takes
# the clocks, the PRNG, the growable buffer and base64 (hidden, as everything not TT_API); the
# programs also take the abort-on-OOM allocators, which the library never links.
COMMON_LIB_SRCS := common/clock.c common/prng.c common/buffer.c common/base64.c
COMMON_LIB_OBJS := $(COMMON_LIB_SRCS:%.c=$(B)/obj/%.o)
COMMON_APP_OBJS := $(COMMON_LIB_OBJS) $(B)/obj/common/xalloc.o
LIB_SRCS := $(wildcard connector/src/*.c) $(COMMON_LIB_SRCS)
LIB_OBJS := $(LIB_SRCS:%.c=$(B)/obj/%.o) $(B)/obj/gen/webcast.pb.o
LIB := $(B)/libtiktok.a
# The shared library: soname libtiktok.so.$(LIB_MAJOR), file libtiktok.so.$(LIB_VERSION).
LIB_VERSION := $(shell sed -n 's/^\#define TT_VERSION "\(.*\)"/\1/p' connector/src/version.c)
LIB_MAJOR := $(firstword $(subst ., ,$(LIB_VERSION)))
LIB_SONAME := libtiktok.so.$(LIB_MAJOR)
LIB_SO := $(B)/libtiktok.so.$(LIB_VERSION)
LIB_MAP := $(B)/libtiktok.map

TOOLS := $(B)/tt-decode
UNIT_SRCS := $(wildcard tests/unit/test_*.c)
UNIT_BINS := $(UNIT_SRCS:tests/unit/%.c=$(B)/tests/%)
GEN_C := $(B)/gen/webcast.pb.c
GEN_H := $(B)/gen/webcast.pb.h

.PHONY: all deps check check-brokers check-tsan unit format-check format fuzz fuzz-build bench-decode bench-bridge clean demo docs \
	soak
.DEFAULT_GOAL := all

all: $(LIB) $(LIB_SO) $(TOOLS) $(UNIT_BINS) $(B)/fuzz_replay

# Nothing built is an intermediate to be deleted: a second `make` must find everything in
# place and do nothing (tests/build/run.sh checks it).
.SECONDARY:

# Per-target include paths: the library's objects (position-independent, for the .so too), its
# tests and fuzz targets see connector/src and the generated code; everyone else only tt.h.
$(LIB_OBJS): ALL_CFLAGS += $(LIB_CPPFLAGS) -fPIC
$(B)/obj/tests/%.o: ALL_CFLAGS += $(LIB_CPPFLAGS) -Itests

# ---- generated nanopb code (proto/README.md) ----
$(GEN_C) $(GEN_H) &: proto/webcast.proto proto/webcast.options
	$(QGEN)mkdir -p $(B)/gen
	$(Q)nanopb_generator.py -q --error-on-unmatched -I proto -D $(B)/gen -f proto/webcast.options proto/webcast.proto

$(B)/obj/gen/webcast.pb.o: $(GEN_C) $(FLAGS_STAMP)
	$(QCC)mkdir -p $(@D)
	$(Q)$(CC) $(ALL_CFLAGS) -Wno-conversion -c -o $@ $<

# ---- library ----
$(B)/obj/%.o: %.c $(FLAGS_STAMP)
	$(QCC)mkdir -p $(@D)
	$(Q)$(CC) $(ALL_CFLAGS) -c -o $@ $<

$(LIB): $(LIB_OBJS)
	$(QAR)rm -f $@
	$(Q)ar rcs $@ $^

# The linker version script: exactly the functions tt.h declares with TT_API are global,
# everything else (our tt__* internals, nanopb's descriptors and runtime) is local.
$(LIB_MAP): connector/include/tt.h
	$(QGEN)mkdir -p $(@D)
	$(Q){ echo '{ global:'; sed -n 's/^TT_API [^(]*[ *]\(tt_[a-z0-9_]*\)(.*/    \1;/p' $<; \
		echo 'local: *; };'; } >$@.tmp && mv $@.tmp $@

$(LIB_SO): $(LIB_OBJS) $(LIB_MAP)
	$(QLD)$(CC) $(ALL_LDFLAGS) -shared -Wl,-soname,$(LIB_SONAME) -Wl,--version-script=$(LIB_MAP) \
		-o $@ $(LIB_OBJS) $(LIB_LIBS)

# ---- tools ----
$(B)/tt-decode: $(B)/obj/tools/tt-decode.o $(COMMON_APP_OBJS) $(LIB)
	$(QLD)$(CC) $(ALL_LDFLAGS) -o $@ $^ $(CJSON_LIBS) $(LIB_LIBS)

# ---- tests ----
$(B)/tests/test_proto: $(B)/obj/tests/unit/test_proto.o $(B)/obj/gen/webcast.pb.o
	$(QLD)mkdir -p $(@D)
	$(Q)$(CC) $(ALL_LDFLAGS) -o $@ $^ $(NANOPB_LIBS)

$(B)/obj/tests/unit/test_proto.o $(B)/obj/connector/src/encode.o: $(GEN_H)
# The decoders read field numbers from the generated header (dec.h TT_TAG): its *_tag lines
# alone, since nanopb's pb.h and our wire.h both name the wire types.
GEN_TAGS := $(B)/gen/webcast_tags.h
$(GEN_TAGS): $(GEN_H)
	$(QGEN)grep '^#define TikTok_[A-Za-z0-9_]*_tag ' $< >$@
$(filter $(B)/obj/connector/%,$(LIB_OBJS)): | $(GEN_TAGS)

$(B)/tests/test_%: $(B)/obj/tests/unit/test_%.o $(LIB)
	$(QLD)mkdir -p $(@D)
	$(Q)$(CC) $(ALL_LDFLAGS) -o $@ $^ $(LIB_LIBS) -lz

# tt_client_stop() from another thread at every moment of a connection (tests/connector, and
# the TSan pass): a program the hostile suite runs against the simulator
$(B)/tests/stop_race: $(B)/obj/tests/connector/stop_race.o $(LIB)
	$(QLD)mkdir -p $(@D)
	$(Q)$(CC) $(ALL_LDFLAGS) -o $@ $^ $(LIB_LIBS) -lpthread
all: $(B)/tests/stop_race

# a resolver that never answers, for names under .slow.test (LD_PRELOAD, tests/connector);
# built without the sanitizers: it is preloaded into sanitized programs too
$(B)/tests/slow_dns.so: tests/connector/slow_dns.c
	$(QLD)mkdir -p $(@D)
	$(Q)$(CC) -O2 -Wall -Wextra -shared -fPIC -o $@ $< -ldl
all: $(B)/tests/slow_dns.so

$(B)/fuzz_replay: $(B)/obj/tests/fuzz/fuzz_frame.o $(B)/obj/tests/fuzz/replay_main.o $(LIB)
	$(QLD)$(CC) $(ALL_LDFLAGS) -o $@ $^ $(LIB_LIBS) -lz

deps:
	$(Q)sh tools/deps.sh

# LeakSanitizer's reports of libpaho's own blocks are muted (tests/lsan.supp says why); every
# other leak still fails the process and its test.
export LSAN_OPTIONS := suppressions=$(CURDIR)/tests/lsan.supp

check: deps
	$(Q)$(MAKE) --no-print-directory -j2 all
	$(Q)B=$(B) SANITIZE=$(SANITIZE) sh tests/run.sh

# the bridge against the two Erlang brokers, RabbitMQ 3.10 and ejabberd 23.01 (tests/brokers;
# about 85 s, much of it their start): beside make check, which has mosquitto and aedes
check-brokers: deps
	$(Q)$(MAKE) --no-print-directory -j2 all
	$(Q)B=$(B) python3 tests/brokers/run.py rabbitmq ejabberd

# Data races: the suites that run threads (the connection's stop from another thread, the
# daemon's streamer threads, paho's) under ThreadSanitizer; tests/tsan.supp says what is muted.
check-tsan: deps
	$(Q)$(MAKE) --no-print-directory -j2 SANITIZE=thread all
	$(Q)B=build/tsan SANITIZE=thread \
		TSAN_OPTIONS="halt_on_error=1 exitcode=66 suppressions=$(CURDIR)/tests/tsan.supp" \
		sh tests/run_tsan.sh

# only what the demo runs (the build's packages and mosquitto), not make deps' test tools
demo:
	$(Q)sh tools/deps.sh demo
	$(Q)$(MAKE) --no-print-directory -j2 all
	$(Q)B=$(B) sh tools/demo.sh

# the overlay ready to open or serve: its files and mqtt.js's browser bundle (from npm, make deps)
.PHONY: overlay
overlay:
	$(Q)sh tools/deps.sh overlay
	$(Q)mkdir -p build/overlay
	$(Q)cp contrib/overlay/index.html contrib/overlay/overlay.css contrib/overlay/overlay.js \
		contrib/overlay/sources.js build/npm/node_modules/mqtt/dist/mqtt.min.js build/overlay/
	@echo "overlay: build/overlay/index.html?mqtt=ws://HOST:PORT&user=HANDLE (contrib/overlay/README.md)"

# The key reference: the tables of docs/config.md and man/tiktok2mqtt.ini.5 from cfg_table.h.
docs:
	$(Q)python3 tools/gen_config_ref.py

format-check:
	$(Q)clang-format --dry-run -Werror $(shell git ls-files '*.c' '*.h' 2>/dev/null || find connector tools tests -name '*.[ch]') && echo "format-check: clean"

format:
	$(Q)clang-format -i $(shell git ls-files '*.c' '*.h')

# fuzzing (clang + libFuzzer; `make fuzz`, `make fuzz-build`): tests/fuzz/fuzz.mk

bench-decode: deps all $(B)/bench-inflate
	$(Q)B=$(B) python3 tools/bench_decode.py --write

bench-bridge: deps all
	$(Q)B=$(B) python3 tools/bench_bridge.py --write

# docs/RELIABILITY.md's soak: SOAK_MINUTES of faults, broker restarts, reloads and API churn
# on 50 streamers, counted by msgId (tools/soak.py). Too long for make check.
soak: deps all
	$(Q)B=$(B) SOAK_MINUTES=$(SOAK_MINUTES) python3 tools/soak.py

clean:
	rm -rf build

# Parts of the tree with build rules of their own: the simulator and the bridge.
-include contrib/sim/sim.mk bridge/bridge.mk bridge/daemon.mk packaging/install.mk packaging/deb.mk \
	tools/bench.mk
-include tests/fuzz/fuzz.mk

-include $(shell find build -name '*.d' 2>/dev/null)

# built by `all`: make check's bench-decode smoke runs it
all: $(B)/bench-inflate
$(B)/bench-inflate: $(B)/obj/tools/bench-inflate.o $(LIB)
	$(QLD)$(CC) $(ALL_LDFLAGS) -o $@ $^ $(LIB_LIBS) -lz

# ---- examples: the seed's examples in C ----
EXAMPLES := $(B)/tt-connect $(B)/tt-room-info $(B)/tt-gifts
all: $(EXAMPLES)

$(B)/tt-%: $(B)/obj/examples/tt-%.o $(LIB)
	$(QLD)$(CC) $(ALL_LDFLAGS) -o $@ $^ $(LIB_LIBS)
