#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
#
# `make bench`: runs every part of the benchmark once and prints one table.
#   pk_bench, pk_bench_push  library rows, in-process (bench.c, uprobe.c)
#   trace_bench.sh           tracer rows: probekit trace, tracefs, uftrace
#   pk_scale                 register/unregister 1,000 and 10,000 probes (scale.c)
#   startup_bench.sh         probekit trace start-up with 1,024 libcrypto events
#   tests/arch/x86_64/test_coverage  jump-optimization coverage of six libraries
#   py_bench.sh              a python3 loop unprobed, under probekit, under bpftrace
# Every part prints "KIND|..." lines; this script lays them out. Figures are
# reported, never asserted: the exit status is non-zero only when a part
# could not measure at all.
#
# usage: run.sh BENCHDIR BUILD
set -u
export LC_ALL=C
OUT=$1
BUILD=$2
HERE=$(cd "$(dirname "$0")" && pwd)
TMP=$(mktemp -d "${TMPDIR:-/tmp}/pk-bench.XXXXXX") || exit 1
trap 'rm -rf "$TMP"' EXIT
ROWS=$TMP/rows
status=0

# part PREFIX COMMAND...: the command's rows into $ROWS (after "row|", PREFIX),
# anything else it says to the output.
part() {
	local prefix=$1
	shift
	"$@" >"$TMP/part" || status=1
	grep -v '^row|' "$TMP/part" | sed 's/^/  /'
	sed -n "s/^row|/row|$prefix/p" "$TMP/part" >>"$ROWS"
}

echo "probekit bench: $(uname -sr), $(nproc) CPUs, $(date -u '+%F %T') UTC, loadavg $(cut -d' ' -f1-3 /proc/loadavg)"
echo "bench_target's first instruction:"
for b in bt_lea bt_push bt_lea_pfe; do
	printf '  %-11s %s\n' "$b" "$(objdump -d --no-show-raw-insn "$OUT/$b" |
		awk '$2 == "<bench_target>:" { getline; sub(/^[ \t]*[0-9a-f]+:[ \t]*/, ""); sub(/[ \t]*#.*/, "")
			gsub(/[ \t]+/, " "); print; exit }')"
done

echo "library rows, in-process:"
part "lea|" "$OUT/pk_bench"
part "push|" "$OUT/pk_bench_push"
echo "tracer rows, the traced program's own loop:"
part "" bash "$HERE/trace_bench.sh" "$OUT" "$BUILD/probekit"

