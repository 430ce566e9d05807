#!/usr/bin/env bash
# probekit trace -p on a real server from Debian's packages: redis-server on
# loopback, under load from redis-benchmark and from a client that checks
# every reply, is attached, traced and detached 20 times in a row. Each cycle
# must end cleanly (exit 0, events, agent unloaded, code bytes as before); at
# the end no request may have failed and the server must still answer.
# Latencies are printed as INFO lines, not asserted: the machine's load
# decides them. One PASS/FAIL line per check.
set -u
cd "$(dirname "$0")/.."
. tests/lib.sh
B=${BUILD:-build}
PK=$(realpath "$B/probekit")
CYCLES=20
bg=()
cleanup() {
	local p
	for p in "${bg[@]}"; do kill -9 "$p" 2>/dev/null && wait "$p" 2>/dev/null; done
	rm -rf "$tmp"
}
trap cleanup EXIT

if ! command -v redis-server >/dev/null || ! command -v redis-benchmark >/dev/null ||
	! command -v redis-cli >/dev/null; then
	scripts/deps.sh >"$tmp/deps" 2>&1
fi
for c in redis-server redis-cli redis-benchmark python3; do
	if ! command -v $c >/dev/null; then
		fail tools_installed "$c missing; scripts/deps.sh said: $(tail -5 "$tmp/deps" 2>/dev/null)"
		exit 1
	fi
done
pass tools_installed

# The load generator, the code snapshot and the timed tracer run. Python
# because a reply must be compared byte for byte and a latency taken at the
# line that carries the first event, which a shell loop cannot do precisely.
cat >"$tmp/h.py" <<'EOF'
import hashlib, os, re, signal, socket, subprocess, sys, threading, time


class Conn:
    def __init__(self, port):
        self.s = socket.create_connection(("127.0.0.1", port), timeout=5)
        self.s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.f = self.s.makefile("rb")

    def send(self, *cmds):
        buf = []
        for c in cmds:
            buf.append(b"*%d\r\n" % len(c))
            buf += [b"$%d\r\n%s\r\n" % (len(a), a) for a in c]
        self.s.sendall(b"".join(buf))

    def reply(self):
        line = self.f.readline()
        if not line.endswith(b"\r\n"):
            raise OSError("connection closed by the server")
        if line[:1] != b"$":
            return line[:-2]
        n = int(line[1:-2])
        data = self.f.read(n + 2) if n >= 0 else b"\r\n"
        if len(data) != max(n, 0) + 2:
            raise OSError("short bulk reply")
        return data[:-2] if n >= 0 else None

    def close(self):
        try:
            self.s.close()
        except OSError:
            pass


def load(port, nthreads, status):
    """SET then GET of a value unique to the request, until SIGTERM.
    A wrong reply, an error, a timeout (5 s) or a lost connection fails
    the pair; the keys cycle over a small set so the data does not grow."""
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    lock = threading.Lock()
    tot = {"ok": 0, "failed": 0, "max_ms": 0.0}
    errs = []

    def worker(t):
        c, i = None, 0
        while not stop.is_set():
            key, val = b"pk:%d:%d" % (t, i % 256), b"v%d-%d" % (t, i)
            i += 1
            try:
                if c is None:
                    c = Conn(port)
                t0 = time.monotonic()
                c.send([b"SET", key, val], [b"GET", key])
                r1, r2 = c.reply(), c.reply()
                ms = (time.monotonic() - t0) * 1000
                good = (r1 == b"+OK") + (r2 == val)
                bad = None if good == 2 else "SET %r -> %r, GET -> %r" % (val, r1, r2)
            except (OSError, ValueError) as e:
                ms, good, bad = 0.0, 0, "%s: %s" % (type(e).__name__, e)
                if c:
                    c.close()
                c = None
            with lock:
                tot["ok"] += good
                tot["failed"] += 2 - good
                tot["max_ms"] = max(tot["max_ms"], ms)
                if bad and len(errs) < 10:
                    errs.append(bad)
            if bad:
                time.sleep(0.05)
        if c:
            c.close()

    ths = [threading.Thread(target=worker, args=(t,)) for t in range(nthreads)]
    for th in ths:
        th.start()
    while not stop.wait(0.1):
        with lock:
            ok = tot["ok"]
        with open(status + ".new", "w") as f:
            f.write("%d\n" % ok)
        os.rename(status + ".new", status)
    for th in ths:
        th.join()
    print("requests %d failed %d max_ms %.1f" % (tot["ok"] + tot["failed"], tot["failed"], tot["max_ms"]))
    for e in errs:
        print("error " + e)


