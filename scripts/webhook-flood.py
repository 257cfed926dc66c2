#!/usr/bin/env python3
"""Floods fluxdeck's webhook receiver while a paid job waits for its call, and reports the
receiving process's descriptors and memory, and whether the job still ends well.

    swift build -c release && python3 scripts/webhook-flood.py .build/release/fluxdeck

It starts the simulator (its webhook sent late, after both floods), runs `generate --webhook-listen`, then
opens 1,100 connections that send half a header, a byte at a time, and 400 that announce and
send 1 MB bodies without the secret. Figures are sampled from /proc every 100 ms.
"""
import os, resource, socket, subprocess, sys, tempfile, threading, time

binary = os.path.abspath(sys.argv[1] if len(sys.argv) > 1 else ".build/release/fluxdeck")
api_port, hook_port = 18_700, 18_790
key = "flood_test_key_0123456789"
soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
resource.setrlimit(resource.RLIMIT_NOFILE, (min(hard, 8192), hard))

work = tempfile.mkdtemp(prefix="fluxdeck-flood-")
env = dict(os.environ, HOME=work, XDG_DATA_HOME=f"{work}/data", XDG_STATE_HOME=f"{work}/state",
           XDG_CONFIG_HOME=f"{work}/config", XDG_CACHE_HOME=f"{work}/cache", BFL_API_KEY=key)
env.pop("BFL_API_ENDPOINT", None)
simulator = subprocess.Popen([binary, "simulate", "--port", str(api_port), "--key", key, "--time-scale", "0.1",
                              "--faults", "webhook-late=150s"], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

def wait_port(port):
    for _ in range(200):
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            time.sleep(0.05)
    raise SystemExit(f"nothing listens on {port}")

wait_port(api_port)
started = time.monotonic()
job = subprocess.Popen([binary, "generate", "--endpoint", f"http://127.0.0.1:{api_port}",
                        "--webhook-listen", f"127.0.0.1:{hook_port}", "--webhook-margin", "300",
                        "--model", "flux-2-klein-4b", "--prompt", "a gull", "--width", "256", "--height", "256",
                        "--output-dir", f"{work}/out"], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
wait_port(hook_port)

def sample():
    fds = len(os.listdir(f"/proc/{job.pid}/fd"))
    with open(f"/proc/{job.pid}/status") as f:
        rss = next(int(l.split()[1]) for l in f if l.startswith("VmRSS:"))
    return fds, rss // 1024

peaks = {"fds": 0, "rss": 0}
stop = threading.Event()
def sampler():
    while not stop.is_set() and job.poll() is None:
        try:
            fds, rss = sample()
        except (OSError, StopIteration):
            break
        peaks["fds"] = max(peaks["fds"], fds)
        peaks["rss"] = max(peaks["rss"], rss)
        time.sleep(0.1)
threading.Thread(target=sampler, daemon=True).start()
base_fds, base_rss = sample()
print(f"before the flood: {base_fds} descriptors, {base_rss} MB resident")

# 1,100 half-sent headers, dripped a byte every 500 ms.
half = []
for _ in range(1100):
    s = socket.socket()
    s.setblocking(False)
    try:
        s.connect(("127.0.0.1", hook_port))
    except BlockingIOError:
        pass
    half.append(s)
def drip():
    t_end = time.monotonic() + 8
    first = True
    while time.monotonic() < t_end:
        for s in half:
            try:
                s.send(b"POST /fluxdeck/webhook HTTP/1.1\r\nHost: x\r\nX-Pad: " if first else b"a")
            except OSError:
                pass
        first = False
        time.sleep(0.5)
drip()
print(f"1,100 half-sent headers for 8 s: peak {peaks['fds']} descriptors, {peaks['rss']} MB")
for s in half:
    s.close()

# 400 bodies of 1 MB without the secret, 50 at a time.
body = b"x" * 1_048_576
answers = {}
def stranger(_):
    try:
        s = socket.create_connection(("127.0.0.1", hook_port), timeout=20)
        s.sendall(b"POST /fluxdeck/webhook HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 1048576\r\n\r\n")
        try:
            s.sendall(body)
        except OSError:
            pass
        line = s.recv(64).split(b"\r\n")[0].decode(errors="replace")
        answers[line] = answers.get(line, 0) + 1
        s.close()
    except OSError as error:
        answers[type(error).__name__] = answers.get(type(error).__name__, 0) + 1
for start in range(0, 400, 50):
    threads = [threading.Thread(target=stranger, args=(i,)) for i in range(50)]
    for t in threads: t.start()
    for t in threads: t.join()
print(f"400 bodies of 1 MB without the secret: peak {peaks['fds']} descriptors, {peaks['rss']} MB; answers {answers}")

print(f"the floods are over after {time.monotonic() - started:.1f} s; the job is still waiting: {job.poll() is None}")
out, err = job.communicate(timeout=300)
stop.set()
print(f"the job: exit {job.returncode} after {time.monotonic() - started:.1f} s; "
      f"images {len([n for n in os.listdir(f'{work}/out') if not n.endswith('.json')]) if os.path.isdir(f'{work}/out') else 0}")
tail = err.decode(errors="replace").strip().splitlines()
refusals = sum(1 for l in tail if "refused" in l)
print(f"stderr: {len(tail)} lines, {refusals} refusals logged; last: {tail[-1] if tail else ''}")
simulator.terminate()
simulator.wait()
