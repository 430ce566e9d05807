#!/usr/bin/env python3
"""Fails if code outside an arch directory names an instruction-set fact.

Generic code asks the arch contract (src/arch/arch.h); only src/arch/$ARCH,
include/probekit/arch* (the public struct pk_regs) and tests/arch/$ARCH may
name registers, instructions or ABI rules. Comments are not code and are
skipped; string literals are checked (a user-visible "int3" should be the
arch's ARCH_TRAP_NAME). A line that truly must name one carries the marker
"arch-lint: allow" with the reason, in a comment on that line; a whole file
about one architecture outside an arch directory is listed, with the reason,
in scripts/arch-lint.allow.

Usage: scripts/arch-lint.py [FILE...]   (default: every tracked source file)
Prints "path:line: what: text" per finding; exits 1 if there is any.
"""
import os
import re
import subprocess
import sys

# Each: (what it is, regular expression). Case-sensitive unless (?i).
PATTERNS = [
    # x86-64 registers: assembler names, pt_regs fields, ucontext indexes.
    ("x86 register", r"%[re]?(ax|bx|cx|dx|si|di|bp|sp|ip)\b"),
    ("x86 register", r"%r(8|9|1[0-5])[dwb]?\b"),
    ("x86 register", r"\b[re](ax|bx|cx|dx|si|di|bp|sp|ip)\b"),
    ("x86 register", r"\br(8|9|1[0-5])d\b"),
    ("x86 register", r"\b[re]flags\b"),
    ("x86 register", r"(->|\.)(ax|bx|cx|dx|si|di|bp|orig_ax|r8|r9|r1[0-5])\b"),
    ("x86 register", r"\bregs->(ip|flags)\b"),
    ("x86 register", r"\b[xyz]mm([0-9]|[12][0-9]|3[01])\b"),
    ("x86 register", r"%[fg]s\b|\bfs_base\b|\bARCH_GET_FS\b"),
    ("pk_regs field", r"\bregs->(sp|flags|pc|pstate|regs)\b"),
    ("ucontext register", r"\bREG_(R[A-Z0-9]+|E[A-Z]+)\b|\bgregs\s*\["),
    ("ptrace registers", r"\buser_regs_struct\b|\buser_pt_regs\b|\borig_[re]?ax\b|\borig_x0\b"),
    ("ELF machine", r"\bEM_(X86_64|386|AARCH64|ARM)\b"),
    ("multiarch triplet", r"\b(x86_64|i386|aarch64|arm)-linux-gnu(eabihf)?\b"),
    ("glibc x86-64 symbol version", r"\bGLIBC_2\.2\.5\b"),
    ("arch macro", r"\b__(x86_64|i386|aarch64|arm)__\b|\b__amd64\b"),
    # An empty asm statement is a compiler barrier, not an instruction.
    ("inline assembly", r"(\b__asm__|\basm)\s*(volatile\s*)?(goto\s*)?\(\s*\"[^\"]"),
    # Instructions and their encodings.
    ("x86 instruction", r"(?i)\bint3\b"),
    ("x86 opcode", r"\b0x(cc|CC|e8|E8|e9|E9|eb|EB)\b"),
    ("x86 encoding", r"(?i)\brel(8|32)\b|\brip-relative\b"),
    # arm64.
    ("arm64 register", r"\b(tpidr_el0|elr_el1|x29|x30)\b"),
    ("arm64 instruction", r"\bbrk\s*#|\b0xd42000[0-9a-fA-F]{2}\b"),
]
COMPILED = [(what, re.compile(rx)) for what, rx in PATTERNS]

SCANNED_DIRS = ("src/", "include/", "tests/", "examples/", "demo/", "bench/", "fuzz/", "man/")
C_EXT = (".c", ".h", ".cc", ".S")
MAN_EXT = (".1", ".3")
SH_EXT = (".sh", ".py", ".defs")
ARCH_PATH = re.compile(r"(^|/)arch(/|\.h$)")
ALLOW = "arch-lint: allow"
# Whole files that are about one architecture although they live elsewhere:
# one path per line, then the reason.
ALLOW_FILE = "scripts/arch-lint.allow"


def strip_c_comments(text):
    """Blank out /* */ and // comments, keeping strings, newlines and columns."""
    out = []
    i, n = 0, len(text)
    while i < n:
        c = text[i]
        if c == "/" and i + 1 < n and text[i + 1] == "*":
            j = text.find("*/", i + 2)
            j = n if j < 0 else j + 2
            out.append(re.sub(r"[^\n]", " ", text[i:j]))
            i = j
        elif c == "/" and i + 1 < n and text[i + 1] == "/":
            j = text.find("\n", i)
            j = n if j < 0 else j
            out.append(" " * (j - i))
            i = j
        elif c in "\"'":
            j = i + 1
            while j < n and text[j] != c and text[j] != "\n":
                j += 2 if text[j] == "\\" else 1
            out.append(text[i:j + 1])
            i = j + 1
        else:
            out.append(c)
            i += 1
    return "".join(out)


def strip_sh_comments(text):
    return "\n".join("" if l.lstrip().startswith("#") else l for l in text.split("\n"))


def files():
    out = subprocess.run(["git", "ls-files"], capture_output=True, text=True, check=False)
    if out.returncode == 0:
        names = out.stdout.split("\n")
    else:  # not a checkout (a release tarball): every file below
        names = [os.path.join(d, f)[2:] for d, _, fs in os.walk(".") for f in fs]
    for f in sorted(names):
        if f.startswith(SCANNED_DIRS) and f.endswith(C_EXT + SH_EXT + MAN_EXT):
            yield f


def lint(path):
    if ARCH_PATH.search(path):
        return []
    with open(path, encoding="utf-8", errors="replace") as fh:
        raw = fh.read()
    code = strip_c_comments(raw) if path.endswith(C_EXT) else strip_sh_comments(raw)
    found = []
    for no, (line, orig) in enumerate(zip(code.split("\n"), raw.split("\n")), 1):
        if ALLOW in orig:
            continue
        for what, rx in COMPILED:
            if rx.search(line):
                found.append(f"{path}:{no}: {what}: {orig.strip()}")
                break
    return found


def allowed_files():
    with open(ALLOW_FILE, encoding="utf-8") as fh:
        return {l.split()[0] for l in fh if l.strip() and not l.startswith("#")}


def main():
    os.chdir(os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
    allowed = allowed_files()
    paths = [p for p in (sys.argv[1:] or files()) if p not in allowed]
    found = [f for p in paths for f in lint(p)]
    for f in found:
        print(f)
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main())
