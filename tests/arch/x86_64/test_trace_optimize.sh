#!/usr/bin/env bash
# probekit trace and jump optimization: a traced function's first bytes are a
# jump while it is traced, an int3 with --no-optimize (the agent turns
# optimization off for the process), and the events are the same either way.
set -u
cd "$(dirname "$0")/../../.."
. tests/lib.sh
B=${BUILD:-build}
PK=$(realpath "$B/probekit")
TGT=$(realpath "$B/tests/helpers/attach_target")
tmp=$(mktemp -d)
tpid=
trap '[ -n "$tpid" ] && { kill -9 "$tpid"; wait "$tpid"; } 2>/dev/null; rm -rf "$tmp"' EXIT

"$TGT" busy 2 100000000 >"$tmp/out" 2>"$tmp/err" &
tpid=$!
for i in $(seq 200); do grep -q ready "$tmp/err" 2>/dev/null && break; sleep 0.02; done
addr=$(nm "$TGT" | awk '$3 == "at_work" {print $1}')
base=$(awk -v p="$TGT" '$6 == p {print $1; exit}' /proc/$tpid/maps)
off=$(readelf -lW "$TGT" | awk '$1 == "LOAD" && $2 == "0x000000" {print $3; exit}')
at=$((16#${base%-*} + 16#$addr - off))
byte() { dd if=/proc/$tpid/mem bs=1 skip=$at count=1 2>/dev/null | od -An -tx1 | tr -d ' '; }
orig=$(byte)

# One traced second each way; the byte is read while the trace runs.
for mode in jump int3; do
	opt=
	[ $mode = int3 ] && opt=--no-optimize
	"$PK" trace -p $tpid $opt -d 1 'p:w at_work x=%di:s64' >"$tmp/t.$mode" 2>"$tmp/e.$mode" &
	tr=$!
	for i in $(seq 100); do grep -q ' w: ' "$tmp/t.$mode" 2>/dev/null && break; sleep 0.02; done
	seen=$(byte)
	wait $tr
	rc=$?
	events=$(grep -c ' w: ' "$tmp/t.$mode")
	case $mode in
	jump) want='e9|26' ;;
	int3) want='cc' ;;
	esac
	if [ $rc -eq 0 ] && [[ $seen =~ ^($want)$ ]] && [ "$events" -gt 0 ] && [ "$(byte)" = "$orig" ]; then
		pass "trace_$mode"
	else
		fail "trace_$mode" "rc=$rc first byte '$seen' (want $want, originally $orig), $events events, after '$(byte)'; $(tail -3 "$tmp/e.$mode")"
	fi
done
grep -q -- '--no-optimize' <("$PK" trace -h 2>&1) && pass help_no_optimize || fail help_no_optimize "not in trace -h"
