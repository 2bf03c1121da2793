# tests/fuzz/fuzz.mk: every libFuzzer target (clang) and the gcc replays of their corpora.
# Included by the top Makefile.
#
#   make fuzz            every target in turn, FUZZ_SECONDS each (frames last)
#   make fuzz-json       one target: fuzz-json, fuzz-room, fuzz-http, fuzz-api, fuzz-handle,
#                        fuzz-files, fuzz-headers, fuzz-cfg, fuzz-frame
#   make fuzz-build      build every target, run none (tests/build/run.sh does, in make check:
#                        a target that no longer links is found then, not at the next fuzz run)
#   make all             builds the gcc replays ($(B)/fuzz_<name>_replay), run by make check
#
# Each target is tests/fuzz/fuzz_<name>.c; its seed corpus is tests/fuzz/corpus_<name>
# (tests/fuzz/corpus for frames; small, committed); what a run grows goes to
# build/fuzz/corpus_<name> (build/fuzz/corpus). docs/RELIABILITY.md records the runs. The clang
# objects live in build/fuzz/obj, apart from the gcc ones; the frames' and the configuration's
# gcc replays are built by the Makefile and bridge/bridge.mk.
#
# SPDX-License-Identifier: MIT

FUZZ_TARGETS := json room http api handle files headers
FZ := build/fuzz

# ---- gcc replays (make all / make check, under SANITIZE too) ----
FUZZ_REPLAYS := $(FUZZ_TARGETS:%=$(B)/fuzz_%_replay)
$(FUZZ_TARGETS:%=$(B)/obj/tests/fuzz/fuzz_%.o): ALL_CFLAGS += -Iconnector/src -Ibridge -Icommon

$(B)/fuzz_json_replay $(B)/fuzz_room_replay $(B)/fuzz_headers_replay: $(B)/fuzz_%_replay: $(B)/obj/tests/fuzz/fuzz_%.o \
		$(B)/obj/tests/fuzz/replay_main.o $(LIB)
	$(QLD)$(CC) $(ALL_LDFLAGS) -o $@ $^ $(LIB_LIBS) -lz

$(B)/fuzz_http_replay: $(B)/obj/tests/fuzz/fuzz_http.o $(B)/obj/tests/fuzz/replay_main.o \
		$(B)/obj/bridge/http_route.o
	$(QLD)$(CC) $(ALL_LDFLAGS) -o $@ $^

$(B)/fuzz_api_replay: $(B)/obj/tests/fuzz/fuzz_api.o $(B)/obj/tests/fuzz/replay_main.o \
		$(B)/obj/bridge/api.o $(B)/obj/bridge/handle.o
	$(QLD)$(CC) $(ALL_LDFLAGS) -o $@ $^ $(CJSON_LIBS)

$(B)/fuzz_handle_replay: $(B)/obj/tests/fuzz/fuzz_handle.o $(B)/obj/tests/fuzz/replay_main.o \
		$(B)/obj/bridge/handle.o
	$(QLD)$(CC) $(ALL_LDFLAGS) -o $@ $^

# fuzz_files.c includes seen.c, which hands msgIds to the library's clients
$(B)/fuzz_files_replay: $(B)/obj/tests/fuzz/fuzz_files.o $(B)/obj/tests/fuzz/replay_main.o \
		$(B)/obj/bridge/runtime.o $(B)/obj/bridge/handle.o $(B)/obj/bridge/file_write.o \
		$(B)/obj/common/xalloc.o $(LIB)
	$(QLD)$(CC) $(ALL_LDFLAGS) -o $@ $^ $(LIB_LIBS) -lz $(CJSON_LIBS)

all: $(FUZZ_REPLAYS)

# ---- clang + libFuzzer ----
FUZZ_CFLAGS := -std=c11 $(TT_CPPFLAGS) $(LIB_CPPFLAGS) -Itests -g -O1 -fsanitize=fuzzer,address,undefined
FZ_CFLAGS = $(FUZZ_CFLAGS) -Iconnector/src -Ibridge -Icommon -MMD -MP
FZ_LIB_OBJS := $(LIB_SRCS:%.c=$(FZ)/obj/%.o) $(FZ)/obj/$(GEN_C:.c=.o)
FZ_BINS := $(FUZZ_TARGETS:%=$(FZ)/fuzz_%) $(FZ)/fuzz_cfg $(FZ)/fuzz_frame

$(FZ)/obj/%.o: %.c | $(GEN_H) $(GEN_TAGS)
	$(QCC)mkdir -p $(@D)
	$(Q)clang $(FZ_CFLAGS) -c -o $@ $<

