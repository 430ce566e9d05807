#!/bin/bash
# Issue 10 item 0: a traced program's children, however started, behave as
# unprobed: fork, vfork, clone (with and without CLONE_VM), posix_spawn[p]
# with attributes and file actions, system, popen (C), and python3's
# subprocess, os.system, os.popen, os.posix_spawn[p], os.fork. Each run's
# output and exit status must equal the unprobed run's, under probekit trace
# and with the library, with probes on malloc and on the very functions the
# children go through. glibc's posix_spawn child used to die of SIGTRAP
# (system() and popen() returned status 5).
cd "$(dirname "$0")/.." || exit 1
. tests/lib.sh
W=$(realpath "$B/tests/helpers/spawn_ways")
PYW=$(realpath tests/helpers/spawn_ways.py)
LIB=$(realpath "$B/libprobekit.so")
PY=/usr/bin/python3
TOP=$PWD
cd "$tmp" || exit 1

FUNCS="execve dup2 close pthread_sigmask sigaction posix_spawn posix_spawnp vfork clone _Fork fork waitpid chdir"
defs=('p:m libc.so.6:malloc')
for f in $FUNCS; do defs+=("p:$f libc.so.6:$f"); done
defs+=('r:spawnret libc.so.6:posix_spawn ret=$retval:s32')

# same NAME PLAIN-OUT PLAIN-RC OUT RC
same() {
	if [ "$3" = "$5" ] && cmp -s "$2" "$4"; then
		pass "$1"
	else
		fail "$1" "status $5 (unprobed $3), output differs:"
		diff "$2" "$4" | detail
	fi
}

"$W" >plain.txt 2>&1
prc=$?
grep -q '^popen r: read popen-hi' plain.txt && grep -q '^system exit 3: exit 3' plain.txt ||
	fail spawn_plain "the unprobed run itself went wrong: $(head -c 300 plain.txt)"

"$PK" trace -o t1.txt 'p:m libc.so.6:malloc' -- "$W" >out.txt 2>err.txt
same spawn_trace_malloc plain.txt $prc out.txt $?
grep -q ': m: (malloc' t1.txt || fail spawn_trace_malloc_events "no malloc event"

"$PK" trace -o t2.txt "${defs[@]}" -- "$W" >out.txt 2>err.txt
same spawn_trace_every_function plain.txt $prc out.txt $?
for e in execve sigaction posix_spawn posix_spawnp vfork clone spawnret; do
	grep -q ": $e: (" t2.txt || fail spawn_trace_event_$e "no $e event: $(tail -3 err.txt)"
done
# The probe on posix_spawn sees every call (system and popen go through it).
n=$(grep -c ': posix_spawn: (' t2.txt)
[ "$n" -ge 7 ] && pass spawn_trace_sees_spawns || fail spawn_trace_sees_spawns "$n posix_spawn events, want >= 7"

syms=libc.so.6:malloc
for f in $FUNCS; do syms="$syms,libc.so.6:$f"; done
PK_SPAWN_LIB=$LIB PK_SPAWN_PROBES=$syms "$W" >out.txt 2>err.txt
rc=$?
grep -q '^spawn_ways: [1-9][0-9]* hits' err.txt || fail spawn_library_hits "$(cat err.txt)"
same spawn_library plain.txt $prc out.txt $rc
PK_SPAWN_LIB=$LIB PK_SPAWN_PROBES=libc.so.6:malloc "$W" >out.txt 2>err.txt
same spawn_library_malloc plain.txt $prc out.txt $?

if [ -x $PY ]; then
	$PY "$PYW" >pyplain.txt 2>&1
	pyrc=$?
	"$PK" trace -o t3.txt 'p:m libc.so.6:malloc' -- $PY "$PYW" >out.txt 2>err.txt
	same spawn_python_malloc pyplain.txt $pyrc out.txt $?
	"$PK" trace -o t4.txt "${defs[@]}" -- $PY -X faulthandler "$PYW" >out.txt 2>err.txt
	same spawn_python_every_function pyplain.txt $pyrc out.txt $?
	# The library in an unmodified python3: a preloaded module registering the probes.
	cat >mod.c <<-'MOD'
		#include <probekit.h>
		#include <stdlib.h>
		#include <string.h>
		static int pre(struct pk_probe *p, struct pk_regs *r) { (void)p; (void)r; return 0; }
		__attribute__((constructor)) static void init(void)
		{
			char *s = strdup(getenv("PK_SPAWN_PROBES")), *save, *w;
			for (w = strtok_r(s, ",", &save); w; w = strtok_r(NULL, ",", &save)) {
				struct pk_probe *p = calloc(1, sizeof(*p));
				p->symbol_name = w;
				p->pre_handler = pre;
				if (pk_register_probe(p))
					abort();
			}
		}
	MOD
	cc -shared -fPIC -I"$TOP/include" -o mod.so mod.c -L"$(dirname "$LIB")" -lprobekit \
		-Wl,-rpath,"$(dirname "$LIB")" || fail spawn_python_library "cannot build the module"
	PK_SPAWN_PROBES=$syms LD_PRELOAD=$PWD/mod.so $PY "$PYW" >out.txt 2>err.txt
	same spawn_python_library pyplain.txt $pyrc out.txt $?

	# A vfork child resetting its handlers must not reset the parent's (faulthandler).
	printf 'import subprocess, ctypes, sys\nsubprocess.run(["true"])\nctypes.string_at(0)\n' >fh.py
	"$PK" trace -o /dev/null 'p:m libc.so.6:malloc' -- $PY -X faulthandler fh.py >out.txt 2>&1
	grep -q 'Fatal Python error: Segmentation fault' out.txt && pass spawn_python_faulthandler ||
		fail spawn_python_faulthandler "the program's SIGSEGV handler was lost: $(head -3 out.txt)"
else
	echo "SKIP spawn_python: no $PY"
fi
exit $failed
