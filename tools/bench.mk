# tools/bench.mk: the end-to-end and MQTT benchmarks, included by the top Makefile
# (docs/PERFORMANCE.md). Benchmarks, not tests: nothing here runs in `make check` but the
# smoke run of bench-e2e (tests/run.sh), a few seconds with tiny numbers.
#   make bench        every benchmark, each rewriting its part of docs/PERFORMANCE.md
#   make bench-e2e    simulator -> tiktok2mqtt -> mosquitto -> bench-sub, and the Node peer
#   make bench-paho   paho.mqtt.c alone: CPU per QoS 1 message, async and sync clients
# SPDX-License-Identifier: MIT

.PHONY: bench bench-e2e bench-paho

all: $(B)/bench-sub $(B)/bench-paho $(B)/bench-paho-sync

$(B)/bench-sub: $(B)/obj/tools/bench-sub.o
	$(QLD)$(CC) $(ALL_LDFLAGS) -o $@ $^

# paho linked as the bridge links it (bridge/daemon.mk: PAHO_LINK). libpaho-mqtt3as and
# libpaho-mqtt3c define the same internal symbols: never both in one program.
$(B)/obj/tools/bench-paho.o: ALL_CFLAGS += -Ibridge
$(B)/bench-paho: $(B)/obj/tools/bench-paho.o $(B)/obj/bridge/paho_socket.o $(PAHO_OBJS) \
		$(PAHO_STAMP)
	$(QLD)$(CC) $(ALL_LDFLAGS) -o $@ $(filter-out $(PAHO_STAMP),$^) $(PAHO_LIBS)

$(B)/obj/tools/bench-paho-sync.o: tools/bench-paho.c $(FLAGS_STAMP)
	$(QCC)mkdir -p $(@D)
	$(Q)$(CC) $(ALL_CFLAGS) -DBENCH_PAHO_SYNC -c -o $@ $<

$(B)/bench-paho-sync: $(B)/obj/tools/bench-paho-sync.o $(PAHO_OBJS) $(PAHO_STAMP)
	$(QLD)$(CC) $(ALL_LDFLAGS) -o $@ $(filter-out $(PAHO_STAMP),$^) $(PAHO_SYNC_LIBS)

bench-e2e: deps all
	$(Q)B=$(B) python3 tools/bench_e2e.py --write

bench-paho: deps all
	$(Q)B=$(B) python3 tools/bench_paho.py --write

# one after the other: each wants the machine to itself
bench: deps all
	$(Q)$(MAKE) --no-print-directory bench-decode
	$(Q)$(MAKE) --no-print-directory bench-bridge
	$(Q)$(MAKE) --no-print-directory bench-paho
	$(Q)$(MAKE) --no-print-directory bench-e2e
