# x86-64 decodes with Zydis (libzydis-dev).
ARCH_LDLIBS := -lZydis
