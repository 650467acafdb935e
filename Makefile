# NetChannel top-level Makefile. `make help` lists the targets.

KDIR ?= $(lastword $(sort $(wildcard /usr/src/linux-headers-6.12.*-cloud-amd64)))
VMLINUX_BTF ?= $(firstword $(wildcard $(KDIR)/vmlinux) /sys/kernel/btf/vmlinux)
CLANG ?= clang-19
BPFTOOL ?= bpftool
CC ?= cc

B := build
include tools/tools.mk
.DEFAULT_GOAL := all
CFLAGS_USER := -O2 -g -Wall -Wextra -Wno-unused-parameter -Werror -Ikernel -I$(B)/bpf -I$(B)/loader
LDLIBS_BPF := -lbpf -lelf -lz
BPF_CFLAGS := -g -O2 -Wall -Werror -target bpf -D__TARGET_ARCH_x86 -I$(B)/bpf -Ibpf

KSRC := $(wildcard kernel/*.c kernel/*.h kernel/uapi/*.h) kernel/Kbuild
MODULE := kernel/netchannel.ko

POLICIES := $(patsubst policies/%.bpf.c,%,$(wildcard policies/*.bpf.c))
TEST_PROGS := $(patsubst selftests/progs/%.bpf.c,%,$(wildcard selftests/progs/*.bpf.c))
POLICY_OBJS := $(POLICIES:%=$(B)/bpf/%.bpf.o)
TEST_PROG_OBJS := $(TEST_PROGS:%=$(B)/bpf/%.bpf.o)
SKELS := $(POLICIES:%=$(B)/bpf/%.skel.h) $(TEST_PROGS:%=$(B)/bpf/%.skel.h)

HOST_TESTS := $(patsubst selftests/host/%.c,$(B)/host/%,$(wildcard selftests/host/test_*.c))
GUEST_TESTS := $(patsubst selftests/guest/%.c,$(B)/guest/bin/%,$(wildcard selftests/guest/test_*.c))
GUEST_HELPERS := $(patsubst selftests/guest/%.c,$(B)/guest/bin/%,$(wildcard selftests/guest/nc_*.c))
GUEST_GO := $(patsubst selftests/guest/go/%.go,$(B)/guest/bin/%,$(wildcard selftests/guest/go/*.go))
FUZZERS := $(patsubst selftests/fuzz/%.c,$(B)/fuzz/%,$(wildcard selftests/fuzz/fuzz_*.c))

USER_BINS := $(B)/guest/bin/ncload $(B)/guest/bin/ncstat
GUEST_FILES := $(USER_BINS) $(GUEST_TESTS) $(GUEST_HELPERS) $(GUEST_GO) \
	$(POLICY_OBJS:$(B)/bpf/%=$(B)/guest/policies/%) \
	$(TEST_PROG_OBJS:$(B)/bpf/%=$(B)/guest/progs/%) \
	$(B)/guest/run-tests.sh $(B)/guest/demo.sh $(B)/guest/fuzz-live.sh \
	$(B)/guest/kmemleak-check.sh $(TOOLS_GUEST_FILES)

.PHONY: all deps module bpf user guest test demo load unload clean help checkpatch vm bench \
	debug-kernel module-debug test-debug fuzz-live test-one
.DELETE_ON_ERROR:

all: module user guest $(HOST_TESTS) $(FUZZERS)

help:
	@echo "make            build the module, BPF objects, loader and tests"
	@echo "make test       install deps, build, run host and guest tests"
	@echo "make test-debug the guest tests, live fuzzer and stress on the debug kernel"
	@echo "                (KASAN, lockdep, kmemleak; built once, cached)"
	@echo "make fuzz-live FRAMES=N  the live rogue-peer fuzzer on the debug kernel"
	@echo "make test-one T=SUITE[/PATTERN] [DEBUG=1]  one guest suite or test,"
	@echo "                e.g. T=teardown/test_shutdown* (DEBUG=1: on the debug kernel)"
	@echo "make demo       install deps, build, boot the guest and show NetChannel"
	@echo "make bench      ratios NetChannel/TCP measured in the guest (not a test)"
	@echo "make vm         an interactive shell in the test guest"
	@echo "make load       insmod kernel/netchannel.ko into the RUNNING kernel"
	@echo "make unload     rmmod it from the running kernel"
	@echo "make checkpatch run checkpatch --strict on kernel/"
	@echo "Variables: KDIR=$(KDIR)"

deps:
	@scripts/deps.sh

module: $(MODULE)
$(MODULE): $(KSRC)
	$(MAKE) -C $(KDIR) M=$(CURDIR)/kernel modules

# The debug kernel (scripts/debug-kernel.config) is built once per machine and
# cached outside the tree; the module is built against it in a copy of kernel/.
DEBUG_MODULE := $(B)/debug/netchannel.ko
debug-kernel:
	@scripts/debug-kernel.sh build >/dev/null
module-debug: $(DEBUG_MODULE)
$(DEBUG_MODULE): $(KSRC) scripts/debug-kernel.config | debug-kernel
	@mkdir -p $(B)/debug
	cp -r kernel/Kbuild kernel/*.c kernel/*.h kernel/uapi $(B)/debug/
	$(MAKE) -C $$(scripts/debug-kernel.sh dir)/src M=$(CURDIR)/$(B)/debug modules

# --- BPF -------------------------------------------------------------------
$(B)/bpf/vmlinux.h: $(VMLINUX_BTF)
	@mkdir -p $(@D)
	$(BPFTOOL) btf dump file $< format c > $@

$(B)/bpf/%.bpf.o: policies/%.bpf.c bpf/netchannel.bpf.h kernel/netsched.h $(B)/bpf/vmlinux.h
	$(CLANG) $(BPF_CFLAGS) -c $< -o $@

$(B)/bpf/%.bpf.o: selftests/progs/%.bpf.c bpf/netchannel.bpf.h kernel/netsched.h $(B)/bpf/vmlinux.h
	$(CLANG) $(BPF_CFLAGS) -c $< -o $@

# ncload's own program (ncload enable), not a policy
$(B)/bpf/%.bpf.o: loader/%.bpf.c loader/ncenable.h $(B)/bpf/vmlinux.h
	$(CLANG) $(BPF_CFLAGS) -c $< -o $@

# bpftool 7.5 writes skeletons for libbpf 1.5, whose bpf_map_skeleton gained
# a `link` member that Debian's libbpf 1.4 lacks. The generated map_skel_sz
# keeps the layouts compatible; only the auto-attach of struct_ops maps by
# bpf_object__attach_skeleton() is lost, and we never use it (policies are
# attached explicitly). So drop the one assignment that does not compile.
$(B)/bpf/%.skel.h: $(B)/bpf/%.bpf.o
	$(BPFTOOL) gen skeleton $< name $* | sed '/^\tmap->link = /d' > $@

bpf: $(POLICY_OBJS) $(TEST_PROG_OBJS) $(SKELS) $(B)/bpf/ncenable.bpf.o $(B)/bpf/ncenable.skel.h

# --- user space --------------------------------------------------------------
$(B)/loader/policies.h: scripts/gen-policies-h.sh $(POLICIES:%=$(B)/bpf/%.skel.h) | bpf
	@mkdir -p $(@D)
	scripts/gen-policies-h.sh $(POLICIES) > $@

$(B)/guest/bin/ncload: loader/ncload.c loader/enable.c loader/ncload.h loader/ncenable.h \
		$(B)/loader/policies.h $(B)/bpf/ncenable.skel.h kernel/uapi/netchannel.h
	@mkdir -p $(@D)
	$(CC) $(CFLAGS_USER) -o $@ $(filter %.c,$^) $(LDLIBS_BPF)

# The guest tests' library (selftests/guest/lib/*.c, interface nc_net.h) is
# compiled once into $(B)/libnctest.a and linked into every guest test and
# helper. Dependencies on headers come from -MMD ($(B)/nctest/*.d,
# $(B)/guest-deps/*.d), the explicit ones are for the first build.
NCTEST_OBJS := $(patsubst selftests/guest/lib/%.c,$(B)/nctest/%.o,$(wildcard selftests/guest/lib/*.c))
NCTEST_LIB := $(B)/libnctest.a
GUEST_HDRS := selftests/guest/nc_test.h selftests/guest/nc_net.h selftests/guest/nc_tcpinfo.h kernel/uapi/netchannel.h

$(B)/nctest/%.o: selftests/guest/lib/%.c selftests/guest/lib/nc_lib.h $(GUEST_HDRS)
	@mkdir -p $(@D)
	$(CC) $(CFLAGS_USER) -Wmissing-prototypes -Iselftests/guest -MMD -MP -c -o $@ $<

$(NCTEST_LIB): $(NCTEST_OBJS)
	@rm -f $@
	$(AR) rcs $@ $^

$(B)/guest/bin/%: selftests/guest/%.c $(GUEST_HDRS) $(NCTEST_LIB) \
		$(SKELS) kernel/nc_frame.h
	@mkdir -p $(@D) $(B)/guest-deps
	$(CC) $(CFLAGS_USER) -Iselftests/guest -MMD -MP -MT $@ -MF $(B)/guest-deps/$*.d \
		-o $@ $< $(NCTEST_LIB) $(LDLIBS_BPF) -lcmocka

# Go programs for the guest: static (no cgo), built offline from the
# standard library alone, with the build cache under build/
$(B)/guest/bin/%: selftests/guest/go/%.go
	@mkdir -p $(@D) $(B)/gocache
	CGO_ENABLED=0 GOCACHE=$(abspath $(B))/gocache GOPATH=$(abspath $(B))/gopath \
		GOFLAGS=-mod=mod GOTOOLCHAIN=local go build -trimpath -o $@ $<

-include $(wildcard $(B)/nctest/*.d $(B)/guest-deps/*.d)

# /nc/run-tests.sh runs every /nc/bin/test_*: a suite whose source is gone (as
# test_stream, split into sockapi, transfer, flow and teardown) must not run on
# from a stale binary.
STALE_GUEST_TESTS := $(filter-out $(GUEST_TESTS),$(wildcard $(B)/guest/bin/test_*))
ifneq ($(STALE_GUEST_TESTS),)
$(info removing stale guest suites: $(STALE_GUEST_TESTS))
$(shell rm -f $(STALE_GUEST_TESTS))
endif

$(B)/guest/bin/ncstat: tools/ncstat.c
	@mkdir -p $(@D)
	$(CC) $(CFLAGS_USER) -o $@ $<

user: $(USER_BINS)

$(B)/guest/policies/%: $(B)/bpf/%
	@mkdir -p $(@D)
	cp $< $@
$(B)/guest/progs/%: $(B)/bpf/%
	@mkdir -p $(@D)
	cp $< $@
$(B)/guest/%.sh: selftests/guest/%.sh
	@mkdir -p $(@D)
	cp $< $@

guest: $(GUEST_FILES)

# --- host tests and fuzzing ----------------------------------------------------
$(B)/host/test_%: selftests/host/test_%.c kernel/nc_%.c kernel/nc_%.h
	@mkdir -p $(@D)
	$(CC) $(CFLAGS_USER) -o $@ $< kernel/nc_$*.c -lcmocka

$(B)/fuzz/fuzz_%: selftests/fuzz/fuzz_%.c kernel/nc_%.c kernel/nc_%.h
	@mkdir -p $(@D)
	$(CLANG) -g -O1 -fsanitize=fuzzer,address,undefined -Ikernel -o $@ $< kernel/nc_$*.c

# --- running -----------------------------------------------------------------
test: deps
	@$(MAKE) --no-print-directory all
	@scripts/run-tests.sh

test-debug: deps
	@$(MAKE) --no-print-directory all module-debug
	@scripts/run-tests.sh --debug

T ?=
DEBUG ?=
test-one: deps
	@test -n "$(T)" || { echo "usage: make test-one T=SUITE[/PATTERN] [DEBUG=1]"; exit 2; }
	@$(MAKE) --no-print-directory all $(if $(DEBUG),module-debug)
	@scripts/vm.sh $(if $(DEBUG),--debug-kernel --mem 3072) --timeout 3600 -- \
		'/nc/run-tests.sh $(T)'

FRAMES ?= 1000000
fuzz-live: deps
	@$(MAKE) --no-print-directory all module-debug
	@scripts/vm.sh --debug-kernel --mem 3072 --timeout 36000 -- \
		'/nc/fuzz-live.sh $(FRAMES)'

demo: deps
	@$(MAKE) --no-print-directory all
	@scripts/vm.sh -- /nc/demo.sh

bench: deps
	@$(MAKE) --no-print-directory all
	@scripts/bench.sh

vm: all
	@scripts/vm.sh

load: $(MODULE)
	insmod $(MODULE)
unload:
	rmmod netchannel

# fails on any ERROR, WARNING or CHECK (checkpatch itself exits 0 on CHECKs)
checkpatch:
	@perl /usr/src/linux-source-6.12/scripts/checkpatch.pl --strict --no-tree \
		--ignore FILE_PATH_CHANGES -f $(filter-out %.mod.c,$(wildcard kernel/*.c)) \
		kernel/*.h kernel/uapi/*.h > $(B)/checkpatch.log 2>&1 || true
	@grep -E '^(ERROR|WARNING|CHECK)' -A3 $(B)/checkpatch.log || \
		echo "checkpatch --strict: clean ($(words $(wildcard kernel/*.c kernel/*.h)) files)"
	@! grep -qE '^(ERROR|WARNING|CHECK)' $(B)/checkpatch.log

clean:
	rm -rf $(B)
	$(MAKE) -C $(KDIR) M=$(CURDIR)/kernel clean >/dev/null 2>&1 || true
