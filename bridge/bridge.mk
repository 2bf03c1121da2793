# bridge/bridge.mk: the bridge's configuration layer and its tests. Included by the top
# Makefile after `all:`, B, ALL_CFLAGS, ALL_LDFLAGS, Q/QCC/QLD and the rule
# $(B)/obj/%.o: %.c are defined.
#
#   BRIDGE_CFG_OBJS   what the daemon links for its configuration (with BRIDGE_CFG_LIBS)
#   (make fuzz-cfg, libFuzzer on tests/fuzz/fuzz_cfg.c: tests/fuzz/fuzz.mk)
#
# SPDX-License-Identifier: MIT

BRIDGE_CFG_SRCS := bridge/cfg.c bridge/cfg_value.c bridge/cfg_rules.c bridge/handle.c bridge/topic.c \
	bridge/cfg_tt.c
BRIDGE_CFG_OBJS := $(BRIDGE_CFG_SRCS:%.c=$(B)/obj/%.o) $(B)/obj/common/xalloc.o
BRIDGE_CFG_LIBS := -linih

# The tests and the fuzz target include the bridge's headers by their bare names.
$(B)/obj/tests/unit/test_cfg.o $(B)/obj/tests/unit/test_handle.o \
$(B)/obj/tests/fuzz/fuzz_cfg.o: ALL_CFLAGS += -Ibridge

# Explicit rules: they win over the generic test rule, which links only libtiktok.
$(B)/tests/test_cfg: $(B)/obj/tests/unit/test_cfg.o $(BRIDGE_CFG_OBJS) $(LIB)
	$(QLD)mkdir -p $(@D)
	$(Q)$(CC) $(ALL_LDFLAGS) -o $@ $^ $(BRIDGE_CFG_LIBS)

$(B)/tests/test_handle: $(B)/obj/tests/unit/test_handle.o $(B)/obj/bridge/handle.o
	$(QLD)mkdir -p $(@D)
	$(Q)$(CC) $(ALL_LDFLAGS) -o $@ $^

# gcc builds replay the corpus through the fuzz target: `fuzz_cfg_replay DIR...`
$(B)/fuzz_cfg_replay: $(B)/obj/tests/fuzz/fuzz_cfg.o $(B)/obj/tests/fuzz/replay_main.o \
		$(BRIDGE_CFG_OBJS) $(LIB)
	$(QLD)$(CC) $(ALL_LDFLAGS) -o $@ $^ $(BRIDGE_CFG_LIBS)

all: $(B)/fuzz_cfg_replay

