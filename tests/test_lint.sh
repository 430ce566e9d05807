#!/usr/bin/env bash
# Static checks of the library sources: cppcheck clean, clang-format clean,
# and no architecture named outside src/arch (the arch lint).
set -u
cd "$(dirname "$0")/.."
fail=0
if out=$(make -s cppcheck 2>&1); then echo "PASS cppcheck"; else
	echo "FAIL cppcheck"; echo "$out" | head -20 | sed 's/^/  /'; fail=1; fi
if command -v clang-format >/dev/null; then
	bad=$(for f in $(git ls-files 'src/*.[ch]' 'include/*.h'); do
		clang-format "$f" | cmp -s - "$f" || echo "$f"; done)
	if [ -z "$bad" ]; then echo "PASS clang-format"; else
		echo "FAIL clang-format: $bad"; fail=1; fi
fi
# No instruction-set fact outside src/arch (scripts/arch-lint.py).
if out=$(python3 scripts/arch-lint.py 2>&1); then echo "PASS arch-lint"; else
	echo "FAIL arch-lint"; echo "$out" | head -20 | sed 's/^/  /'; fail=1; fi
# The lint itself: it must see code and strings, and skip comments.
probe=$(mktemp --suffix=.c)
printf '%s\n' '/* int3, %rdi and regs->di in a comment */' 'long a(struct pk_regs *regs) { return regs->di; }' \
	'const char *s = "an int3";' '// EM_X86_64' 'int ok = 1; /* arch-lint: allow */ long b = regs->ax;' >"$probe"
got=$(python3 scripts/arch-lint.py "$probe" | sed 's/.*:\([0-9]*\): .*/\1/' | tr '\n' ' ')
rm -f "$probe"
if [ "$got" = "2 3 " ]; then echo "PASS arch-lint-sees-code-not-comments"; else
	echo "FAIL arch-lint-sees-code-not-comments: flagged lines '$got', want '2 3 '"; fail=1; fi
exit $fail
