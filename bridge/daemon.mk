# bridge/daemon.mk: the tiktok2mqtt daemon (the configuration layer is in bridge.mk).
# SPDX-License-Identifier: MIT

BRIDGE_SRCS := bridge/main.c bridge/mqtt.c bridge/mqtt_queue.c bridge/paho_nudge.c \
	bridge/paho_socket.c bridge/tcp_nodelay.c bridge/streamer.c bridge/notices.c bridge/out.c \
	bridge/sink_mqtt.c bridge/sink_stdout.c bridge/streamers.c bridge/report.c \
	bridge/log.c bridge/ha.c bridge/api.c bridge/runtime.c bridge/seen.c bridge/probe.c \
	bridge/record.c bridge/file_write.c \
	bridge/metrics.c bridge/healthz.c bridge/http.c bridge/http_route.c bridge/sink_sse.c
BRIDGE_OBJS := $(BRIDGE_SRCS:%.c=$(B)/obj/%.o)
# paho: Debian's static archive with its heap tracking and its call trace left out
# (bridge/paho_heap.c and bridge/paho_trace.c say why) and its socket reads batched (a copy
# whose recv, poll and close are bridge/paho_socket.c's), unless PAHO_LINK=shared or the
# archive is missing ($(CC) -print-file-name then prints the bare name); the shared library
# then, tracking and all.
# (PAHO_SYNC_LIBS: the same for paho's synchronous client, which only bench-paho-sync links;
# its reads are paho's own)
PAHO_ARCHIVE := $(shell $(CC) -print-file-name=libpaho-mqtt3as.a)
ifeq ($(PAHO_LINK)$(filter /%,$(PAHO_ARCHIVE)),static$(PAHO_ARCHIVE))
PAHO_OBJS := $(B)/obj/bridge/paho_heap.o $(B)/obj/bridge/paho_pool.o $(B)/obj/bridge/paho_trace.o
PAHO_RENAMED := $(B)/obj/paho/libpaho-mqtt3as.a
PAHO_LIBS := $(PAHO_RENAMED) -lssl -lcrypto -lpthread
PAHO_SYNC_LIBS := $(shell $(CC) -print-file-name=libpaho-mqtt3c.a) -lpthread
else
PAHO_OBJS :=
PAHO_RENAMED :=
PAHO_LIBS := -lpaho-mqtt3as
PAHO_SYNC_LIBS := -lpaho-mqtt3c -lpthread
endif
# whatever links paho depends on this file, rewritten when the choice changes: a relink then.
# It holds the choice, not PAHO_LIBS, whose path is B's as given: a make with B spelt as an
# absolute path (tests/demo's `make -n`) would otherwise rewrite it, and relink everything.
# The copy of the archive whose recv, poll and close are paho_socket.c's (Socket.o is its only
# caller of the three; tests/build/run.sh checks the daemon) is made here too, when missing or
# older than Debian's, since a rule's would not be remade: .SECONDARY (Makefile) leaves a
# missing prerequisite unmade while what it went into is newer than its sources.
PAHO_STAMP := $(B)/obj/paho-link
PAHO_CHOICE := $(if $(PAHO_RENAMED),static $(PAHO_ARCHIVE),shared)
$(shell mkdir -p $(B)/obj && \
	if [ -n "$(PAHO_RENAMED)" ] && ! [ "$(PAHO_RENAMED)" -nt "$(PAHO_ARCHIVE)" ]; then \
		mkdir -p $(dir $(PAHO_RENAMED)) && rm -f $(PAHO_STAMP) && \
		objcopy --redefine-sym recv=paho_sock_recv --redefine-sym poll=paho_sock_poll \
			--redefine-sym close=paho_sock_close $(PAHO_ARCHIVE) $(PAHO_RENAMED) >&2; \
	fi; \
	[ "$$(cat $(PAHO_STAMP) 2>/dev/null)" = "$(PAHO_CHOICE)" ] || echo "$(PAHO_CHOICE)" >$(PAHO_STAMP))

# each function keeps its own frame, so tests/lsan.supp can name the blocks paho allocates
$(B)/obj/bridge/paho_heap.o: ALL_CFLAGS += -fno-optimize-sibling-calls

$(BRIDGE_OBJS): ALL_CFLAGS += -Ibridge

$(B)/tiktok2mqtt: $(BRIDGE_OBJS) $(BRIDGE_CFG_OBJS) $(PAHO_OBJS) $(LIB) $(PAHO_STAMP)
	$(QLD)$(CC) $(ALL_LDFLAGS) -o $@ $(filter-out $(PAHO_STAMP),$^) $(BRIDGE_CFG_LIBS) $(PAHO_LIBS) \
		$(CJSON_LIBS) $(LIB_LIBS)

all: $(B)/tiktok2mqtt

# test_record: the recorder alone (no MQTT, no network), with the log and allocators it uses.
$(B)/obj/tests/unit/test_record.o: ALL_CFLAGS += -Ibridge
$(B)/tests/test_record: $(B)/obj/tests/unit/test_record.o $(B)/obj/bridge/record.o \
		$(B)/obj/bridge/log.o $(B)/obj/common/xalloc.o $(B)/obj/common/clock.o
	$(QLD)mkdir -p $(@D)
	$(Q)$(CC) $(ALL_LDFLAGS) -o $@ $^ -lpthread

