#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
#
# The tracer rows of `make bench`: the cost of one RECORDED event with two
# fetched integer arguments on bench_target (the same code as the library
# rows), for
#   - probekit trace, text to /dev/null (probes jump-optimized, as shipped),
#     the same event aggregated by a hist trigger instead, and printed with
#     its user stack 16 frames deep (--stack=16);
#   - a tracefs uprobe event recorded into an instance of our own;
#   - uftrace record -P on a -fpatchable-function-entry build (its 5-byte
#     nop patched into a call at run time).
#
# The traced program times its own loop (trace_target.c), so start-up,
# attaching and exit do not count: each figure is the loop's time per call
# less the median of the same program's untraced loops, like the library
# rows. N is calibrated per case to about BT_RUN_SECONDS (0.3) of events,
# within what the tool's buffer holds without dropping; each run's count is
# checked. Medians of BT_RUNS (5). Prints "row|FN|KEY|median|min|max|runs x
# N|note" lines for run.sh; never fails on a figure.
#
# usage: trace_bench.sh BINDIR PROBEKIT
#   BINDIR holds bt_lea, bt_push, bt_lea_pfe and bt_push_pfe.
#
# The run_* functions and cleanup are called indirectly (measure "$@", trap).
# shellcheck disable=SC2317
set -u
export LC_ALL=C

