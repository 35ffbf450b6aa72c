# dvol: get data volumes ready on GPU hosts.
#
#   make                 build the helpers into build/
#   make check           install what is missing, then run unit, host and VM tests
#   make check-sanitize  the unit and host tests again, built with ASan and UBSan
#   make demo            install what is missing, then show the main job end to end
#   make bench           the benchmarks, dvol side by side with its anchors
#   make fuzz            every fuzz target for FUZZ_TIME seconds (60), then the wire
#   make install DESTDIR=... PREFIX=...

VERSION := 0.1.0

PREFIX     ?= /usr
SBINDIR    ?= $(PREFIX)/sbin
# mount(8) looks for helpers in /sbin; on a merged-/usr system that is $(PREFIX)/sbin.
MOUNTHELPERDIR ?= $(if $(shell test -L /sbin && echo merged),$(SBINDIR),/sbin)
MANDIR     ?= $(PREFIX)/share/man
SYSCONFDIR ?= /etc
UNITDIR    ?= $(or $(shell pkg-config --variable=systemdsystemunitdir systemd 2>/dev/null),/lib/systemd/system)
GENERATORDIR ?= $(or $(shell pkg-config --variable=systemdsystemgeneratordir systemd 2>/dev/null),/lib/systemd/system-generators)
UDEVDIR    ?= $(or $(shell pkg-config --variable=udevdir udev 2>/dev/null),/lib/udev)
DESTDIR    ?=

B := build
# make check SANITIZE=1: ASan and UBSan (SANITIZE=address,undefined) in a build dir of its
# own, so that the normal build, which proves the sandbox, is never mixed with it. Under
# ASan the seccomp sandbox steps aside (decided at compile time, common/sandbox.c).
ifeq ($(SANITIZE),1)
override SANITIZE := address,undefined
endif
ifneq ($(SANITIZE),)
B := build/san
endif
# The test build: the same sources with the switches only tests may use (DVOL_DEBUG_STOP,
# DVOL_SANDBOX=log). Unit, host and VM tiers run it; `make`, `make install` and the
# benchmarks never do.
TB := $(B)/test

LIBS := mount blkid libnfs libseccomp json-c
# Deferred (=): on a fresh machine the libraries arrive with `deps`, after make has started.
PKG_CFLAGS = $(shell pkg-config --cflags $(LIBS))
PKG_LIBS   = $(shell pkg-config --libs $(LIBS))

CC      ?= cc
CFLAGS  ?= -O2 -g
WARN    := -Wall -Wextra -Wshadow -Wno-unused-parameter -Wmissing-prototypes \
	   -Wstrict-prototypes -Wformat=2 -Wvla -Wpointer-arith
ifneq ($(CI)$(WERROR),)
WARN    += -Werror
endif
HARDEN  := -fPIE -D_FORTIFY_SOURCE=2 -fstack-protector-strong -fstack-clash-protection \
	   -fcf-protection
LDHARDEN := -pie -Wl,-z,relro,-z,now -Wl,--as-needed
ifneq ($(SANITIZE),)
# No -D_FORTIFY_SOURCE: its checked functions hide accesses from ASan. A finding aborts
# the run (no recovery) so that an exit code shows it, not only a line on stderr.
HARDEN  := -fPIE -fsanitize=$(SANITIZE) -fno-sanitize-recover=all -fno-omit-frame-pointer \
	   -DDVOL_SANITIZE
LDHARDEN := -pie -Wl,-z,relro,-z,now -fsanitize=$(SANITIZE)
endif
ALL_CFLAGS = -std=gnu11 -D_GNU_SOURCE $(WARN) $(HARDEN) $(CFLAGS) -I common -I $(B)/gen -DDVOL_VERSION='"$(VERSION)"' \
	     -DDVOL_SYSCONFDIR='"$(SYSCONFDIR)"' -DDVOL_SBINDIR='"$(SBINDIR)"' \
	     -DDVOL_UNITDIR='"$(UNITDIR)"' \
	     -DDVOL_LIBNFS_VERSION='"$(shell pkg-config --modversion libnfs 2>/dev/null)"' $(PKG_CFLAGS) -MMD -MP