# test_seen: the msgIds kept over restarts (bridge/seen.c) and their file, with libtiktok's client.
$(B)/obj/tests/unit/test_seen.o: ALL_CFLAGS += -Ibridge
$(B)/tests/test_seen: $(B)/obj/tests/unit/test_seen.o $(B)/obj/bridge/seen.o \
		$(B)/obj/bridge/file_write.o $(B)/obj/bridge/handle.o $(B)/obj/common/xalloc.o $(LIB)
	$(QLD)mkdir -p $(@D)
	$(Q)$(CC) $(ALL_LDFLAGS) -o $@ $^ $(LIB_LIBS)

# test_log: the log's rate limit per cause, on a clock of the test's own.
$(B)/obj/tests/unit/test_log.o: ALL_CFLAGS += -Ibridge
$(B)/tests/test_log: $(B)/obj/tests/unit/test_log.o $(B)/obj/bridge/log.o \
		$(B)/obj/common/clock.o
	$(QLD)mkdir -p $(@D)
	$(Q)$(CC) $(ALL_LDFLAGS) -o $@ $^ -lpthread

# test_mqtt_queue: the MQTT output queue alone (priorities, the retained store, topic checks).
$(B)/obj/tests/unit/test_mqtt_queue.o: ALL_CFLAGS += -Ibridge
$(B)/tests/test_mqtt_queue: $(B)/obj/tests/unit/test_mqtt_queue.o $(B)/obj/bridge/mqtt_queue.o \
		$(COMMON_APP_OBJS)
	$(QLD)mkdir -p $(@D)
	$(Q)$(CC) $(ALL_LDFLAGS) -o $@ $^

# test_ha: Home Assistant's retained gift triggers (bridge/ha.c), bridge_mqtt_publish stubbed.
$(B)/obj/tests/unit/test_ha.o: ALL_CFLAGS += -Ibridge
$(B)/tests/test_ha: $(B)/obj/tests/unit/test_ha.o $(B)/obj/bridge/ha.o $(B)/obj/bridge/topic.o \
		$(B)/obj/common/xalloc.o $(LIB)
	$(QLD)mkdir -p $(@D)
	$(Q)$(CC) $(ALL_LDFLAGS) -o $@ $^ $(CJSON_LIBS) $(LIB_LIBS) -lpthread

# test_tcp_nodelay: Nagle off on the broker connection, on real loopback sockets.
$(B)/obj/tests/unit/test_tcp_nodelay.o: ALL_CFLAGS += -Ibridge
$(B)/tests/test_tcp_nodelay: $(B)/obj/tests/unit/test_tcp_nodelay.o $(B)/obj/bridge/tcp_nodelay.o
	$(QLD)mkdir -p $(@D)
	$(Q)$(CC) $(ALL_LDFLAGS) -o $@ $^

# test_mqtt: bridge/mqtt.c against a scripted paho (tests/unit/fake_paho.c, no broker): who sends
# when, in which order, after a loss or a refusal.
$(B)/obj/tests/unit/test_mqtt.o $(B)/obj/tests/unit/fake_paho.o: ALL_CFLAGS += -Ibridge
$(B)/tests/test_mqtt: $(B)/obj/tests/unit/test_mqtt.o $(B)/obj/tests/unit/fake_paho.o \
		$(B)/obj/bridge/mqtt.o $(B)/obj/bridge/mqtt_queue.o $(B)/obj/bridge/paho_nudge.o \
		$(B)/obj/bridge/paho_socket.o $(B)/obj/bridge/tcp_nodelay.o $(B)/obj/bridge/log.o \
		$(COMMON_APP_OBJS)
	$(QLD)mkdir -p $(@D)
	$(Q)$(CC) $(ALL_LDFLAGS) -o $@ $^ -lpthread

# test_paho_heap: what paho's allocations go through in the daemon (zeroed, a second free ignored)
$(B)/obj/tests/unit/test_paho_heap.o: ALL_CFLAGS += -Ibridge
$(B)/tests/test_paho_heap: $(B)/obj/tests/unit/test_paho_heap.o $(B)/obj/bridge/paho_heap.o \
		$(B)/obj/bridge/paho_pool.o
	$(QLD)mkdir -p $(@D)
	$(Q)$(CC) $(ALL_LDFLAGS) -o $@ $^ -lpthread

# test_paho_socket: paho's reads batched (bridge/paho_socket.c), on real socket pairs.
$(B)/obj/tests/unit/test_paho_socket.o: ALL_CFLAGS += -Ibridge
$(B)/tests/test_paho_socket: $(B)/obj/tests/unit/test_paho_socket.o $(B)/obj/bridge/paho_socket.o
	$(QLD)mkdir -p $(@D)
	$(Q)$(CC) $(ALL_LDFLAGS) -o $@ $^ -lpthread

# test_paho_nudge: when paho's send thread is nudged (timing and back-off, no client needed).
$(B)/obj/tests/unit/test_paho_nudge.o: ALL_CFLAGS += -Ibridge
$(B)/tests/test_paho_nudge: $(B)/obj/tests/unit/test_paho_nudge.o $(B)/obj/bridge/paho_nudge.o \
		$(B)/obj/bridge/paho_socket.o $(PAHO_OBJS) $(PAHO_STAMP)
	$(QLD)mkdir -p $(@D)
	$(Q)$(CC) $(ALL_LDFLAGS) -o $@ $(filter-out $(PAHO_STAMP),$^) $(PAHO_LIBS)
