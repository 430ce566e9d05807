#!/bin/bash
# Issue 10 item 6: no limit of 1,024 definitions (5,000 of them, on
# openssl's libcrypto.so.3), and wildcards: 'p libcrypto.so.3:EVP_Digest*'
# is one event per matching function, named after it; 'libcrypto.so.3:*'
# traces every function of libcrypto. openssl's output must not change.
# Memory: a definition costs the tracer and the program a few KiB (the
# parser's 55 KiB structure is packed to what it uses), asserted as a bound
# on both processes' resident memory while the program runs armed.
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
# hwm DEFS...: the tracer's and the armed openssl's peak resident KiB, while
# openssl waits in open() for the FIFO (after every definition was armed).
hwm() {
	local tp op="" i
	rm -f fifo && mkfifo fifo
	"$PK" trace -o /dev/null "$@" -- openssl dgst -sha256 fifo >/dev/null 2>mem.err &
	tp=$!
	for i in $(seq 500); do
		op=$(pgrep -P $tp -x openssl)
		[ -n "$op" ] && grep -q wait_for_partner /proc/$op/wchan 2>/dev/null && break
		sleep 0.02
	done
	echo "$(awk '/^VmHWM/ {print $2}' /proc/$tp/status) $(awk '/^VmHWM/ {print $2}' /proc/$op/status 2>/dev/null)"
	echo >fifo
	wait $tp
}
# Bounds with room for variation; the unpacked structure made them 550 MB each.
TRACER_MAX=$((32 * 1024)) PROG_MAX=$((64 * 1024))
read -r t5 p5 <<<"$(hwm -e defs)"
n5=$(grep -c '^probekit/f[0-9]' mem.err)
echo "INFO 5,000 definitions: tracer $t5 KiB, openssl $p5 KiB (openssl alone: about 6 MiB)"
[ "$n5" = 5000 ] && [ -n "$p5" ] && [ "$t5" -le $TRACER_MAX ] && [ "$p5" -le $PROG_MAX ] &&
	pass five_thousand_definitions_memory_bound ||
	fail five_thousand_definitions_memory_bound "tracer $t5 KiB (max $TRACER_MAX), openssl $p5 KiB (max $PROG_MAX), $n5 events"
read -r tw pw <<<"$(hwm 'p libcrypto.so.3:EVP_*')"
nw=$(grep -c '^probekit/EVP_' mem.err)
want=$(nm -D --defined-only $CRYPTO | awk '$2 == "T" {sub(/@.*/, "", $3); print $3}' | sort -u |
	grep -c '^EVP_')
echo "INFO 'p libcrypto.so.3:EVP_*' ($nw events): tracer $tw KiB, openssl $pw KiB"
[ "$nw" = "$want" ] && [ -n "$pw" ] && [ "$tw" -le $TRACER_MAX ] && [ "$pw" -le $PROG_MAX ] &&
	pass wildcard_memory_bound ||
	fail wildcard_memory_bound "tracer $tw KiB (max $TRACER_MAX), openssl $pw KiB (max $PROG_MAX), $nw events of $want"
exit $failed
