#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
#
# The tracer's start-up at scale (issue 9, item 5): `probekit trace` with
# an event on the entry of libcrypto.so.3's exported functions, launching
# `openssl version`, against the same command untraced. Wall time, median
# of STARTUP_RUNS (3); the difference is what probekit adds before the
# program runs (agent load, symbol tables, planting and optimizing the
# probes) and after (detaching, the profile). The tracer takes at most
# MAX_DEFS definitions, so the events are that many functions spread over
# the library; the line says how many of the library's there are.
#
# Prints "startup|DEFS|FUNCS|untraced ms|traced ms|hits|note"; never fails on a figure.
#
# usage: startup_bench.sh PROBEKIT
set -u
export LC_ALL=C
PROBEKIT=$1
LIB=/usr/lib/$(gcc -print-multiarch)/libcrypto.so.3
RUNS=${STARTUP_RUNS:-3}
MAX_DEFS=1024
TMP=$(mktemp -d "${TMPDIR:-/tmp}/pk-startup.XXXXXX") || exit 1
trap 'rm -rf "$TMP"' EXIT

if ! command -v openssl >/dev/null || [ ! -e "$LIB" ]; then
	echo "startup|-|-|-|-|-|n/a: needs openssl and $LIB"
	exit 0
fi
# Exported functions (IFUNCs too), one name per version-less symbol.
nm -D --defined-only "$LIB" | awk '$2 == "T" || $2 == "i" { sub(/@.*/, "", $3); print $3 }' |
	sort -u >"$TMP/fns"
funcs=$(wc -l <"$TMP/fns")
awk -v n="$funcs" -v m="$MAX_DEFS" 'n <= m || (NR - 1) % (n / m) < 1 { print "p:crypto/" $1 " libcrypto.so.3:" $1 }' \
	"$TMP/fns" | head -n "$MAX_DEFS" >"$TMP/defs"
defs=$(wc -l <"$TMP/defs")

wall_ms() { # command...: its wall time in ms
	local t0=${EPOCHREALTIME/./}

	"$@" >/dev/null 2>"$TMP/err"
	echo $(((${EPOCHREALTIME/./} - t0) / 1000))
}

median() {
	printf '%s\n' "$@" | sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'
}

u=() t=()
for ((i = 0; i < RUNS; i++)); do
	u+=("$(wall_ms openssl version)")
	t+=("$(wall_ms "$PROBEKIT" trace -o /dev/null -e "$TMP/defs" -- openssl version)")
done
# The profile's lines are "crypto/NAME hits missed lost filtered".
hits=$(awk '$1 ~ /^crypto\// { h += $2; n++ } END { printf "%d hits on %d events", h, n }' "$TMP/err")
note=ok
grep -q '^crypto/' "$TMP/err" || note="no profile: $(head -c 120 "$TMP/err" | tr '\n' ' ')"
echo "startup|$defs|$funcs|$(median "${u[@]}")|$(median "${t[@]}")|$hits|$note"
