# SPDX-License-Identifier: MIT
# The real-program row of `make bench`: a pure-Python loop whose every
# iteration calls the interpreter's exported PyObject_GetAttr once (the
# getattr builtin without a default goes straight to it; a plain o.x would
# take 3.11's specialized LOAD_ATTR and call nothing). Prints how long the
# loop took, so that interpreter start-up and a tracer's attach do not count.
import sys
import time


class C:
    pass


o = C()
o.x = 1
n = int(sys.argv[1])
get = getattr
t = time.perf_counter_ns()
for _ in range(n):
    get(o, "x")
print("loop_ns", time.perf_counter_ns() - t, flush=True)