# an archive, so that fuzz_room.o (which includes room.c) takes room.o's place, and so that a
# target links whatever the library needs: the configuration's once listed the library files
# it used, and stopped linking when options.c came to call hosts.c
$(FZ)/libtiktok.a: $(FZ_LIB_OBJS)
	$(QAR)rm -f $@
	$(Q)ar rcs $@ $^

FZ_LINK = $(QLD)clang $(FUZZ_CFLAGS) -o $@ $^

$(FZ)/fuzz_frame $(FZ)/fuzz_json $(FZ)/fuzz_room $(FZ)/fuzz_headers: $(FZ)/fuzz_%: $(FZ)/obj/tests/fuzz/fuzz_%.o \
		$(FZ)/libtiktok.a
	$(FZ_LINK) $(LIB_LIBS) -lz
$(FZ)/fuzz_cfg: $(FZ)/obj/tests/fuzz/fuzz_cfg.o $(BRIDGE_CFG_SRCS:%.c=$(FZ)/obj/%.o) \
		$(FZ)/obj/common/xalloc.o $(FZ)/libtiktok.a
	$(FZ_LINK) $(LIB_LIBS) $(BRIDGE_CFG_LIBS)
$(FZ)/fuzz_http: $(FZ)/obj/tests/fuzz/fuzz_http.o $(FZ)/obj/bridge/http_route.o
	$(FZ_LINK)
$(FZ)/fuzz_api: $(FZ)/obj/tests/fuzz/fuzz_api.o $(FZ)/obj/bridge/api.o $(FZ)/obj/bridge/handle.o
	$(FZ_LINK) $(CJSON_LIBS)
$(FZ)/fuzz_handle: $(FZ)/obj/tests/fuzz/fuzz_handle.o $(FZ)/obj/bridge/handle.o
	$(FZ_LINK)
$(FZ)/fuzz_files: $(FZ)/obj/tests/fuzz/fuzz_files.o $(FZ)/obj/bridge/runtime.o \
		$(FZ)/obj/bridge/handle.o $(FZ)/obj/bridge/file_write.o $(FZ)/obj/common/xalloc.o \
		$(FZ)/libtiktok.a
	$(FZ_LINK) $(LIB_LIBS) -lz $(CJSON_LIBS)

.PHONY: fuzz-build
fuzz-build: $(FZ_BINS)

# Longest input per target: a page or an answer of a few KiB; a path and a user= list (the
# request head is capped at 4 KiB by the server),
# the API's body cap 4 KiB (inputs go past both); a handle or topic is short; a state or .seen
# file of a few streamers (a .seen line of 256 msgIds is 5.4 KiB); a header value (the
# X-Set-TT-Cookie we keep is 1 KiB).
FUZZ_MAX_LEN_json := 16384
FUZZ_MAX_LEN_room := 16384
FUZZ_MAX_LEN_http := 4096
FUZZ_MAX_LEN_api := 8192
FUZZ_MAX_LEN_handle := 512
FUZZ_MAX_LEN_files := 16384
FUZZ_MAX_LEN_headers := 4096

# the configuration: a file of a few KiB, with every key name in a dictionary; push frames and
# fetch results: inputs up to 64 KiB, their corpus folders named before the others'
FUZZ_MAX_LEN_cfg := 4096
FUZZ_MAX_LEN_frame := 65536
FUZZ_ARGS_cfg := -dict=$(FZ)/cfg.dict
fuzz_corpus = $(if $(filter frame,$1),corpus,corpus_$1)

$(FZ)/cfg.dict: bridge/cfg_table.h
	$(Q)mkdir -p $(@D)
	$(Q){ echo '"[streamer:"'; echo '"[tiktok]"'; echo '"[mqtt]"'; \
		sed -n 's/^X([a-z]*, *\([a-z_]*\),.*/"\1 = "/p' $<; } >$@

# in this order for `make fuzz`: frames last
FUZZ_RUNS := $(FUZZ_TARGETS) cfg frame
.PHONY: $(FUZZ_RUNS:%=fuzz-%)
fuzz-cfg: $(FZ)/cfg.dict
$(FUZZ_RUNS:%=fuzz-%): fuzz-%: $(FZ)/fuzz_%
	$(Q)mkdir -p $(FZ)/$(call fuzz_corpus,$*)
	$(Q)$(FZ)/fuzz_$* -max_total_time=$(FUZZ_SECONDS) -max_len=$(FUZZ_MAX_LEN_$*) $(FUZZ_ARGS_$*) \
		-print_final_stats=1 -artifact_prefix=$(FZ)/$*- \
		$(FZ)/$(call fuzz_corpus,$*) tests/fuzz/$(call fuzz_corpus,$*)

fuzz: $(FUZZ_RUNS:%=fuzz-%)
