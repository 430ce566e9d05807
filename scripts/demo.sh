#!/usr/bin/env bash
# `make demo`: runs the bundled program, build/demo/worker, under each example
# module in turn, preloaded as a kernel module is insmod'ed, so that the
# probes' output shows up among the program's own lines (stderr and stdout
# merged, in the order they happened). BUILD selects the build tree, as for
# make; a sanitizer build's modules get the ASan runtime preloaded first.
set -u
cd "$(dirname "$0")/.." || exit 1
B=${BUILD:-build}
worker=$B/demo/worker

for f in "$worker" "$B"/examples/{kprobe_example,exec_tracer,kretprobe_example,fault_inject}.so; do
	if [ ! -e "$f" ]; then
		echo "demo: $f is missing; run make all first" >&2
		exit 1
	fi
done

asan_rt=
if objdump -p "$B/examples/kprobe_example.so" | grep -q 'NEEDED.*libasan'; then
	asan_rt="$(gcc -print-file-name=libasan.so) "
fi

# demo MODULE WHAT [VAR=VALUE...]
demo() {
	local mod=$1 what=$2 out
	shift 2
	printf '\n== %s: %s\n' "$mod" "$what"
	echo "\$ ${*:+$* }LD_PRELOAD=$B/examples/$mod.so $worker"
	out=$(timeout 60 env "$@" LD_LIBRARY_PATH="$B" LD_PRELOAD="$asan_rt$B/examples/$mod.so" \
		"$worker" 2>&1)
	echo "$out"
	if grep -q 'error while loading shared libraries' <<<"$out"; then
		echo "demo: the modules cannot be loaded from $B (see the loader's message above)" >&2
		exit 1
	fi
}

demo kprobe_example "pre and post handlers on do_work, with its third argument"
demo exec_tracer "pid, comm and file name of each execve and open, as the do_execve tracer"
demo kretprobe_example "return value and duration of each do_work call"
demo fault_inject "the third malloc call fails; the program copes" PK_PARAM_nth=3

# The tracer: the kernel's kprobe_events language, recorded in-process.
if [ -x "$B/probekit" ]; then
	printf '\n== probekit trace: entry and return probes with arguments, as ftrace prints them\n'
	defs=('p:work do_work a=%di:s32 b=%si:s32 c=$arg3:s32'
		'r:workret do_work ret=$retval:s32'
		'p:open libc.so.6:open64 path=+0(%di):string flags=%si:x32')
	printf '$ %s/probekit trace' "$B"
	printf " '%s'" "${defs[@]}"
	printf ' -- %s\n' "$worker"
	"$B/probekit" trace "${defs[@]}" -- "$worker" 2>&1
fi