if [ $# -ne 2 ]; then
	echo "usage: $0 BINDIR PROBEKIT" >&2
	exit 2
fi
BINDIR=$(cd "$1" && pwd) || exit 2
PROBEKIT=$(cd "$(dirname "$2")" && pwd)/$(basename "$2") || exit 2
RUNS=${BT_RUNS:-5}
RUN_S=${BT_RUN_SECONDS:-0.3}
TRACEFS=/sys/kernel/tracing
SYM=bench_target
FETCH='a=%di:s32 b=%si:s32'
GRP=pkbench_$$
INST=$TRACEFS/instances/$GRP
TMP=$(mktemp -d "${TMPDIR:-/tmp}/pk-trace-bench.XXXXXX") || exit 1
# probekit's ring, in KiB: every event of a run must fit, since a full ring
# drops (cheaply) rather than waits; a record of two args takes under 64 bytes.
PK_RING_KIB=262144
PK_MAX_N=$((PK_RING_KIB * 1024 / 128))

# Set by the run_* functions: the traced loop's time, and a remark when
# the tool did not record exactly N events (or failed).
LOOP_NS=0
COUNT_NOTE=

# The loop time the traced program printed in file $1 ("loop_ns T calls N ...").
loop_ns() {
	awk '$1 == "loop_ns" { print $2; f = 1 } END { if (!f) print -1 }' "$1"
}

# ---------------------------------------------------------------- tracefs

# Disable and remove everything of group $1 (a pkbench_PID), then its instance.
tracefs_remove_group() {
	local grp=$1 inst=$TRACEFS/instances/$1 lines line name f

	if [ -d "$inst/events/$grp" ]; then
		for f in "$inst/events/$grp"/*/enable; do
			[ -e "$f" ] && echo 0 >"$f" 2>/dev/null
		done
	fi
	[ -d "$inst" ] && rmdir "$inst" 2>/dev/null
	# A snapshot: removing an event while reading the file would skip the next.
	mapfile -t lines <"$TRACEFS/uprobe_events"
	for line in "${lines[@]}"; do
		name=${line#*:}
		name=${name%% *}
		# Append: a truncating write would remove every uprobe event.
		[ "${name%%/*}" = "$grp" ] && echo "-:$name" >>"$TRACEFS/uprobe_events" 2>/dev/null
	done
	return 0
}

# Groups left by a benchmark that was killed before its trap ran.
tracefs_remove_stale() {
	local lines line grp pid d

	mapfile -t lines <"$TRACEFS/uprobe_events"
	for line in "${lines[@]}"; do
		grp=${line#*:}
		grp=${grp%%/*}
		case $grp in
		pkbench_[0-9]*) ;;
		*) continue ;;
		esac
		pid=${grp#pkbench_}
		if ! kill -0 "$pid" 2>/dev/null; then
			echo "removing stale uprobe events of $grp"
			tracefs_remove_group "$grp"
		fi
	done
	for d in "$TRACEFS"/instances/pkbench_*; do
		[ -d "$d" ] || continue
		pid=${d##*_}
		kill -0 "$pid" 2>/dev/null || tracefs_remove_group "pkbench_$pid"
	done
}

cleanup() {
	[ -n "${TRACEFS_READY:-}" ] && tracefs_remove_group "$GRP"
	rm -rf "$TMP"
}
trap cleanup EXIT
trap 'exit 130' INT TERM HUP

tracefs_usable() {
	[ "$(id -u)" -eq 0 ] || return 1
	if [ ! -e "$TRACEFS/uprobe_events" ]; then
		mount -t tracefs nodev "$TRACEFS" 2>/dev/null || return 1
	fi
	[ -w "$TRACEFS/uprobe_events" ]
}

# The file offset of $SYM in $1, as uprobe_events wants it.
sym_offset() {
	local bin=$1 vaddr type off va filesz

	vaddr=$(nm "$bin" | awk -v s="$SYM" '$3 == s && ($2 == "T" || $2 == "t") { print $1; exit }')
	[ -n "$vaddr" ] || return 1
	vaddr=$((16#$vaddr))
	while read -r type off va _ filesz _; do
		[ "$type" = LOAD ] || continue
		if ((vaddr >= va && vaddr < va + filesz)); then
			printf '0x%x\n' $((vaddr - va + off))
			return 0
		fi
	done < <(readelf -lW "$bin")
	return 1
}

# Make event $2 on $1's $SYM in our group.
tracefs_add_event() {
	local bin=$1 ev=$2 off

	off=$(sym_offset "$bin") || return 1
	echo "p:$GRP/$ev $bin:$off $FETCH" >>"$TRACEFS/uprobe_events"
}

tracefs_hits() {
	awk -v ev="$1" '$2 == ev { n = $3 } END { print n + 0 }' "$TRACEFS/uprobe_profile"
}

# Room for $1 events on each CPU (the program may run on any of them),
# grown when short; an event takes 28 bytes there.
tracefs_size_buffer() {
	local kb=$(($1 * 40 / 1024 + 1024)) cur

	read -r cur _ <"$INST/buffer_size_kb"
	((${cur//[^0-9]/} >= kb)) || echo "$kb" >"$INST/buffer_size_kb"
}

# run_tracefs BIN EVENT N
run_tracefs() {
	local bin=$1 ev=$2 n=$3 enable=$INST/events/$GRP/$2/enable h0 h1 st rec

	tracefs_size_buffer "$n"
	: >"$INST/trace"
	h0=$(tracefs_hits "$ev")
	echo 1 >"$enable"
	"$bin" "$n" >"$TMP/out"
	echo 0 >"$enable"
	LOOP_NS=$(loop_ns "$TMP/out")
	h1=$(tracefs_hits "$ev")
	rec=$(grep -vc '^#' "$INST/trace")
	# "overrun" and "dropped events" summed over the CPUs' buffers.
	st=$(cat "$INST"/per_cpu/cpu*/stats |
		awk '/^overrun:/ { o += $2 } /^dropped events:/ { d += $3 } END { printf "%d %d", o, d }')
	COUNT_NOTE=
	if [ "$rec" -ne "$n" ] || [ "$st" != "0 0" ] || [ $((h1 - h0)) -ne "$n" ]; then
		COUNT_NOTE="recorded $rec of $n, hits $((h1 - h0)), overrun/dropped ${st/ //}"
	fi
}

# --------------------------------------------------------------- probekit

