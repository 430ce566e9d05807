/* SPDX-License-Identifier: MIT */
/*
 * The x86-64 part of a jprobe frame (struct pk_jframe, internal.h, then the
 * caller's stack arguments and the xsave area), shared by jprobe.c and
 * jprobe_entry.S. The frame is page-aligned, so the xsave area is 64-byte aligned.
 */
#ifndef PK_X86_JPROBE_FRAME_H
#define PK_X86_JPROBE_FRAME_H

/* struct pk_regs is at offset 0; these are its fields. */
#define JR_R15 0
#define JR_R14 8
#define JR_R13 16
#define JR_R12 24
#define JR_BP  32
#define JR_BX  40
#define JR_R11 48
#define JR_R10 56
#define JR_R9  64
#define JR_R8  72
#define JR_AX  80
#define JR_CX  88
#define JR_DX  96
#define JR_SI  104
#define JR_DI  112
#define JR_IP  128
#define JR_FL  144
#define JR_SP  152

#define JF_ENTRY  168 /* pk_jframe.entry */
#define JF_ACTIVE 176 /* pk_jframe.active */
#define JF_STACK  256 /* the copy of PK_JPROBE_STACK_COPY bytes from the entry's sp */
#define JF_XSAVE  448 /* the vector state at the entry */
#define JF_COPY	  128 /* = PK_JPROBE_STACK_COPY */

#endif
