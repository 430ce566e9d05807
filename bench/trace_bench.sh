#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
#
# The tracer benchmark: the cost of one RECORDED event with two fetched
# integer arguments, on the same function in the same run, for
#   - probekit trace, text output to a file;
#   - a tracefs uprobe event recorded into an instance of our own;
#   - uftrace record, on the plain binary (-P, dynamic patching), on a
#     -fpatchable-function-entry build (-P) and on a -pg build (-F).
#
# Each figure is (wall time of a traced run - median wall time of untraced
# runs of the plain binary with the same N) / N, so it includes what the
# tool adds to the whole program: start-up, attaching, the hits, and
# flushing at exit, amortised over N events. N is calibrated per case so
# that its events take about BT_RUN_SECONDS (0.5) on top of that fixed cost,
# which is reported too (a traced run with N=0), with the marginal cost per
# event that remains without it. Medians of BT_RUNS (5) runs. Reports, never
# asserts: the exit status is 0 unless the arguments are wrong.
#
# usage: trace_bench.sh BINDIR PROBEKIT
#   BINDIR holds bt_lea, bt_push, bt_lea_pg and bt_lea_pfe (trace_target.c).
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
RUN_S=${BT_RUN_SECONDS:-0.5}
TRACEFS=/sys/kernel/tracing
SYM=bt_fn
FETCH='a=%di:s32 b=%si:s32'
GRP=pkbench_$$
INST=$TRACEFS/instances/$GRP
TMP=$(mktemp -d "${TMPDIR:-/tmp}/pk-trace-bench.XXXXXX") || exit 1

# Set by the run_* functions: the run's wall time, what the tool recorded,
# and a remark when the count is not N (or the tool failed).
ELAPSED_US=0
RECORDED=0
COUNT_NOTE=

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

# Make event $2 on $1's $SYM in our group; echo its enable file.
tracefs_add_event() {
	local bin=$1 ev=$2 off

	off=$(sym_offset "$bin") || return 1
	echo "p:$GRP/$ev $bin:$off $FETCH" >>"$TRACEFS/uprobe_events" || return 1
	echo "$INST/events/$GRP/$ev/enable"
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
	local bin=$1 ev=$2 n=$3 enable=$INST/events/$GRP/$2/enable t0 h0 h1 st

	tracefs_size_buffer "$n"
	: >"$INST/trace"
	h0=$(tracefs_hits "$ev")
	echo 1 >"$enable"
	t0=${EPOCHREALTIME/./}
	"$bin" "$n" >/dev/null
	ELAPSED_US=$((${EPOCHREALTIME/./} - t0))
	echo 0 >"$enable"
	h1=$(tracefs_hits "$ev")
	RECORDED=$(grep -vc '^#' "$INST/trace")
	# "overrun" and "dropped events" summed over the CPUs' buffers.
	st=$(cat "$INST"/per_cpu/cpu*/stats |
		awk '/^overrun:/ { o += $2 } /^dropped events:/ { d += $3 } END { printf "%d %d", o, d }')
	COUNT_NOTE=
	if [ "$RECORDED" -ne "$n" ] || [ "$st" != "0 0" ] || [ $((h1 - h0)) -ne "$n" ]; then
		COUNT_NOTE="recorded $RECORDED of $n, hits $((h1 - h0)), overrun/dropped ${st/ //}"
	fi
}

# --------------------------------------------------------------- probekit