# run_probekit BIN N
run_probekit() {
	local bin=$1 n=$2 err=$TMP/probekit.err prof

	"$PROBEKIT" trace -o /dev/null --buffer-size "$PK_RING_KIB" "p:pkbench/$SYM $bin:$SYM $FETCH" \
		-- "$bin" "$n" >"$TMP/out" 2>"$err"
	LOOP_NS=$(loop_ns "$TMP/out")
	# The profile's columns by name: "# event hits missed lost ...".
	prof=$(awk -v ev="pkbench/$SYM" '
		$1 == "#" && $2 == "event" { for (i = 3; i <= NF; i++) col[$i] = i - 1; next }
		$1 == ev { printf "%s %s %s", $col["hits"], $col["missed"], $col["lost"] }' "$err")
	COUNT_NOTE=
	if [ -z "$prof" ]; then
		COUNT_NOTE="no profile line: $(head -c 120 "$err" | tr '\n' ' ')"
	elif [ "$prof" != "$n 0 0" ]; then
		COUNT_NOTE="hits/missed/lost ${prof// //} of $n"
	fi
}

# run_probekit_hist BIN N: the same event, aggregated by a hist trigger
# instead of printed. The agent still writes each record (the trigger runs
# in the tracer on the records): this is the traced program's side of it.
run_probekit_hist() {
	local bin=$1 n=$2 err=$TMP/probekit.err prof hits

	"$PROBEKIT" trace -o "$TMP/hist" --buffer-size "$PK_RING_KIB" "p:pkbench/$SYM $bin:$SYM $FETCH" \
		--trigger "$SYM: hist:keys=a.log2:vals=b" -- "$bin" "$n" >"$TMP/out" 2>"$err"
	LOOP_NS=$(loop_ns "$TMP/out")
	prof=$(awk -v ev="pkbench/$SYM" '
		$1 == "#" && $2 == "event" { for (i = 3; i <= NF; i++) col[$i] = i - 1; next }
		$1 == ev { printf "%s %s %s", $col["hits"], $col["missed"], $col["lost"] }' "$err")
	hits=$(awk '$1 == "Hits:" { print $2 }' "$TMP/hist")
	COUNT_NOTE=
	if [ "$prof" != "$n 0 0" ] || [ "$hits" != "$n" ]; then
		COUNT_NOTE="hits/missed/lost ${prof// //}, hist Hits ${hits:-none} of $n"
	fi
}

# run_probekit_stack BIN N: the printed event with its user stack, 16
# frames deep (the loop runs 15 frame-pointer frames below main).
run_probekit_stack() {
	local bin=$1 n=$2 err=$TMP/probekit.err prof

	BT_DEPTH=15 "$PROBEKIT" trace -o /dev/null --stack=16 --buffer-size "$PK_RING_KIB" \
		"p:pkbench/$SYM $bin:$SYM $FETCH" -- "$bin" "$n" >"$TMP/out" 2>"$err"
	LOOP_NS=$(loop_ns "$TMP/out")
	prof=$(awk -v ev="pkbench/$SYM" '
		$1 == "#" && $2 == "event" { for (i = 3; i <= NF; i++) col[$i] = i - 1; next }
		$1 == ev { printf "%s %s %s", $col["hits"], $col["missed"], $col["lost"] }' "$err")
	COUNT_NOTE=
	[ "$prof" != "$n 0 0" ] && COUNT_NOTE="hits/missed/lost ${prof// //} of $n"
}

# ---------------------------------------------------------------- uftrace

# run_uftrace BIN N
run_uftrace() {
	local bin=$1 n=$2 dir=$TMP/uftrace.data err=$TMP/uftrace.err rec

	rm -rf "$dir"
	uftrace record -d "$dir" --no-libcall -P "$SYM" -A "$SYM@arg1,arg2" "$bin" "$n" \
		>"$TMP/out" 2>"$err"
	LOOP_NS=$(loop_ns "$TMP/out")
	rec=$(uftrace report -d "$dir" --no-pager 2>/dev/null |
		awk -v s="$SYM" '$NF == s { print $(NF - 1); exit }')
	COUNT_NOTE=
	if [ "${rec:-0}" -ne "$n" ]; then
		COUNT_NOTE="recorded ${rec:-0} of $n: $(head -c 120 "$err" | tr '\n' ' ')"
	fi
	rm -rf "$dir"
}

uftrace_usable() {
	command -v uftrace >/dev/null && return 0
	if [ "$(id -u)" -ne 0 ] || ! command -v apt-get >/dev/null; then
		return 1
	fi
	echo "installing uftrace"
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq uftrace >/dev/null 2>&1 ||
		{ apt-get update -qq >/dev/null 2>&1 &&
			DEBIAN_FRONTEND=noninteractive apt-get install -y -qq uftrace >/dev/null 2>&1; }
	command -v uftrace >/dev/null
}

# ----------------------------------------------------------------- driver

stats() { # median min max of the arguments
	printf '%s\n' "$@" | sort -g |
		awk '{ v[NR] = $1 } END { m = NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2
			printf "%s %s %s", m, v[1], v[NR] }'
}

# The untraced loop of $1, ns per call: the median of RUNS runs of 10M calls.
untraced_ns() {
	local v=() i t

	for ((i = 0; i < RUNS; i++)); do
		"$1" 10000000 >"$TMP/out"
		t=$(loop_ns "$TMP/out")
		v+=("$(awk -v t="$t" 'BEGIN { printf "%.4f", t / 1e7 }')")
	done
	read -r t _ <<<"$(stats "${v[@]}")"
	echo "$t"
}

# measure FN KEY BASELINE-BIN MAX-N RUN-FUNCTION ARGS...: the function takes N last.
# Prints a row: ns per event above the untraced loop of BASELINE-BIN.
measure() {
	local fn=$1 key=$2 base_bin=$3 max=$4 n=20000 base per v=() i note='' m
	shift 4

	base=$(untraced_ns "$base_bin")
	"$@" "$n"
	[ -n "$COUNT_NOTE" ] && note="calibration: $COUNT_NOTE"
	if [ "$LOOP_NS" -le 0 ] 2>/dev/null || [ "$LOOP_NS" = -1 ]; then
		echo "row|$fn|$key|-|-|-|-|n/a: ${COUNT_NOTE:-the traced program printed no loop time}"
		return
	fi
	per=$(awk -v t="$LOOP_NS" -v n="$n" 'BEGIN { printf "%.4f", t / n }')
	n=$(awk -v p="$per" -v s="$RUN_S" -v m="$max" \
		'BEGIN { n = int(s * 1e9 / p); if (n > m) n = m; if (n < 1000) n = 1000; print n }')
	for ((i = 0; i < RUNS; i++)); do
		"$@" "$n"
		[ -n "$COUNT_NOTE" ] && [ -z "$note" ] && note="run $((i + 1)): $COUNT_NOTE"
		v+=("$(awk -v t="$LOOP_NS" -v b="$base" -v n="$n" 'BEGIN { printf "%.2f", t / n - b }')")
	done
	read -r -a m <<<"$(stats "${v[@]}")"
	echo "row|$fn|$key|${m[0]}|${m[1]}|${m[2]}|$RUNS x $n|${note:-ok}"
}

na_row() { # FN KEY WHY
	echo "row|$1|$2|-|-|-|-|n/a: $3"
}

for b in bt_lea bt_push bt_lea_pfe bt_push_pfe; do
	if [ ! -x "$BINDIR/$b" ]; then
		echo "missing $BINDIR/$b" >&2
		exit 2
	fi
done

TRACEFS_OK=
if tracefs_usable; then
	tracefs_remove_stale
	TRACEFS_READY=1
	mkdir "$INST" && TRACEFS_OK=1
fi
UFTRACE_OK=
uftrace_usable && UFTRACE_OK=1

for fn in lea push; do
	bin=$BINDIR/bt_$fn
	measure "$fn" trace_event "$bin" "$PK_MAX_N" run_probekit "$bin"
	measure "$fn" trace_hist "$bin" "$PK_MAX_N" run_probekit_hist "$bin"
	# A record of 16 frames takes 128 bytes more: half as many fit in the ring.
	measure "$fn" trace_stack "$bin" $((PK_MAX_N / 2)) run_probekit_stack "$bin"
	if [ -n "$TRACEFS_OK" ] && tracefs_add_event "$bin" "bt_$fn"; then
		measure "$fn" tracefs "$bin" 10000000 run_tracefs "$bin" "bt_$fn"
	else
		na_row "$fn" tracefs "needs root and a writable $TRACEFS"
	fi
	if [ -n "$UFTRACE_OK" ]; then
		# Above the patchable build's own untraced loop: its nop costs next to nothing.
		measure "$fn" uftrace "${bin}_pfe" 10000000 run_uftrace "${bin}_pfe"
	else
		na_row "$fn" uftrace "uftrace is not installed and cannot be"
	fi
done
[ -n "$UFTRACE_OK" ] && echo "uftrace $(uftrace --version | awk '{ print $2; exit }'), record --no-libcall -P $SYM -A $SYM@arg1,arg2"
exit 0
