#!/bin/bash
# Issue 10 item 6: no limit of 1,024 definitions (5,000 of them, on
# openssl's libcrypto.so.3), and wildcards: 'p libcrypto.so.3:EVP_Digest*'
# is one event per matching function, named after it; 'libcrypto.so.3:*'
# traces every function of libcrypto. openssl's output must not change.
cd "$(dirname "$0")/.." || exit 1
. tests/lib.sh
CRYPTO=/lib/$PK_MULTIARCH/libcrypto.so.3
if ! command -v openssl >/dev/null || [ ! -e $CRYPTO ]; then
	echo "SKIP many_defs: no openssl or $CRYPTO"
	exit 0
fi
cd "$tmp" || exit 1
echo probekit >in.txt
openssl dgst -sha256 in.txt >plain.txt 2>&1

nm -D --defined-only $CRYPTO | awk '$2 == "T" {sub(/@.*/, "", $3); print $3}' | sort -u |
	head -5000 | awk '{print "p:f" NR " libcrypto.so.3:" $1}' >defs
"$PK" trace -e defs -o out.txt -- openssl dgst -sha256 in.txt >prog.txt 2>err.txt
rc=$?
rows=$(grep -c '^probekit/f[0-9]' err.txt)
hit=$(awk '/^probekit\/f[0-9]/ && $2 > 0' err.txt | wc -l)
if [ $rc = 0 ] && [ "$(wc -l <defs)" = 5000 ] && [ "$rows" = 5000 ] && [ "$hit" -gt 50 ] &&
	cmp -s plain.txt prog.txt; then
	pass five_thousand_definitions
else
	fail five_thousand_definitions "rc=$rc rows=$rows hit=$hit: $(grep -v '^probekit/' err.txt | head -3)"
fi

"$PK" trace 'p libcrypto.so.3:EVP_Digest*' -- openssl dgst -sha256 in.txt >out.txt 2>err.txt
rc=$?
n=$(nm -D --defined-only $CRYPTO | awk '$2 == "T" {sub(/@.*/, "", $3); print $3}' | sort -u |
	grep -c '^EVP_Digest')
if [ $rc = 0 ] && [ "$(grep -c '^probekit/EVP_Digest' err.txt)" = "$n" ] &&
	grep -qE ' EVP_DigestUpdate: \(EVP_DigestUpdate\+0x0/0x[0-9a-f]+ \[libcrypto.so.3\]\)$' out.txt
then pass wildcard_one_event_per_function
else fail wildcard_one_event_per_function "rc=$rc, want $n events: $(head -3 err.txt out.txt)"; fi

"$PK" trace -o all.txt 'p libcrypto.so.3:*' -- openssl dgst -sha256 in.txt >prog.txt 2>err.txt
rc=$?
rows=$(grep -c '^probekit/' err.txt)
[ $rc = 0 ] && [ "$rows" -gt 5000 ] && cmp -s plain.txt prog.txt && [ -s all.txt ] &&
	pass wildcard_every_function_of_libcrypto ||
	fail wildcard_every_function_of_libcrypto "rc=$rc rows=$rows: $(grep -v '^probekit/' err.txt | head -3)"

"$PK" trace 'p libcrypto.so.3:NOPE_*' -- true >/dev/null 2>err.txt
[ $? = 2 ] && grep -q "no function of $CRYPTO matches 'NOPE_\*'" err.txt && pass wildcard_no_match_said ||
	fail wildcard_no_match_said "$(cat err.txt)"
exit $failed