# run_probekit BIN N
run_probekit() {
	local bin=$1 n=$2 out=$TMP/probekit.txt err=$TMP/probekit.err t0 prof

	t0=${EPOCHREALTIME/./}
	"$PROBEKIT" trace -o "$out" "p:pkbench/$SYM $bin:$SYM $FETCH" -- "$bin" "$n" \
		>/dev/null 2>"$err"
	ELAPSED_US=$((${EPOCHREALTIME/./} - t0))
	RECORDED=$(wc -l <"$out" 2>/dev/null || echo 0)
	# The profile's columns by name: "# event hits missed lost ...".
	prof=$(awk -v ev="pkbench/$SYM" '
		$1 == "#" && $2 == "event" { for (i = 3; i <= NF; i++) col[$i] = i - 1; next }
		$1 == ev { printf "%s %s %s", $col["hits"], $col["missed"], $col["lost"] }' "$err")
	COUNT_NOTE=
	if [ -z "$prof" ]; then
		COUNT_NOTE="no profile line: $(head -c 120 "$err" | tr '\n' ' ')"
	elif [ "$RECORDED" -ne "$n" ] || [ "$prof" != "$n 0 0" ]; then
		COUNT_NOTE="recorded $RECORDED of $n, hits/missed/lost ${prof// //}"
	fi
	rm -f "$out"
}

# ---------------------------------------------------------------- uftrace

UFTRACE_BYTES=

# run_uftrace BIN FILTER-OPTION N: FILTER-OPTION is -P (patch) or -F.
run_uftrace() {
	local bin=$1 opt=$2 n=$3 dir=$TMP/uftrace.data err=$TMP/uftrace.err t0 bytes

	rm -rf "$dir"
	t0=${EPOCHREALTIME/./}
	uftrace record -d "$dir" --no-libcall "$opt" "$SYM" -A "$SYM@arg1,arg2" "$bin" "$n" \
		>/dev/null 2>"$err"
	ELAPSED_US=$((${EPOCHREALTIME/./} - t0))
	RECORDED=$(uftrace report -d "$dir" --no-pager 2>/dev/null |
		awk -v s="$SYM" '$NF == s { print $(NF - 1); exit }')
	RECORDED=${RECORDED:-0}
	# The task's record files (TID.dat), not the kernel's perf-cpu*.dat.
	bytes=$(cat "$dir"/[0-9]*.dat 2>/dev/null | wc -c)
	UFTRACE_BYTES=$(awk -v b="$bytes" -v n="$n" 'BEGIN { printf "%.1f", b / n }')
	COUNT_NOTE=
	if [ "$RECORDED" -ne "$n" ]; then
		COUNT_NOTE="recorded $RECORDED of $n: $(head -c 120 "$err" | tr '\n' ' ')"
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

# Wall time in us of an untraced run of $1 with N=$2.
untraced_us() {
	local t0

	t0=${EPOCHREALTIME/./}
	"$1" "$2" >/dev/null
	echo $((${EPOCHREALTIME/./} - t0))
}

untraced_median_us() {
	local v=() i m

	for ((i = 0; i < RUNS; i++)); do
		v+=("$(untraced_us "$1" "$2")")
	done
	read -r m _ <<<"$(stats "${v[@]}")"
	echo "${m%.*}"
}

# The first instruction of $SYM in $1, as objdump prints it.
first_insn() {
	objdump -d --no-show-raw-insn "$1" |
		awk -v s="<$SYM>:" '$2 == s { getline; sub(/^[ \t]*[0-9a-f]+:[ \t]*/, ""); sub(/[ \t]*#.*/, "")
			gsub(/[ \t]+/, " "); print; exit }'
}

ROWS=()

# measure LABEL BASELINE-BIN RUN-FUNCTION ARGS...: the function takes N last.
# Adds a row: N, the per-event figures (median, min, max), the tool's fixed
# cost (a traced run with N=0, less an untraced one) and the marginal cost
# per event (the per-event figure without the fixed cost), and the check.
measure() {
	local label=$1 base_bin=$2 n=2000 base fixed t v=() ns=() marg=() i note='' m mg
	shift 2

	for ((i = 0; i < RUNS; i++)); do
		"$@" 0
		v+=("$ELAPSED_US")
	done
	read -r fixed _ <<<"$(stats "${v[@]}")"
	fixed=$(awk -v t="$fixed" -v b="$(untraced_median_us "$base_bin" 0)" \
		'BEGIN { printf "%d", t - b }')
	# Grow N until the events take 50 ms beyond the fixed cost, then scale
	# it so that they take RUN_S, from the faster of two runs: one run slowed
	# by other work would make every timed run short.
	while :; do
		"$@" "$n"
		[ -n "$COUNT_NOTE" ] && note="calibration: $COUNT_NOTE"
		base=$(untraced_us "$base_bin" "$n")
		((ELAPSED_US - base - fixed >= 50000 || n >= 100000000)) && break
		n=$((n * 10))
	done
	t=$ELAPSED_US
	"$@" "$n"
	[ -n "$COUNT_NOTE" ] && note="calibration: $COUNT_NOTE"
	((ELAPSED_US < t)) && t=$ELAPSED_US
	n=$(awk -v n="$n" -v t="$t" -v b="$base" -v f="$fixed" -v s="$RUN_S" \
		'BEGIN { e = (t - b - f) / n; if (e <= 0) e = 0.001; printf "%d", s * 1e6 / e }')
	((n < 1000)) && n=1000
	base=$(untraced_median_us "$base_bin" "$n")
	for ((i = 0; i < RUNS; i++)); do
		"$@" "$n"
		[ -n "$COUNT_NOTE" ] && [ -z "$note" ] && note="run $((i + 1)): $COUNT_NOTE"
		ns+=("$(awk -v t="$ELAPSED_US" -v b="$base" -v n="$n" \
			'BEGIN { printf "%.1f", (t - b) * 1000 / n }')")
		marg+=("$(awk -v t="$ELAPSED_US" -v b="$base" -v f="$fixed" -v n="$n" \
			'BEGIN { printf "%.1f", (t - b - f) * 1000 / n }')")
	done
	read -r -a m <<<"$(stats "${ns[@]}")"
	read -r mg _ <<<"$(stats "${marg[@]}")"
	fixed=$(awk -v f="$fixed" 'BEGIN { printf "%.1f", f / 1000 }')
	ROWS+=("$label|$n|${m[0]}|${m[1]}|${m[2]}|$fixed|$mg|${note:-count ok}")
}

na_row() {
	ROWS+=("$1|-|-|-|-|-|-|n/a: $2")
}

for b in bt_lea bt_push bt_lea_pg bt_lea_pfe; do
	if [ ! -x "$BINDIR/$b" ]; then
		echo "missing $BINDIR/$b" >&2
		exit 2
	fi
done
LEA=$BINDIR/bt_lea
PUSH=$BINDIR/bt_push

echo "probekit trace vs a tracefs uprobe event vs uftrace record: one event with two"
echo "integer args ($FETCH) on $SYM(long a, long b); $RUNS runs per case, ~${RUN_S} s each"
echo "first instruction of $SYM:"
for b in bt_lea bt_push bt_lea_pg bt_lea_pfe; do
	printf '  %-11s %s\n' "$b" "$(first_insn "$BINDIR/$b")"
done

# The -pg build writes gmon.out into the working directory.
cd "$TMP" || exit 1

# Untraced per-call cost: (run with N - run with N=0) / N, N for ~0.3 s.
echo "untraced call of $SYM, ns (median of $RUNS; the -pg build runs glibc's gprof mcount):"
for b in bt_lea bt_push bt_lea_pg bt_lea_pfe; do
	z=$(untraced_median_us "$BINDIR/$b" 0)
	t=$(untraced_us "$BINDIR/$b" 10000000)
	big=$(awk -v t="$t" -v z="$z" 'BEGIN { d = t - z; if (d < 1) d = 1; printf "%d", 1e7 * 3e5 / d }')
	t=$(untraced_median_us "$BINDIR/$b" "$big")
	printf '  %-11s %s\n' "$b" "$(awk -v t="$t" -v z="$z" -v n="$big" \
		'BEGIN { printf "%.2f", (t - z) * 1000 / n }')"
done

TRACEFS_OK=
if tracefs_usable; then
	tracefs_remove_stale
	TRACEFS_READY=1
	if mkdir "$INST" && tracefs_add_event "$LEA" bt_lea >/dev/null &&
		tracefs_add_event "$PUSH" bt_push >/dev/null; then
		TRACEFS_OK=1
	fi
fi
UFTRACE_OK=
uftrace_usable && UFTRACE_OK=1

measure "probekit trace -o FILE   (lea)" "$LEA" run_probekit "$LEA"
if [ -n "$TRACEFS_OK" ]; then
	measure "tracefs uprobe event     (lea)" "$LEA" run_tracefs "$LEA" bt_lea
else
	na_row "tracefs uprobe event     (lea)" "needs root and a writable $TRACEFS"
fi
if [ -n "$UFTRACE_OK" ]; then
	measure "uftrace -P, plain build  (lea)" "$LEA" run_uftrace "$LEA" -P
	UB_PLAIN=$UFTRACE_BYTES
	measure "uftrace -P, patchable-fe (nop)" "$LEA" run_uftrace "$BINDIR/bt_lea_pfe" -P
	UB_PFE=$UFTRACE_BYTES
	measure "uftrace -F, -pg build    (mcount)" "$LEA" run_uftrace "$BINDIR/bt_lea_pg" -F
else
	na_row "uftrace record" "uftrace is not installed and cannot be"
fi
measure "probekit trace -o FILE   (push)" "$PUSH" run_probekit "$PUSH"
if [ -n "$TRACEFS_OK" ]; then
	measure "tracefs uprobe event     (push)" "$PUSH" run_tracefs "$PUSH" bt_push
else
	na_row "tracefs uprobe event     (push)" "needs root and a writable $TRACEFS"
fi

# The ratio is to the tracefs row of the same first instruction; uftrace's
# rows run the lea function's body, so they compare with the lea row.
ref() {
	local r label

	for r in "${ROWS[@]}"; do
		IFS='|' read -r label _ <<<"$r"
		if [[ $label == tracefs*"($1)" ]]; then
			IFS='|' read -r _ _ med _ <<<"$r"
			echo "$med"
			return
		fi
	done
	echo -
}
REF_LEA=$(ref lea)
REF_PUSH=$(ref push)

echo
printf '%-34s %8s %9s %9s %9s %9s %8s %9s  %s\n' case N "ns/event" min max "x tracefs" \
	"fixed ms" "marginal" check
for r in "${ROWS[@]}"; do
	IFS='|' read -r label n med min max fixed mg note <<<"$r"
	case $label in
	*"(push)") rf=$REF_PUSH ;;
	*) rf=$REF_LEA ;;
	esac
	ratio=-
	if [ "$med" != - ] && [ "$rf" != - ]; then
		ratio=$(awk -v a="$med" -v b="$rf" 'BEGIN { printf "%.2f", a / b }')
	fi
	printf '%-34s %8s %9s %9s %9s %9s %8s %9s  %s\n' "$label" "$n" "$med" "$min" "$max" \
		"$ratio" "$fixed" "$mg" "$note"
done
echo
echo "ns/event: (traced wall time - median untraced wall time of the plain build, same N) / N;"
echo "  x tracefs: to the tracefs row of the same first instruction (uftrace's to lea's);"
echo "  fixed ms: a traced run with N=0 less an untraced one (start-up, attach, exit);"
echo "  marginal: ns/event without the fixed cost, the cost of one more event."
echo "probekit: events as ftrace text in a file; counted as lines, and hits=N, missed=lost=0."
echo "tracefs: event enabled in instance $GRP only, buffer sized for N on each CPU;"
echo "  counted as lines in its trace, and uprobe_profile hits, overrun and dropped checked."
if [ -n "$UFTRACE_OK" ]; then
	echo "uftrace $(uftrace --version | awk '{ print $2; exit }'): record --no-libcall, $SYM only,"
	echo "  -A $SYM@arg1,arg2: an entry and an exit record per call, each timestamped, plus"
	echo "  both args as 8-byte values; ${UB_PLAIN:-?} B/call (-P plain), ${UB_PFE:-?} B/call"
	echo "  (-P patchable); counted as the Calls of uftrace report."
fi
# Other work on the machine shows in every figure: say how much there was.
echo "loadavg: $(cat /proc/loadavg)"
exit 0
