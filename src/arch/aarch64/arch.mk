# aarch64: fixed-width instructions, decoded without a library.
ARCH_LDLIBS :=
