#!/bin/bash
# Issue 10 item 7: C++ and Rust functions by the names their sources give
# them ('p:t thrower' for thrower(int), 'ns::Class::method', a Rust
# 'app::shapes::area'), printed so in the trace's %pS and in list.
cd "$(dirname "$0")/.." || exit 1
. tests/lib.sh
cd "$tmp" || exit 1
cat >t.cc <<'CC'
#include <cstdio>
#include <stdexcept>
namespace ns {
struct Class {
	int k;
	__attribute__((noinline)) int method(int x) { return x * k; }
};
}
__attribute__((noinline)) int thrower(int x)
{
	if (x > 2)
		throw std::runtime_error("big");
	return x + 1;
}
__attribute__((noinline)) double thrower(double x) { return x / 2; }
int main()
{
	ns::Class c{3};
	int s = 0;
	for (int i = 0; i < 4; i++) {
		try {
			s += thrower(i);
		} catch (const std::exception &) {
			s += 100;
		}
		s += c.method(i);
	}
	std::printf("%d %g\n", s, thrower(5.0));
	return 0;
}
CC
g++ -O1 -o t t.cc || fail cxx_build "g++ failed"
"$PK" trace 'p:t thrower(int) x=$arg1:s32' 'p:m ns::Class::method x=$arg2:s32' \
	'r:tr thrower(int) ret=$retval:s32' -- ./t >out.txt 2>err.txt
rc=$?
if [ $rc = 0 ] && [ "$(grep -cE ': t: \(thrower\+0x0/0x[0-9a-f]+\) x=[0-3]$' out.txt)" = 4 ] &&
	[ "$(grep -cE ': m: \(ns::Class::method\+0x0/0x[0-9a-f]+\) x=[0-3]$' out.txt)" = 4 ] &&
	[ "$(grep -cE ': tr: \(main\+0x[0-9a-f]+/0x[0-9a-f]+ <- thrower\) ret=[1-3]$' out.txt)" = 3 ]; then
	pass cxx_by_demangled_name
else
	fail cxx_by_demangled_name "rc=$rc: $(cat out.txt err.txt | head -8)"
fi
"$PK" trace 'p:t thrower' -- ./t >out.txt 2>err.txt
[ $? = 0 ] && grep -q ': t: (thrower+0x0' out.txt && pass cxx_plain_name || fail cxx_plain_name "$(cat err.txt)"
"$PK" list -x ./t >list.txt 2>&1
grep -qx 'ns::Class::method' list.txt && grep -qx 'thrower' list.txt && ! grep -q '^_Z' list.txt &&
	pass cxx_list_demangled || fail cxx_list_demangled "$(head -5 list.txt)"

if [ -x /usr/bin/rustc ]; then
	cat >app.rs <<'RS'
#[inline(never)]
fn add(a: i64, b: i64) -> i64 { a + b }
mod shapes {
    #[inline(never)]
    pub fn area(w: i64, h: i64) -> i64 { w * h }
}
fn main() {
    let mut s = 0;
    for i in 0..3 { s += add(i, 2) + shapes::area(i, 3); }
    println!("{}", s);
}
RS
	/usr/bin/rustc -O -o app app.rs 2>rustc.err || fail rust_build "$(head -3 rustc.err)"
	"$PK" trace 'p:a app::add a=$arg1:s64' 'r:ar app::shapes::area ret=$retval:s64' -- ./app >out.txt 2>err.txt
	rc=$?
	if [ $rc = 0 ] && [ "$(grep -cE ': a: \(app::add\+0x0/0x[0-9a-f]+\) a=[0-2]$' out.txt)" = 3 ] &&
		[ "$(grep -cE ': ar: \(app::main\+0x[0-9a-f]+/0x[0-9a-f]+ <- app::shapes::area\) ret=(0|3|6)$' out.txt)" = 3 ]
	then pass rust_by_demangled_name
	else fail rust_by_demangled_name "rc=$rc: $(cat out.txt err.txt | head -8)"; fi
	"$PK" list 'app::*' -x ./app >list.txt 2>&1
	grep -qx 'app::shapes::area' list.txt && pass rust_list_demangled || fail rust_list_demangled "$(cat list.txt)"
else
	echo "SKIP rust: no /usr/bin/rustc (Debian's rustc)"
fi
exit $failed
