# Python's ways of starting children (subprocess through vfork and through
# posix_spawn, os.system, os.popen, os.posix_spawn[p], os.fork), printing
# what each child did and how it ended. Under any probes the output must
# be the unprobed run's.
import os
import subprocess
import sys

def show(what, rc):
    print(f"{what}: {rc}", flush=True)

r = subprocess.run(["sh", "-c", "echo subprocess-out; exit 4"], capture_output=True, text=True)
show("subprocess.run", (r.returncode, r.stdout))
r = subprocess.run(["/bin/sh", "-c", "echo no-close-fds"], close_fds=False, capture_output=True)
show("subprocess close_fds=False", (r.returncode, r.stdout))
r = subprocess.run("echo $((6*7)) >&2", shell=True, stderr=subprocess.PIPE, cwd="/")
show("subprocess shell cwd", (r.returncode, r.stderr))
p = subprocess.Popen(["cat"], stdin=subprocess.PIPE, stdout=subprocess.PIPE)
show("Popen cat", p.communicate(b"through a pipe\n"))
try:
    subprocess.run(["/no/such/program"])
except OSError as e:
    show("subprocess missing", e.errno)
show("os.system", os.system("exit 5") >> 8)
with os.popen("echo os-popen") as f:
    show("os.popen", f.read())
pid = os.posix_spawn("/bin/sh", ["sh", "-c", "exit 6"], os.environ)
show("os.posix_spawn", os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1]))
pid = os.posix_spawnp("sh", ["sh", "-c", "exit 7"], os.environ,
                      file_actions=[(os.POSIX_SPAWN_CLOSE, 0)], setsigdef=[2])
show("os.posix_spawnp", os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1]))
pid = os.fork()
if pid == 0:
    os.execvp("sh", ["sh", "-c", "exit 8"])
show("os.fork", os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1]))
sys.stdout.flush()