def count(port, n):
    """N SETs on one connection, each answered before the next is sent."""
    c = Conn(port)
    for i in range(n):
        c.send([b"SET", b"pk:count", b"%d" % i])
        if c.reply() != b"+OK":
            sys.exit("SET %d was not answered +OK" % i)
    c.close()


def snap(pid):
    """Every executable mapping of a file: its path, offset, size and the
    sha256 of the bytes the process sees; anonymous executable mappings by
    address (the agent's slots must not outlive it). The agent is left out."""
    fd = os.open("/proc/%s/mem" % pid, os.O_RDONLY)
    with open("/proc/%s/maps" % pid) as maps:
        for line in maps:
            f = line.split(maxsplit=5)
            path = f[5].strip() if len(f) > 5 else ""
            if "x" not in f[1] or "probekit-agent" in path or path in ("[vdso]", "[vsyscall]"):
                continue
            if not path.startswith("/"):
                print("anonymous executable mapping %s %s %s" % (f[0], f[1], path))
                continue
            lo, hi = (int(x, 16) for x in f[0].split("-"))
            h, at = hashlib.sha256(), lo
            while at < hi:
                chunk = os.pread(fd, min(hi - at, 1 << 20), at)
                if not chunk:
                    break
                h.update(chunk)
                at += len(chunk)
            print("%s +%s %d %s" % (path, f[2], at - lo, h.hexdigest()))
    os.close(fd)


EVENT = re.compile(rb"\] \S+ +\d+\.\d+: \w+: \(")


def cycle(mode, out, err, argv):
    """Runs the tracer; times its first event line and, with mode "int",
    SIGINT 0.3 s after that line to its exit."""
    first = [None]
    seen = threading.Event()
    t0 = time.monotonic()
    p = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=open(err, "wb"))

    def drain():
        with open(out, "wb") as f:
            for line in p.stdout:
                if first[0] is None and EVENT.search(line):
                    first[0] = time.monotonic()
                    seen.set()
                f.write(line)

    th = threading.Thread(target=drain)
    th.start()
    exit_ms = None
    try:
        if mode == "int":
            if seen.wait(15):
                time.sleep(0.3)
            t1 = time.monotonic()
            p.send_signal(signal.SIGINT)
            rc = p.wait(15)
            exit_ms = (time.monotonic() - t1) * 1000
        else:
            rc = p.wait(30)
    except subprocess.TimeoutExpired:
        p.kill()
        p.wait()
        rc = "timeout"
    th.join()
    fmt = lambda v: "-" if v is None else "%.1f" % v
    print("rc %s first_ms %s exit_ms %s" % (rc, fmt(first[0] and (first[0] - t0) * 1000), fmt(exit_ms)))


if __name__ == "__main__":
    cmd, a = sys.argv[1], sys.argv[2:]
    if cmd == "load":
        load(int(a[0]), int(a[1]), a[2])
    elif cmd == "count":
        count(int(a[0]), int(a[1]))
    elif cmd == "snap":
        snap(a[0])
    elif cmd == "cycle":
        cycle(a[0], a[1], a[2], a[3:])
    elif cmd == "freeport":
        s = socket.socket()
        s.bind(("127.0.0.1", 0))
        print(s.getsockname()[1])
EOF
H() { python3 "$tmp/h.py" "$@"; }
agent_mapped() { grep -q probekit-agent "/proc/$1/maps"; }
rss_kb() { awk '/^VmRSS:/ {print $2}' "/proc/$1/status"; }
# jemalloc's count of the bytes allocated in the server, the agent's mallocs included.
allocated() { redis-cli -p "$port" info memory | tr -d '\r' | awk -F: '$1 == "allocator_allocated" {print $2}'; }
stats() { # label file: median and max of the numbers in file
	sort -n "$2" | awk -v l="$1" '{v[NR] = $1} END {
		if (NR) printf "INFO %s over %d cycles: median %.1f ms, max %.1f ms\n", l, NR, v[int((NR + 1) / 2)], v[NR] }'
}

