# probekit build. `make` builds the library, examples and tests into $(BUILD);
# `make check` installs missing packages, builds, and runs every suite (plain
# and ASan+UBSan); `make demo` traces a bundled program; `make bench` measures.

HOST_ARCH := $(shell uname -m)
ARCH     ?= $(HOST_ARCH)
# Another architecture: Debian's cross compiler ($(ARCH)-linux-gnu-gcc, its
# libraries through multiarch) into a tree of its own; scripts/deps.sh
# installs them when ARCH asks for them.
ifneq ($(ARCH),$(HOST_ARCH))
CROSS_COMPILE ?= $(ARCH)-linux-gnu-
BUILD    ?= build/$(ARCH)
endif
BUILD    ?= build
PREFIX   ?= /usr/local
LIBDIR   ?= $(PREFIX)/lib
INCDIR   ?= $(PREFIX)/include
PCDIR    ?= $(LIBDIR)/pkgconfig
MANDIR   ?= $(PREFIX)/share/man
COMPDIR  ?= $(PREFIX)/share/bash-completion/completions
VERSION  := 0.1.0
CC       ?= gcc
CXX      ?= g++
OBJCOPY  ?= objcopy
ifdef CROSS_COMPILE
CC       := $(CROSS_COMPILE)gcc
CXX      := $(CROSS_COMPILE)g++
AR       := $(CROSS_COMPILE)ar
OBJCOPY  := $(CROSS_COMPILE)objcopy
endif
# The arch's own build facts (ARCH_LDLIBS: its decoder library, if any).
include src/arch/$(ARCH)/arch.mk

# SAN=1 builds everything with AddressSanitizer and UBSan into its own tree.
ifeq ($(SAN),1)
SANFLAGS := -fsanitize=address,undefined -fno-sanitize-recover=undefined -fno-omit-frame-pointer
endif
# SAN=thread: ThreadSanitizer, for the stress test. TSan does not model
# standalone fences (-Wtsan); the orderings it must see are acquire/release.
ifeq ($(SAN),thread)
SANFLAGS := -fsanitize=thread -Wno-tsan
endif

WARN     := -Wall -Wextra -Werror
CFLAGS   ?= -O2 -g
BASEFLAGS := -std=gnu11 $(WARN) -fPIC -fvisibility=hidden -Iinclude -Isrc -Isrc/arch/$(ARCH) \
	-D_GNU_SOURCE $(SANFLAGS)
# The trap path must not call into libc (memcpy for loops, stack protector
# checks): those would be unprobeable and re-entrant from a signal handler.
# Nor touch vector or x87 registers: a jump-optimized hit saves the extended
# state only for handlers that may (src/arch/x86_64/vec.c), and the engine's
# own hit path is compiled so that it never needs it. The CLI is exempt.
LIBFLAGS := $(BASEFLAGS) -fno-tree-loop-distribute-patterns -fno-stack-protector
NOVEC    = $(if $(filter $(BUILD)/obj/src/cli/%,$@),,-mgeneral-regs-only)
LDLIBS_LIB := $(ARCH_LDLIBS) -lelf -ldl -lpthread

