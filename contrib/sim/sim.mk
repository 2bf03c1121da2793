# contrib/sim/sim.mk: build rules of tiktok-live-sim, included by the top Makefile.
#   make                     also builds $(B)/tiktok-live-sim
#   make sim-check           the conformance tests (tests/conformance/run.sh) on their own
# SPDX-License-Identifier: MIT

SIM_SRCS := $(wildcard contrib/sim/*.c)
SIM_OBJS := $(SIM_SRCS:%.c=$(B)/obj/%.o)
SIM_LIBS := $(shell $(PKG_CONFIG) --libs libwebsockets 2>/dev/null || echo -lwebsockets) \
	$(NANOPB_LIBS) $(CJSON_LIBS) -lz -lm

all: $(B)/tiktok-live-sim

# every simulator object may include webcast.pb.h (through sim.h's users): generate it first
$(SIM_OBJS): | $(GEN_H)
$(SIM_OBJS): ALL_CFLAGS += -I$(B)/gen

$(B)/tiktok-live-sim: $(SIM_OBJS) $(B)/obj/gen/webcast.pb.o $(COMMON_APP_OBJS)
	$(QLD)$(CC) $(ALL_LDFLAGS) -o $@ $^ $(SIM_LIBS)

.PHONY: sim-check
sim-check: $(B)/tiktok-live-sim
	$(Q)B=$(B) sh tests/conformance/run.sh