# The server: loopback, a free high port, no persistence, its own directory.
rpid=
for _ in 1 2 3; do
	port=$(H freeport)
	redis-server --bind 127.0.0.1 --port "$port" --save '' --appendonly no --dir "$tmp" \
		--logfile "$tmp/redis.log" --daemonize no &
	rpid=$!
	bg+=("$rpid")
	for _ in $(seq 100); do
		[ "$(redis-cli -p "$port" ping 2>/dev/null)" = PONG ] && break
		kill -0 $rpid 2>/dev/null || break
		sleep 0.05
	done
	kill -0 $rpid 2>/dev/null && break
done
if [ "$(redis-cli -p "$port" ping 2>/dev/null)" = PONG ]; then pass server_started; else
	fail server_started "$(tail -5 "$tmp/redis.log")"
	exit 1
fi

# processCommand runs once per command received; Debian's binary is stripped
# but exports its functions in .dynsym (for its own crash reports). libc's read
# and epoll_wait are the per-request system calls of its event loop.
server_bin=$(readlink -f /proc/$rpid/exe)
if nm -D --defined-only "$server_bin" | grep -qE ' T processCommand$'; then
	pass probe_symbol_exported
else
	fail probe_symbol_exported "$server_bin exports no processCommand"
fi
# Exactly one processCommand hit per request, and at least one read.
"$PK" trace -p $rpid -d 20 -o "$tmp/calib" 'p:pc processCommand' 'p:rd libc.so.6:read fd=$arg1:s32' \
	2>"$tmp/calib.err" &
pk=$!
for _ in $(seq 200); do grep -q 'attached to process' "$tmp/calib.err" && break; sleep 0.05; done
H count "$port" 100 >"$tmp/count" 2>&1
kill -INT $pk
wait $pk
rc=$?
if [ $rc -eq 0 ] && grep -qE '^probekit/pc +100 +0 +0 +0$' "$tmp/calib.err" &&
	awk '$1 == "probekit/rd" && $2 >= 100 {ok = 1} END {exit !ok}' "$tmp/calib.err"; then
	pass probe_hit_per_request
else
	fail probe_hit_per_request "rc=$rc $(cat "$tmp/count" "$tmp/calib.err")"
fi

# The load, for the whole of the 20 cycles: redis-benchmark in a loop (it
# checks no reply, so it is only pressure: it must still be running at the
# end, it exits on a lost connection) and the checking client.
redis-benchmark -h 127.0.0.1 -p "$port" -c 8 -r 10000 -l -q -t set,get,incr,lpush,lpop \
	>"$tmp/bench" 2>&1 &
bench=$!
bg+=("$bench")
# Not through H: $! must be python itself, for SIGTERM to reach it.
python3 "$tmp/h.py" load "$port" 4 "$tmp/load.status" >"$tmp/load" 2>&1 &
loader=$!
bg+=("$loader")
for _ in $(seq 100); do [ "$(cat "$tmp/load.status" 2>/dev/null || echo 0)" -gt 1000 ] && break; sleep 0.05; done