ALL_LDFLAGS = $(LDHARDEN) $(LDFLAGS)

COMMON_SRC := $(filter-out common/sandbox-gen.c,$(wildcard common/*.c))
COMMON_OBJ := $(COMMON_SRC:%.c=$(B)/%.o)
HELPER_SRC := $(wildcard helpers/*.c)
HELPERS    := $(HELPER_SRC:helpers/%.c=$(B)/%)
# mount.dvol's pieces beside its flow (helpers/mount-dvol/mount-dvol.h).
MOUNT_DVOL_SRC := $(wildcard helpers/mount-dvol/*.c)
UNIT_SRC   := $(wildcard tests/unit/test-*.c)
UNIT_TESTS := $(UNIT_SRC:tests/unit/%.c=$(B)/tests/%)
MANPAGES   := $(wildcard man/*.[1-8])
TEST_OBJ   := $(COMMON_SRC:%.c=$(TB)/%.o)
TEST_HELPERS := $(HELPER_SRC:helpers/%.c=$(TB)/%)

.PHONY: all test-build deps check check-sanitize check-unit check-host check-vm demo bench \
	install uninstall clean format format-check fuzz wire-helpers lint
all: $(HELPERS)
test-build: $(TEST_HELPERS)

$(B)/%.o: %.c
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) -c -o $@ $<

# The shorter stem wins: build/test/... objects come from here, with the test switches.
$(TB)/%.o: %.c
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) -DDVOL_TEST_HOOKS -c -o $@ $<

# The sandbox stages, compiled by libseccomp at build time (see common/sandbox-gen.c).
$(B)/gen/sandbox-filters.h: $(B)/sandbox-gen
	@mkdir -p $(@D)
	$< >$@.tmp && mv $@.tmp $@

$(B)/sandbox-gen: common/sandbox-gen.c common/sandbox.c common/sandbox.h common/cleanup.h
	@mkdir -p $(@D)
	$(CC) $(filter-out -MMD -MP,$(ALL_CFLAGS)) -DDVOL_SANDBOX_GENERATOR $(ALL_LDFLAGS) -o $@ \
		common/sandbox-gen.c common/sandbox.c $(PKG_LIBS)

$(B)/common/sandbox.o $(TB)/common/sandbox.o $(B)/tests/unit/test-sandbox.o: \
	$(B)/gen/sandbox-filters.h

$(B)/libdvol.a: $(COMMON_OBJ)
	@rm -f $@
	$(AR) rcs $@ $^

$(TB)/libdvol.a: $(TEST_OBJ)
	@rm -f $@
	$(AR) rcs $@ $^

$(B)/%: $(B)/helpers/%.o $(B)/libdvol.a
	$(CC) $(ALL_LDFLAGS) -o $@ $^ $(PKG_LIBS)

$(TB)/%: $(TB)/helpers/%.o $(TB)/libdvol.a
	$(CC) $(ALL_LDFLAGS) -o $@ $^ $(PKG_LIBS)

# mount.dvol runs once per mount, and for a bind loading shared objects is most of its
# time (see the README's benchmarks). libmount stays shared: it brings libblkid, libselinux
# and pcre2, and it owns utab. libnfs (the NFS path only), libseccomp (the stages are
# compiled at build time) and json-c (--version) are linked in from their Debian archives:
# three objects fewer to map, relocate and unmap on every bind. The archives are built
# with the same flags as the shared objects; the binary stays PIE with full RELRO. The
# price: a security update of those three reaches mount.dvol only when it is rebuilt.
MOUNT_DVOL_LIBS = $(shell pkg-config --libs mount blkid) \
	-Wl,-Bstatic $(shell pkg-config --libs --static libnfs libseccomp json-c) -Wl,-Bdynamic

$(B)/mount.dvol: $(B)/helpers/mount.dvol.o $(MOUNT_DVOL_SRC:%.c=$(B)/%.o) $(B)/libdvol.a
	$(CC) $(ALL_LDFLAGS) -o $@ $^ $(MOUNT_DVOL_LIBS)

$(TB)/mount.dvol: $(TB)/helpers/mount.dvol.o $(MOUNT_DVOL_SRC:%.c=$(TB)/%.o) $(TB)/libdvol.a
	$(CC) $(ALL_LDFLAGS) -o $@ $^ $(MOUNT_DVOL_LIBS)

# Unit tests link the test build: test-sandbox drives DVOL_SANDBOX=log.
$(B)/tests/test-%: $(B)/tests/unit/test-%.o $(TB)/libdvol.a
	@mkdir -p $(@D)
	$(CC) $(ALL_LDFLAGS) -o $@ $^ $(PKG_LIBS) $(shell pkg-config --libs cmocka)

deps:
	@scripts/install-deps

# The tiers run one after another; each writes TAP to build/results/ and the last step
# prints the one closing line CI reads.
check: deps
	@rm -rf $(B)/results
	@$(MAKE) --no-print-directory all test-build $(UNIT_TESTS)
	@$(MAKE) --no-print-directory -k check-unit check-host $(if $(SANITIZE),,check-vm); \
		rc=$$?; tests/tap-summary $(B)/results; s=$$?; [ $$rc -eq 0 ] && exit $$s || exit $$rc

# The unit and host tiers built with ASan and UBSan (build/san/), never the VM tier: CI runs
# it after make check. A finding ends the program with exit 86, which fails its test.
check-sanitize:
	@$(MAKE) --no-print-directory check SANITIZE=1

check-unit: all $(UNIT_TESTS)
	@DVOL_SANITIZE=$(SANITIZE) tests/unit/run $(B) $(UNIT_TESTS)

# t-wire-fuzz drives helpers built with ASan and UBSan (fuzz/Makefile).
check-host: all test-build wire-helpers
	@DVOL_SANITIZE=$(SANITIZE) DVOL_WIRE_DIR=$(CURDIR)/build/fuzz/wire tests/host/run $(B)

wire-helpers:
	@$(MAKE) --no-print-directory -C fuzz wire-helpers

check-vm: all test-build $(UNIT_TESTS)
	@tests/vm/run $(B)

demo: deps
	@$(MAKE) --no-print-directory all
	@scripts/demo $(B)

bench: deps
	@$(MAKE) --no-print-directory all
	@bench/run $(B)

# libFuzzer (clang) with ASan and UBSan; fails on any finding.
fuzz: deps
	@$(MAKE) --no-print-directory -C fuzz run

install: all
	install -d $(DESTDIR)$(MOUNTHELPERDIR) $(DESTDIR)$(SBINDIR) $(DESTDIR)$(UNITDIR) \
		$(DESTDIR)$(UDEVDIR)/rules.d $(DESTDIR)$(GENERATORDIR)
	install -m 0755 $(B)/mount.dvol $(DESTDIR)$(MOUNTHELPERDIR)/mount.dvol
	install -m 0755 $(B)/dvol-generator $(DESTDIR)$(GENERATORDIR)/dvol-generator
	for h in $(filter-out $(B)/mount.dvol $(B)/dvol-generator,$(HELPERS)); do \
		install -m 0755 $$h $(DESTDIR)$(SBINDIR)/; done
	for m in $(MANPAGES); do s=$${m##*.}; install -d $(DESTDIR)$(MANDIR)/man$$s; \
		install -m 0644 $$m $(DESTDIR)$(MANDIR)/man$$s/; done
	for u in $(wildcard systemd/*.service systemd/*.timer systemd/*.target); do \
		install -m 0644 $$u $(DESTDIR)$(UNITDIR)/; done
	for r in $(wildcard udev/*.rules); do install -m 0644 $$r $(DESTDIR)$(UDEVDIR)/rules.d/; done
	# The commented example becomes the configuration, but never replaces one.
	install -d $(DESTDIR)$(SYSCONFDIR)/dvol/gc.d
	# dvol-warm@NAME.service's manifests: dvol-generator warms each one at boot.
	install -d $(DESTDIR)$(SYSCONFDIR)/dvol/warm.d
	[ -e $(DESTDIR)$(SYSCONFDIR)/dvol/gc.conf ] || \
		install -m 0644 conf/gc.conf $(DESTDIR)$(SYSCONFDIR)/dvol/gc.conf

uninstall:
	rm -f $(DESTDIR)$(MOUNTHELPERDIR)/mount.dvol $(DESTDIR)$(GENERATORDIR)/dvol-generator
	for h in $(notdir $(filter-out $(B)/mount.dvol $(B)/dvol-generator,$(HELPERS))); do rm -f $(DESTDIR)$(SBINDIR)/$$h; done
	for m in $(notdir $(MANPAGES)); do rm -f $(DESTDIR)$(MANDIR)/man$${m##*.}/$$m; done
	for u in $(notdir $(wildcard systemd/*.service systemd/*.timer systemd/*.target)); do \
		rm -f $(DESTDIR)$(UNITDIR)/$$u; done
	for r in $(notdir $(wildcard udev/*.rules)); do rm -f $(DESTDIR)$(UDEVDIR)/rules.d/$$r; done

FORMAT_SRC = common/*.[ch] helpers/*.c helpers/mount-dvol/*.[ch] tests/*.c tests/unit/*.c bench/*.c fuzz/*.c $(wildcard fuzz/wire/*.c)
format:
	clang-format -i $(FORMAT_SRC)

format-check:
	clang-format --dry-run --Werror $(FORMAT_SRC)

# make lint: clang-tidy (.clang-tidy), cppcheck (lint/cppcheck.supp, a reason per line) and
# shellcheck (.shellcheckrc; warnings and errors, not style notes) on every C file and every
# shell script; any finding fails.
# LINT_PENDING: files left out of lint for a time, each with its reason; none now.
LINT_PENDING :=
LINT_C := $(filter-out $(LINT_PENDING),$(wildcard common/*.c helpers/*.c helpers/mount-dvol/*.c bench/*.c tests/*.c))
LINT_CFLAGS = -std=gnu11 -D_GNU_SOURCE -I common -I $(B)/gen -DDVOL_VERSION='"lint"' \
	-DDVOL_SYSCONFDIR='"/etc"' -DDVOL_SBINDIR='"/usr/sbin"' -DDVOL_LIBNFS_VERSION='"lint"' \
	$(PKG_CFLAGS)
LINT_SH := .ci/run bench/run $(wildcard bench/*.sh bench/vm/*.sh) scripts/demo scripts/install-deps \
	tests/tap-lib.sh tests/tap-summary tests/unit/run tests/host/run $(wildcard tests/host/*.sh) \
	tests/vm/run $(wildcard tests/vm/cases/*.sh) tests/vm/guest/guest-lib.sh \
	tests/vm/guest/install tests/vm/guest/runner tests/vm/image/build
lint: $(B)/gen/sandbox-filters.h
	shellcheck --severity=warning $(LINT_SH)
	cppcheck -q --std=c11 --enable=warning,portability --error-exitcode=1 --inline-suppr \
		--suppressions-list=lint/cppcheck.supp -D_GNU_SOURCE -I common -I $(B)/gen $(LINT_C)
	clang-tidy --quiet $(LINT_C) -- $(LINT_CFLAGS)

clean:
	rm -rf $(B)

-include $(COMMON_OBJ:.o=.d) $(HELPER_SRC:%.c=$(B)/%.d) $(UNIT_SRC:%.c=$(B)/%.d) \
	$(TEST_OBJ:.o=.d) $(HELPER_SRC:%.c=$(TB)/%.d) \
	$(MOUNT_DVOL_SRC:%.c=$(B)/%.d) $(MOUNT_DVOL_SRC:%.c=$(TB)/%.d)
.SECONDARY:
