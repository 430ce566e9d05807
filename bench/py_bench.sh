#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
#
# The real-program rows of `make bench`: Debian's python3.11 running
# py_loop.py (N calls of PyObject_GetAttr) unprobed, under `probekit trace`
# with an event on PyObject_GetAttr (text to /dev/null, jump-optimized as
# shipped, and again with PK_OPTIMIZE=0), and under a bpftrace uprobe on it.
# Each figure is the loop's own time (the script prints it), the median of
# PY_RUNS runs (3 for the slow int3 and bpftrace cases), and its slowdown
# against the unprobed median of the same run of this script. Debian's
# /usr/bin/python3.11 links libpython statically, so the function is the
# executable's own (python3.11:PyObject_GetAttr), as a user would find it.
#
# Prints "py|KEY|median ms|slowdown|runs x N|note" lines for run.sh; never
# fails on a figure.
#
# usage: py_bench.sh PROBEKIT
set -u
export LC_ALL=C
PROBEKIT=$1
PY=${PY_BIN:-/usr/bin/python3.11}
N=${PY_CALLS:-300000}
RUNS=${PY_RUNS:-5}
SCRIPT=$(cd "$(dirname "$0")" && pwd)/py_loop.py
FN=PyObject_GetAttr
TMP=$(mktemp -d "${TMPDIR:-/tmp}/pk-py-bench.XXXXXX") || exit 1
trap 'rm -rf "$TMP"' EXIT

if [ ! -x "$PY" ]; then
	echo "py|-|-|-|-|n/a: $PY is not installed (scripts/deps.sh with PK_BENCH=1)"
	exit 0
fi

loop_ms() { # the loop time printed in $1, in ms
	awk '$1 == "loop_ns" { printf "%.2f", $2 / 1e6; f = 1 } END { if (!f) print -1 }' "$1"
}

median() {
	printf '%s\n' "$@" | sort -g | awk '{ v[NR] = $1 }
		END { printf "%.2f", NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}

NOTE=
run_plain() {
	"$PY" "$SCRIPT" "$N" >"$TMP/out" 2>&1
	NOTE=
}

# The event's hits must be N and more (the interpreter calls it while starting up too).
run_probekit() {
	local prof

	"$PROBEKIT" trace -o /dev/null --buffer-size 262144 "p:py/getattr python3.11:$FN" \
		-- "$PY" "$SCRIPT" "$N" >"$TMP/out" 2>"$TMP/err"
	prof=$(awk '$1 == "py/getattr" { print $2, $4 }' "$TMP/err")
	NOTE=
	read -r h l <<<"${prof:-0 0}"
	if [ "$h" -lt "$N" ] || [ "$l" -ne 0 ]; then
		NOTE="hits $h lost $l of $N: $(grep -v '^#\|^py/' "$TMP/err" | head -c 100 | tr '\n' ' ')"
	fi
}

run_int3() {
	PK_OPTIMIZE=0 run_probekit
}

run_bpftrace() {
	local h

	bpftrace -e "uprobe:$PY:$FN { @n = count(); }" -c "$PY $SCRIPT $N" >"$TMP/out" 2>&1
	h=$(awk '$1 == "@n:" { print $2 }' "$TMP/out")
	NOTE=
	if [ "${h:-0}" -lt "$N" ]; then
		NOTE="bpftrace counted ${h:-0} of $N: $(grep -v loop_ns "$TMP/out" | head -c 100 | tr '\n' ' ')"
	fi
}

BASE=
measure() { # KEY RUNS FUNCTION
	local key=$1 runs=$2 v=() i t note='' m

	for ((i = 0; i < runs; i++)); do
		"$3"
		t=$(loop_ms "$TMP/out")
		if [ "$t" = -1 ]; then
			echo "py|$key|-|-|-|n/a: no loop time: ${NOTE:-$(head -c 120 "$TMP/out" | tr '\n' ' ')}"
			return
		fi
		[ -n "$NOTE" ] && [ -z "$note" ] && note="run $((i + 1)): $NOTE"
		v+=("$t")
	done
	m=$(median "${v[@]}")
	[ -z "$BASE" ] && BASE=$m
	echo "py|$key|$m|$(awk -v m="$m" -v b="$BASE" 'BEGIN { printf "%.1f", m / b }')|$runs x $N|${note:-ok}"
}

# The kernel emulates some first instructions (push) and single-steps the rest: say which.
addr=$(nm -D --defined-only "$PY" 2>/dev/null | awk -v f="$FN" '$3 == f { print $1; exit }')
if [ -n "$addr" ]; then
	echo "$FN starts with: $(objdump -d --no-show-raw-insn --start-address=0x"$addr" \
		--stop-address=$((0x$addr + 16)) "$PY" | awk '/^ +[0-9a-f]+:/ { sub(/^[ \t]*[0-9a-f]+:[ \t]*/, "")
			gsub(/[ \t]+/, " "); print; exit }')"
fi
measure unprobed "$RUNS" run_plain
measure trace_event "$RUNS" run_probekit
measure trace_event_int3 3 run_int3
if command -v bpftrace >/dev/null && [ "$(id -u)" -eq 0 ]; then
	measure bpftrace 3 run_bpftrace
else
	echo "py|bpftrace|-|-|-|n/a: needs bpftrace and root"
fi
exit 0
