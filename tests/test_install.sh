#!/usr/bin/env bash
# make install into a staging root, then build a program with nothing but
# pkg-config's flags for probekit, against the shared and the static library.
set -u
cd "$(dirname "$0")/.."
stage=$(mktemp -d)
trap 'rm -rf "$stage"' EXIT
fail=0
check() { # name command...
	local name=$1; shift
	if "$@" >"$stage/out" 2>&1; then echo "PASS $name"; else
		echo "FAIL $name"; sed 's/^/  /' "$stage/out" | tail -15; fail=1; fi
}
check install make -s install DESTDIR="$stage" PREFIX=/usr
export PKG_CONFIG_SYSROOT_DIR=$stage PKG_CONFIG_PATH=$stage/usr/lib/pkgconfig
check pc-exists test -f "$stage/usr/lib/pkgconfig/probekit.pc"
check header-installed test -f "$stage/usr/include/probekit.h"
check exports-only-pk sh -c "! nm -D --defined-only '$stage/usr/lib/libprobekit.so' | awk '\$2 ~ /[TDBW]/ {print \$3}' | grep -v '^pk_'"
check build-shared sh -c "cc -Wall -Werror -o '$stage/consumer' tests/install/consumer.c \
	\$(pkg-config --cflags --libs probekit) -lz -Wl,-rpath,'$stage/usr/lib'"
check run-shared "$stage/consumer"
check build-static sh -c "cc -Wall -Werror -o '$stage/consumer-static' tests/install/consumer.c \
	\$(pkg-config --cflags probekit) '$stage/usr/lib/libprobekit.a' \
	\$(pkg-config --libs-only-other --static probekit) \$(pkg-config --static --libs probekit | sed 's/-lprobekit//') -lz"
check run-static "$stage/consumer-static"

# Issue 10 item 13: man pages, bash completion, and a second install with
# another PREFIX whose probekit.pc (and agent path) says that prefix.
for m in man1/probekit.1 man1/probekit-trace.1 man1/probekit-list.1 man1/probekit-probe.1 man3/probekit.3; do
	check "man-$(basename $m)" test -f "$stage/usr/share/man/$m"
done
check man-probekit-trace sh -c "MANPATH='$stage/usr/share/man' MANWIDTH=80 man probekit-trace |
	grep -q 'probekit-trace - trace a program with kprobe_events definitions'"
check man-probekit-3 sh -c "MANPATH='$stage/usr/share/man' MANWIDTH=80 man 3 probekit | grep -q pk_register_probe"
complete_words() { # words...: what bash completion offers for them
	bash -c '. /usr/share/bash-completion/bash_completion; . "$1"; shift
		COMP_WORDS=("$@"); COMP_CWORD=$((${#COMP_WORDS[@]} - 1))
		COMP_LINE="$*"; COMP_POINT=${#COMP_LINE}; _probekit; printf "%s\n" "${COMPREPLY[@]}"' \
		_ "$stage/usr/share/bash-completion/completions/probekit" "$@"
}
if [ -f /usr/share/bash-completion/bash_completion ]; then
	export -f complete_words
	export stage
	check completion-subcommands bash -c '[ "$(echo $(complete_words probekit tr))" = trace ]'
	check completion-trace-options bash -c 'complete_words probekit trace --fi | grep -qx -- --first-only'
	check completion-list-symbols-of-x env PATH="$PWD/${BUILD:-build}:$PATH" bash -c \
		'complete_words probekit list -x build/tests/helpers/trace_target tt_na | grep -qx tt_name'
else
	echo "SKIP completion: no /usr/share/bash-completion/bash_completion"
fi
check reinstall-other-prefix make -s install DESTDIR="$stage" PREFIX=/opt/pk
check pc-follows-prefix grep -qx 'includedir=/opt/pk/include' "$stage/opt/pk/lib/pkgconfig/probekit.pc"
check agent-path-follows-prefix grep -q /opt/pk/lib/probekit/libprobekit-agent.so "$stage/opt/pk/bin/probekit"
# Put the build back as it was (PREFIX=/usr/local by default) for the suites after this one.
make -s lib >/dev/null 2>&1
exit $fail