# The arch's ptrace.c is the attach side's (the command), not the library's.
ARCH_ATTACH_C := src/arch/$(ARCH)/ptrace.c
LIB_C   := $(filter-out $(ARCH_ATTACH_C), \
	$(wildcard src/core/*.c src/sym/*.c src/text/*.c src/arch/$(ARCH)/*.c))
LIB_S   := $(wildcard src/arch/$(ARCH)/*.S)
LIB_OBJ := $(LIB_C:%.c=$(BUILD)/obj/%.o) $(LIB_S:%.S=$(BUILD)/obj/%.o)

SHLIB   := $(BUILD)/libprobekit.so
STLIB   := $(BUILD)/libprobekit.a

# The kprobe_events language (parser, fetch programs, formatting): shared by
# the probekit CLI and the in-process agent, not part of the public library.
EV_C    := $(wildcard src/events/*.c src/ring/*.c src/attach/*.c $(ARCH_ATTACH_C))
EV_OBJ  := $(EV_C:%.c=$(BUILD)/obj/%.o)
EVLIB   := $(BUILD)/libpkevents.a

# The tracer: the probekit command, and the agent it preloads into programs
# (the engine, the events language and the ring in one object that exports
# nothing).
AGENT_OBJ := $(patsubst %.c,$(BUILD)/obj/%.o,$(wildcard src/agent/*.c))
CLI_OBJ   := $(patsubst %.c,$(BUILD)/obj/%.o,$(wildcard src/cli/*.c))
AGENT     := $(BUILD)/libprobekit-agent.so
CLI       := $(BUILD)/probekit
AGENTDIR  ?= $(LIBDIR)/probekit
BINDIR    ?= $(PREFIX)/bin

TEST_C     := $(wildcard tests/test_*.c)
TEST_CXX   := $(wildcard tests/test_*.cc)
# The arch's own suites (tests/arch/$(ARCH)) build beside the others, under the same names.
TEST_ARCH_C := $(wildcard tests/arch/$(ARCH)/test_*.c)
TEST_ASM   := $(wildcard tests/arch/$(ARCH)/asm/*.S)
TEST_BIN   := $(TEST_C:tests/%.c=$(BUILD)/tests/%) $(TEST_CXX:tests/%.cc=$(BUILD)/tests/%) \
	$(TEST_ARCH_C:tests/arch/$(ARCH)/%.c=$(BUILD)/tests/%)
TEST_ASM_OBJ := $(TEST_ASM:%.S=$(BUILD)/obj/%.o)
TEST_HELPERS := $(patsubst tests/helpers/%.c,$(BUILD)/tests/helpers/%,$(wildcard tests/helpers/*.c))

EXAMPLE_C   := $(wildcard examples/*.c)
EXAMPLE_SO  := $(EXAMPLE_C:examples/%.c=$(BUILD)/examples/%.so)
DEMO_C      := $(wildcard demo/*.c)
DEMO_BIN    := $(DEMO_C:demo/%.c=$(BUILD)/demo/%)

.SECONDARY:
.PHONY: FORCE all lib tests examples install uninstall check demo bench fuzz deps clean format cppcheck \
	kernel-vm
all: lib examples tests

lib: $(SHLIB) $(STLIB) $(EVLIB) $(AGENT) $(CLI)

# The library's code goes into one section, pk_text, so that the linker's
# __start_pk_text/__stop_pk_text bound it for the blacklist, whether the
# library is linked shared or static.
TO_PK_TEXT = $(OBJCOPY) --rename-section .text=pk_text,alloc,load,readonly,code,contents

$(BUILD)/obj/src/%.o: src/%.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(LIBFLAGS) $(NOVEC) -fno-reorder-blocks-and-partition -MMD -MP -MT $@ -MF $(@:.o=.d) -c $< -o $@.tmp
	$(TO_PK_TEXT) $@.tmp $@ && rm -f $@.tmp

$(BUILD)/obj/src/%.o: src/%.S
	@mkdir -p $(dir $@)
	$(CC) $(BASEFLAGS) -MMD -MP -MT $@ -MF $(@:.o=.d) -c $< -o $@.tmp
	$(TO_PK_TEXT) $@.tmp $@ && rm -f $@.tmp

$(BUILD)/obj/tests/%.o: tests/%.S
	@mkdir -p $(dir $@)
	$(CC) $(BASEFLAGS) -c $< -o $@

$(SHLIB): $(LIB_OBJ) src/probekit.map
	$(CC) -shared -o $@ $(LIB_OBJ) -Wl,--version-script=src/probekit.map -Wl,-z,now \
		-Wl,-soname,libprobekit.so.0 $(SANFLAGS) $(LDLIBS_LIB)
	ln -sf libprobekit.so $(BUILD)/libprobekit.so.0

$(STLIB): $(LIB_OBJ)
	@rm -f $@
	$(AR) rcs $@ $^

$(EVLIB): $(EV_OBJ)
	@rm -f $@
	$(AR) rcs $@ $^

$(AGENT): $(AGENT_OBJ) $(LIB_OBJ) $(EV_OBJ) src/agent/agent.map
	$(CC) -shared -o $@ $(AGENT_OBJ) $(LIB_OBJ) $(EV_OBJ) -Wl,--version-script=src/agent/agent.map \
		-Wl,-z,now $(SANFLAGS) $(LDLIBS_LIB)

$(BUILD)/obj/src/cli/agent_path.o: CFLAGS += -DPK_AGENT_INSTALLED='"$(AGENTDIR)/libprobekit-agent.so"'
$(BUILD)/obj/src/cli/agent_path.o: $(BUILD)/install-dirs

# What the installed paths were built with: rewritten when PREFIX, LIBDIR...
# change, so that files that embed them (probekit.pc, the agent's path in
# the command) are made again rather than keeping an earlier install's.
INSTALL_DIRS := $(PREFIX)|$(LIBDIR)|$(INCDIR)|$(AGENTDIR)|$(VERSION)
$(BUILD)/install-dirs: FORCE
	@mkdir -p $(dir $@)
	@echo '$(INSTALL_DIRS)' | cmp -s - $@ || echo '$(INSTALL_DIRS)' > $@
FORCE:

$(CLI): $(CLI_OBJ) $(EVLIB) $(STLIB)
	$(CC) -o $@ $(CLI_OBJ) $(EVLIB) $(STLIB) $(SANFLAGS) $(LDLIBS_LIB) -ldw -lz

# Tests link the static library so that they can reach internal functions.
TEST_FLAGS := $(BASEFLAGS) -fno-pie -no-pie -rdynamic -Itests -Itests/arch/$(ARCH)
TEST_LINK = $(CC) $(CFLAGS) $(TEST_FLAGS) -o $@ $< $(TEST_ASM_OBJ) $(TEST_CLI_OBJ) $(EVLIB) $(STLIB) \
	$(LDLIBS_LIB) -lz -lm
$(BUILD)/tests/%: tests/%.c $(STLIB) $(EVLIB) $(TEST_ASM_OBJ) tests/pk_test.h
	@mkdir -p $(dir $@)
	$(TEST_LINK)
$(BUILD)/tests/%: tests/arch/$(ARCH)/%.c $(STLIB) $(EVLIB) $(TEST_ASM_OBJ) tests/pk_test.h
	@mkdir -p $(dir $@)
	$(TEST_LINK)

# The test of the command's kernel backend links the backend's modules.
KERNEL_CLI_OBJ := $(patsubst %,$(BUILD)/obj/src/cli/%.o,cmd_kernel cmd_klist kline tracefs output args command \
	kernel_hist probe_cli probe_spec probe_debuginfo probe_points probe_loc probe_derive probe_show)
$(BUILD)/tests/test_kernel_cli: TEST_CLI_OBJ = $(KERNEL_CLI_OBJ)
$(BUILD)/tests/test_kernel_cli: LDLIBS_LIB += -ldw
$(BUILD)/tests/test_kernel_cli: $(KERNEL_CLI_OBJ)

$(BUILD)/tests/%: tests/%.cc $(STLIB)
	@mkdir -p $(dir $@)
	$(CXX) $(CFLAGS) -std=gnu++17 $(WARN) -Iinclude -Isrc -Itests $(SANFLAGS) -o $@ $< \
		$(STLIB) $(LDLIBS_LIB)

$(BUILD)/tests/helpers/%: tests/helpers/%.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -std=gnu11 $(WARN) -o $@ $< -lz -ldl -lpthread

# Stacks walked by frame pointers, as the kernel's userstacktrace walks them.
$(BUILD)/tests/helpers/stack_target: CFLAGS += -fno-omit-frame-pointer

tests: $(TEST_BIN) $(TEST_HELPERS)

# Examples are "modules": shared objects preloaded into an unmodified program,
# registering their probes in a constructor (module_init) and removing them in
# a destructor (module_exit).
$(BUILD)/examples/%.so: examples/%.c examples/module.h $(SHLIB)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -std=gnu11 $(WARN) -Iinclude -fPIC -shared -o $@ $< \
		-L$(BUILD) -lprobekit -Wl,-rpath,'$$ORIGIN/..' $(SANFLAGS)

$(BUILD)/demo/%: demo/%.c
	@mkdir -p $(dir $@)
	$(CC) -O1 -g -std=gnu11 $(WARN) -fno-inline -o $@ $<

examples: $(EXAMPLE_SO) $(DEMO_BIN)

probekit.pc: probekit.pc.in
	@true

$(BUILD)/probekit.pc: probekit.pc.in Makefile $(BUILD)/install-dirs
	@mkdir -p $(dir $@)
	sed -e 's|@PREFIX@|$(PREFIX)|' -e 's|@LIBDIR@|$(LIBDIR)|' -e 's|@INCDIR@|$(INCDIR)|' \
		-e 's|@VERSION@|$(VERSION)|' $< > $@

install: lib $(BUILD)/probekit.pc
	install -d $(DESTDIR)$(INCDIR) $(DESTDIR)$(LIBDIR) $(DESTDIR)$(PCDIR)
	install -m 644 include/probekit.h $(DESTDIR)$(INCDIR)/
	install -d $(DESTDIR)$(INCDIR)/probekit/arch
	install -m 644 include/probekit/arch.h $(DESTDIR)$(INCDIR)/probekit/
	install -m 644 include/probekit/arch/*.h $(DESTDIR)$(INCDIR)/probekit/arch/
	install -m 755 $(SHLIB) $(DESTDIR)$(LIBDIR)/libprobekit.so.$(VERSION)
	ln -sf libprobekit.so.$(VERSION) $(DESTDIR)$(LIBDIR)/libprobekit.so.0
	ln -sf libprobekit.so.0 $(DESTDIR)$(LIBDIR)/libprobekit.so
	install -m 644 $(STLIB) $(DESTDIR)$(LIBDIR)/
	install -m 644 $(BUILD)/probekit.pc $(DESTDIR)$(PCDIR)/
	install -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(AGENTDIR)
	install -m 755 $(CLI) $(DESTDIR)$(BINDIR)/probekit
	install -m 755 $(AGENT) $(DESTDIR)$(AGENTDIR)/libprobekit-agent.so
	install -d $(DESTDIR)$(MANDIR)/man1 $(DESTDIR)$(MANDIR)/man3 $(DESTDIR)$(COMPDIR)
	install -m 644 man/probekit.1 man/probekit-trace.1 man/probekit-list.1 man/probekit-probe.1 $(DESTDIR)$(MANDIR)/man1/
	install -m 644 man/probekit.3 $(DESTDIR)$(MANDIR)/man3/
	install -m 644 completions/probekit $(DESTDIR)$(COMPDIR)/probekit

uninstall:
	rm -rf $(DESTDIR)$(INCDIR)/probekit
	rm -f $(DESTDIR)$(INCDIR)/probekit.h $(DESTDIR)$(LIBDIR)/libprobekit.* \
		$(DESTDIR)$(PCDIR)/probekit.pc $(DESTDIR)$(BINDIR)/probekit \
		$(DESTDIR)$(AGENTDIR)/libprobekit-agent.so $(DESTDIR)$(COMPDIR)/probekit \
		$(DESTDIR)$(MANDIR)/man1/probekit.1 $(DESTDIR)$(MANDIR)/man1/probekit-trace.1 \
		$(DESTDIR)$(MANDIR)/man1/probekit-list.1 $(DESTDIR)$(MANDIR)/man1/probekit-probe.1 \
		$(DESTDIR)$(MANDIR)/man3/probekit.3

deps:
	@ARCH=$(ARCH) scripts/deps.sh

check: deps
	$(MAKE) all
	$(MAKE) all BUILD=build/asan SAN=1
	$(MAKE) lib build/tsan/tests/test_stress build/tsan/tests/test_ring build/tsan/tests/test_optimize \
		BUILD=build/tsan SAN=thread
	@scripts/run-tests.sh

# The seed modules (examples/kernel) and probekit trace --kernel in a QEMU
# guest running Debian's kernel; also part of check.
kernel-vm: deps
	$(MAKE) lib
	@BUILD=$(BUILD) bash tests/kernel-vm/test_kernel_vm.sh

demo: deps
	$(MAKE) all
	@scripts/demo.sh

bench: export PK_BENCH=1
bench: deps
	$(MAKE) all
	$(MAKE) -C bench BUILD=$(abspath $(BUILD))

# The definition parser under libFuzzer (clang): RUNS inputs, 10 million by default.
fuzz:
	$(MAKE) -C fuzz run

format:
	clang-format -i $$(git ls-files '*.c' '*.h' '*.cc')

cppcheck:
	cppcheck --quiet --error-exitcode=1 --enable=warning,performance,portability \
		--inline-suppr --suppress=missingIncludeSystem -Iinclude -Isrc -Isrc/arch/$(ARCH) \
		-D__$(ARCH)__ src

clean:
	rm -rf build

-include $(shell find $(BUILD)/obj -name '*.d' 2>/dev/null)