code0=$(H snap $rpid)
rss0=$(rss_kb $rpid)
alloc0=$(allocated)
defsets=(
	'p:pc processCommand c=$arg1:x64'
	'p:pc processCommand|r:rd libc.so.6:read ret=$retval:s64'
	# epoll_wait is where the server sleeps: detaching finds a return pending.
	'p:pc processCommand|r:ew libc.so.6:epoll_wait ret=$retval:s32'
)
bad_rc='' bad_events='' bad_unloaded='' bad_mapped='' bad_code=''
for f in first exit attach detach; do : >"$tmp/$f"; done
for i in $(seq $CYCLES); do
	IFS='|' read -r -a defs <<<"${defsets[$((i % 3))]}"
	if [ $((i % 2)) = 0 ]; then mode=int dur=20; else mode=d dur=0.4; fi
	out=$tmp/c$i.out err=$tmp/c$i.err
	read -r _ rc _ first _ exitms < <(H cycle $mode "$out" "$err" "$PK" trace -p $rpid -d $dur "${defs[@]}")
	att=$(sed -nE 's/^probekit trace: attached to process .* in ([0-9.]+) ms.*/\1/p' "$err")
	det=$(sed -nE 's/^probekit trace: detached from process .* in ([0-9.]+) ms.*/\1/p' "$err")
	echo "INFO cycle $i ($mode, ${defs[*]}): first event ${first} ms, SIGINT to exit ${exitms} ms," \
		"attached in ${att:--} ms, detached in ${det:--} ms"
	[ "$first" != - ] && echo "$first" >>"$tmp/first"
	[ "$exitms" != - ] && echo "$exitms" >>"$tmp/exit"
	[ -n "$att" ] && echo "$att" >>"$tmp/attach"
	[ -n "$det" ] && echo "$det" >>"$tmp/detach"
	[ "$rc" = 0 ] || bad_rc+="cycle $i: rc=$rc $(tail -3 "$err" | tr '\n' ' ')"$'\n'
	for d in "${defs[@]}"; do
		ev=${d#*:}
		ev=${ev%% *}
		grep -qE ": $ev: \(" "$out" || bad_events+="cycle $i: no $ev event; $(head -c 300 "$err" | tr '\n' ' ')"$'\n'
	done
	grep -q 'the agent unloaded$' "$err" || bad_unloaded+="cycle $i: $(grep -v '^probekit/\|^#' "$err" | tr '\n' ' ')"$'\n'
	if ! kill -0 $rpid 2>/dev/null; then
		fail server_survives_cycles "died in cycle $i: $(tail -20 "$tmp/redis.log")"
		exit 1
	fi
	agent_mapped $rpid && bad_mapped+="cycle $i: $(grep probekit-agent /proc/$rpid/maps | head -2)"$'\n'
	code=$(H snap $rpid)
	[ "$code" = "$code0" ] || bad_code+="cycle $i: $(diff <(echo "$code0") <(echo "$code") | head -6)"$'\n'
done
report() { # name failures
	if [ -z "$2" ]; then pass "$1"; else fail "$1" "$(printf '%s' "$2" | detail)"; fi
}
report cycles_exit_0 "$bad_rc"
report cycles_print_events "$bad_events"
report cycles_agent_unloaded "$bad_unloaded"
report cycles_agent_unmapped "$bad_mapped"
report cycles_code_unchanged "$bad_code"
rss1=$(rss_kb $rpid)
alloc1=$(allocated)

# The load is stopped only now: it ran through all the cycles.
if kill -0 $bench 2>/dev/null; then pass benchmark_ran_throughout; else
	wait $bench
	fail benchmark_ran_throughout "exit $?: $(tr '\r' '\n' <"$tmp/bench" | tail -5)"
fi
kill $bench 2>/dev/null
kill -TERM $loader
wait $loader
read -r _ nreq _ nfail _ maxms <"$tmp/load"
echo "INFO checking client: $nreq requests, $nfail failed, slowest SET+GET round trip $maxms ms"
if [ "${nreq:-0}" -gt 0 ] && [ "${nfail:-1}" = 0 ]; then pass no_failed_request; else
	fail no_failed_request "$(detail <"$tmp/load")"; fi
if [ "$(redis-cli -p "$port" ping 2>&1)" = PONG ] && [ "$(redis-cli -p "$port" get pk:count)" = 99 ]
then pass server_still_serving; else fail server_still_serving "$(tail -5 "$tmp/redis.log")"; fi

echo "INFO server RSS ${rss0} kB before the first attach, ${rss1} kB after the last detach:" \
	"$(((rss1 - rss0) / 1024)) MB more"
if [ $((rss1 - rss0)) -lt $((50 * 1024)) ]; then pass rss_growth_under_50MB; else
	fail rss_growth_under_50MB "grew by $(((rss1 - rss0) / 1024)) MB over $CYCLES cycles"; fi
# What the agents left allocated: the load's own data is bounded (keys reused),
# so growth is what a detach did not free.
if [ -n "$alloc0" ] && [ -n "$alloc1" ] && [ "$alloc0" -gt 0 ]; then
	per=$(((alloc1 - alloc0) / CYCLES))
	echo "INFO the server's allocator holds $(((alloc1 - alloc0) / 1024)) KiB more after $CYCLES cycles ($per bytes a cycle)"
	if [ $((alloc1 - alloc0)) -lt $((10 * 1024 * 1024)) ]; then pass no_leak_per_attach; else
		fail no_leak_per_attach "$((alloc1 - alloc0)) bytes still allocated after $CYCLES attach/detach cycles, $per a cycle"
	fi
else
	echo "INFO the server's allocator reports no allocated byte count; leak check not possible"
fi

stats "launch to first event" "$tmp/first"
stats "SIGINT to exit" "$tmp/exit"
stats "attached in (probekit's own count)" "$tmp/attach"
stats "detached in (probekit's own count)" "$tmp/detach"
exit $failed
