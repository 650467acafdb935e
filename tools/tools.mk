# Benchmark tools; included from the top-level Makefile (`include tools/tools.mk`),
# which defines B (the build directory) and CC.
#
#   $(B)/guest/bin/ncperf             throughput/latency benchmark (tools/ncperf/)
#   $(B)/guest/lib/libncpreload.so    LD_PRELOAD library: unmodified programs over
#                                     NetChannel (tools/libncpreload.c)
#   $(B)/guest/bench-smoke.sh         the smoke check, for /nc in the guest
#
# Everything under $(B)/guest/ lands in the guest as /nc/, so these are
# /nc/bin/ncperf, /nc/lib/libncpreload.so and /nc/bench-smoke.sh there.
# The tools are plain C with no BPF dependencies and also run on the host.

TOOLS_CFLAGS := -O2 -g -Wall -Wextra -Werror -Ikernel
TOOLS_GUEST_FILES := $(B)/guest/bin/ncperf $(B)/guest/lib/libncpreload.so \
	$(B)/guest/bench-smoke.sh

.PHONY: tools
tools: $(TOOLS_GUEST_FILES)

$(B)/guest/bin/ncperf: $(sort $(wildcard tools/ncperf/*.c)) tools/ncperf/ncperf.h \
		kernel/uapi/netchannel.h
	@mkdir -p $(@D)
	$(CC) $(TOOLS_CFLAGS) -Wmissing-prototypes -pthread -o $@ $(filter %.c,$^) -lm

$(B)/guest/lib/libncpreload.so: tools/libncpreload.c kernel/uapi/netchannel.h
	@mkdir -p $(@D)
	$(CC) $(TOOLS_CFLAGS) -fPIC -shared -pthread -o $@ $< -ldl

$(B)/guest/bench-smoke.sh: scripts/bench-smoke.sh
	@mkdir -p $(@D)
	cp $< $@