# ----------------------------------------------------------------- the table
awk -F'|' '
function ratio(x, u) {
	if (x == "-" || u == "-" || u <= 0) return "-"
	# Small ratios as 1/N, which is how the goals read (1/100 of the uprobe).
	if (x / u >= 0.1) return sprintf("%.2fx", x / u)
	if (x <= 0) return "~0"
	return sprintf("1/%.0f", u / x)
}
function cell(fn, k,    m) {
	m = med[fn, k]
	if (m == "") return sprintf("%9s %8s %17s", "-", "-", "")
	if (m == "-") return sprintf("%9s %8s %17s", "n/a", "", "")
	return sprintf("%9.1f %8s %17s", m, k == "call" ? "-" : ratio(m, med[fn, "uprobe"]),
		       sprintf("[%.1f..%.1f]", lo[fn, k], hi[fn, k]))
}
$1 == "row" { med[$2, $3] = $4; lo[$2, $3] = $5; hi[$2, $3] = $6; it[$2, $3] = $7; note[$2, $3] = $8 }
END {
	n = split("call int3 opt_pre opt_post opt_ret trace_event trace_hist trace_stack uprobe uretprobe tracefs uftrace", keys, " ")
	label["call"] = "unprobed call (absolute ns/call)"
	label["int3"] = "probekit int3 (optimization off)"
	label["opt_pre"] = "probekit optimized, empty pre"
	label["opt_post"] = "probekit optimized, pre+post"
	label["opt_ret"] = "probekit optimized retprobe"
	label["trace_event"] = "probekit trace event, 2 args"
	label["trace_hist"] = "probekit trace, hist trigger"
	label["trace_stack"] = "probekit trace --stack=16"
	label["uprobe"] = "bpftrace uprobe (kernel)"
	label["uretprobe"] = "bpftrace uretprobe (kernel)"
	label["tracefs"] = "tracefs uprobe event, 2 args"
	label["uftrace"] = "uftrace record, patchable entry"
	printf "\n%-34s %-36s %-36s\n", "", "bench_target starting with lea", "bench_target starting with push %rbp"
	printf "%-34s %9s %8s %17s %9s %8s %17s\n", "ns per call above the unprobed call", "median", "x uprobe", "[min..max]", "median", "x uprobe", "[min..max]"
	for (i = 1; i <= n; i++)
		printf "%-34s %s %s\n", label[keys[i]], cell("lea", keys[i]), cell("push", keys[i])
	print ""
	for (i = 1; i <= n; i++)
		for (f = 1; f <= 2; f++) {
			fn = f == 1 ? "lea" : "push"
			k = keys[i]
			if ((fn, k) in med && note[fn, k] != "ok")
				printf "note: %s (%s): %s\n", label[k], fn, note[fn, k]
		}
	# Issue 9 goals, reported against this run, never asserted.
	split("opt_pre:10 opt_post:25 opt_ret:25 trace_event:30", g, " ")
	for (i = 1; i in g; i++) {
		split(g[i], kv, ":")
		for (f = 1; f <= 2; f++) {
			fn = f == 1 ? "lea" : "push"
			m = med[fn, kv[1]]; u = med[fn, "uprobe"]
			if (m == "" || m == "-") continue
			s = sprintf("%s %s: %.1f ns (goal <= %d) %s", label[kv[1]], fn, m, kv[2], m <= kv[2] ? "met" : "MISSED")
			if (u != "" && u != "-")
				s = s sprintf(", %s of the uprobe (goal <= 1/100) %s", ratio(m, u), m * 100 <= u ? "met" : "MISSED")
			goals = goals "  " s "\n"
		}
	}
	if (goals != "") printf "issue 9 goals, this run:\n%s", goals
}' "$ROWS"
echo "medians of repeated runs; library rows: 11 runs of ~75 ms in one pinned process, the"
echo "uprobe rows against as many unprobed calls; tracer rows: the traced program's own loop"
echo "time per call less its untraced loop's, 5 runs (runs x iterations per row: $(awk -F'|' \
	'$1 == "row" && $7 != "-" { printf "%s%s/%s %s", sep, $2, $3, $7; sep = ", " }' "$ROWS" | head -c 2000))"

# ------------------------------------------------------------------- scale
echo
echo "pk_register_probes / pk_unregister_probes, one probe per function entry, 2 threads"
echo "calling through the library meanwhile (ms, median of the batches; goal < 100 ms each):"
printf '%-18s %6s %10s %10s %10s %10s %5s  %s\n' library probes register unregister "reg 1st" "unreg 1st" reps detail
"$OUT/pk_scale" | awk -F'|' '$1 == "scale" {
	if ($4 == "-") printf "%-18s %6s %s\n", $2, $3, $9
	else printf "%-18s %6s %10s %10s %10s %10s %5s  %s\n", $2, $3, $4, $5, $6, $7, $8, $9 }' || status=1

bash "$HERE/startup_bench.sh" "$BUILD/probekit" | awk -F'|' '$1 == "startup" {
	if ($2 == "-") { print "probekit trace start-up: " $7; next }
	printf "probekit trace -e DEFS -- openssl version, %d events on libcrypto.so.3 entries (of its %d\n", $2, $3
	printf "exported functions; the tracer takes at most 1,024): %d ms wall, %d ms untraced, +%d ms\n", $5, $4, $5 - $4
	printf "  (goal: every exported function traced within 1 s), %s, %s\n", $6, $7 }'

# ---------------------------------------------------------------- coverage
echo
"$BUILD/tests/test_coverage" | grep -v '^PASS \|^FAIL ' || true

# ------------------------------------------------------------------ python
echo
echo "python3.11 py_loop.py: N calls of PyObject_GetAttr (loop time, ms, and slowdown):"
bash "$HERE/py_bench.sh" "$BUILD/probekit" | awk -F'|' '
	$1 != "py" { print "  " $0 }
	$1 == "py" { printf "  %-18s %10s ms %7sx  %-14s %s\n", $2, $3, $4, $5, $6; m[$2] = $3 }
	END {
		if (m["unprobed"] > 0 && m["trace_event"] > m["unprobed"] && m["bpftrace"] > 0)
			printf "  time added by bpftrace / time added by probekit trace: %.1fx (goal >= 50x)\n",
				(m["bpftrace"] - m["unprobed"]) / (m["trace_event"] - m["unprobed"])
	}'
echo "loadavg at the end: $(cat /proc/loadavg)"
exit $status
