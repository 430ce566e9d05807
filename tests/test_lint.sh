#!/usr/bin/env bash
# Static checks of the library sources: cppcheck clean, clang-format clean.
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
exit $fail
