"""What the integration test drivers (tests/connector, tests/bridge) share: paths, the check
counter with its closing `N passed, N failed` line, starting processes with a clean
environment (no proxies: libwebsockets would apply http_proxy even to loopback), bounded
waits, and the comparison of an event stream with 1.2.3's (compare_events.py --events).

SPDX-License-Identifier: MIT
"""
import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
B = os.path.join(ROOT, os.environ.get("B", "build"))
CORPUS = os.path.join(ROOT, "tests", "fixtures", "oracle", "v3")
COMPARE = os.path.join(ROOT, "tests", "tools", "compare_events.py")

_counts = {"passed": 0, "failed": 0}
_procs = []


def check(cond, what):
    _counts["passed" if cond else "failed"] += 1
    if not cond:
        print("FAIL: " + what, flush=True)


def finish():
    """Print the closing line; the exit status."""
    print("%d passed, %d failed" % (_counts["passed"], _counts["failed"]))
    return 1 if _counts["failed"] else 0


def clean_env(base=None):
    """`base` (default: ours) without the proxy variables"""
    e = dict(os.environ if base is None else base)
    for k in ("http_proxy", "https_proxy", "HTTP_PROXY", "HTTPS_PROXY"):
        e.pop(k, None)
    return e


def start(cmd, env=None, **kw):
    """A process that kill_all() ends if the test did not (env: its environment, default ours)."""
    p = subprocess.Popen(cmd, env=clean_env(env), **kw)
    _procs.append(p)
    return p


def kill_all():
    for p in _procs:
        if p.poll() is None:
            p.kill()
            p.wait()


def free_port():
    """a loopback TCP port nobody listens on now"""
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def listening(port):
    """whether something accepts connections on 127.0.0.1:port"""
    try:
        socket.create_connection(("127.0.0.1", port), 0.2).close()
        return True
    except OSError:
        return False


def json_lines(lines):
    """the lines that are JSON, parsed; the others (log text, a half-written last line) skipped"""
    out = []
    for line in lines:
        try:
            out.append(json.loads(line))
        except ValueError:
            pass
    return out


def written_json_lines(path):
    """the complete lines of a file another process is still writing, each parsed as JSON: a
    line longer than stdio's buffer reaches the file in pieces, so a last line without its
    newline is left for the next read. A complete line that is not JSON raises."""
    with open(path) as f:
        text = f.read()
    return [json.loads(line) for line in text.split("\n")[:-1] if line.strip()]


def events(stdout):
    """tt-connect's events: one JSON object a line of its standard output"""
    return json_lines(stdout.splitlines())


def log_lines(path):
    """the simulator's request log (JSON lines); [] while it does not exist"""
    try:
        with open(path) as f:
            return json_lines(f)
    except OSError:
        return []

def start_http(answer):
    """A loopback HTTP server (threads of its own, stopped with .shutdown()) whose every GET gets
    answer(path, headers) = (status, [(name, value)], body): (server, its base URL)."""
    import http.server
    import socketserver
    import threading

    class Handler(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args):
            pass

        def do_GET(self):
            status, headers, body = answer(self.path, self.headers)
            self.send_response(status)
            for k, v in headers:
                self.send_header(k, v)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

    class Server(socketserver.ThreadingMixIn, http.server.HTTPServer):
        daemon_threads = True

    srv = Server(("127.0.0.1", 0), Handler)
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    return srv, "http://127.0.0.1:%d" % srv.server_address[1]


def sim(tmp, name, args, scenario=None, listen="127.0.0.1:0", timeout=5):
    """tiktok-live-sim with `args` (plus, when given, `scenario`: a list of objects written
    as the scenario file NAME.jsonl), its request log at NAME.log: (process, base URL or None
    when it did not say where it listens within `timeout`, the log's path)"""
    log = os.path.join(tmp, name + ".log")
    if scenario is not None:
        path = os.path.join(tmp, name + ".jsonl")
        with open(path, "w") as f:
            f.write("\n".join(json.dumps(x) for x in scenario) + "\n")
        args = ["--scenario", path] + list(args)
    out = os.path.join(tmp, name + ".out")
    p = start([os.path.join(B, "tiktok-live-sim"), "--listen", listen, "--log", log] + list(args),
              stdout=open(out, "w"), stderr=subprocess.STDOUT)
    url = []

    def ready():
        try:
            url.extend(json.loads(l)["listening"] for l in open(out) if '"listening"' in l)
        except (OSError, ValueError, KeyError):
            pass
        return bool(url) or p.poll() is not None

    wait_for(ready, timeout)
    return p, (url[0] if url else None), log


def tt_connect_cmd(handle, base, opts):
    """examples/tt-connect HANDLE with every endpoint at `base`, the direct path's push_base
    included (whatever flow `opts` choose, nothing goes to TikTok), then `opts` (key=value; a
    later one wins)"""
    push = base.replace("https://", "wss://").replace("http://", "ws://")
    return [os.path.join(B, "tt-connect"), handle, "web_base=" + base, "webcast_base=" + base,
            "sign_api_url=" + base, "push_base=" + push] + list(opts)


def tt_connect(handle, base, opts, timeout):
    """tt_connect_cmd run to its end: (exit status or None on timeout, stdout so far, stderr,
    seconds taken)"""
    cmd = tt_connect_cmd(handle, base, opts)
    t0 = time.time()
    try:
        r = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, env=clean_env())
        return r.returncode, r.stdout, r.stderr, time.time() - t0
    except subprocess.TimeoutExpired as e:  # what it printed so far still counts
        out = e.stdout.decode() if isinstance(e.stdout, bytes) else (e.stdout or "")
        return None, out, "", time.time() - t0


def established(pid):
    """how many ESTABLISHED TCP connections process pid holds (its fds against /proc's tables)"""
    inodes = set()
    for fd in os.listdir("/proc/%d/fd" % pid):
        try:
            link = os.readlink("/proc/%d/fd/%s" % (pid, fd))
        except OSError:
            continue  # closed meanwhile
        if link.startswith("socket:["):
            inodes.add(link[8:-1])
    n = 0
    for table in ("tcp", "tcp6"):
        with open("/proc/%d/net/%s" % (pid, table)) as f:
            n += sum(1 for line in f.readlines()[1:]
                     if line.split()[3] == "01" and line.split()[9] in inodes)
    return n


def rss_kb(pid):
    """resident memory of process pid, in KiB"""
    with open("/proc/%d/status" % pid) as f:
        return next(int(line.split()[1]) for line in f if line.startswith("VmRSS:"))


def sanitized():
    """whether B is a sanitizer build (build/san, build/tsan): its allocator keeps freed
    memory in quarantine, and valgrind cannot run it"""
    return "san" in os.path.basename(os.path.normpath(B))


def wait_for(pred, timeout, step=0.05):
    end = time.time() + timeout
    while time.time() < end:
        if pred():
            return True
        time.sleep(step)
    return pred()


def stop(p, sig=signal.SIGTERM, timeout=10):
    if p.poll() is None:
        p.send_signal(sig)
        try:
            p.wait(timeout)
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait()


def compare(tmp, events, name, expected=None):
    """events ({"event","data"} dicts, in order) equal 1.2.3's for the v3 corpus (or for the
    corpus's events in the file `expected`, in its layout)?"""
    path = os.path.join(tmp, name)
    with open(path, "w") as f:
        for e in events:
            f.write(json.dumps(e) + "\n")
    r = subprocess.run([sys.executable, COMPARE, "--events",
                        expected or os.path.join(CORPUS, "expected.jsonl"), path],
                       capture_output=True, text=True)
    if r.returncode:
        print(r.stdout[-2000:])
    return r.returncode == 0


def run_tests(tests, tools=(), keep_prefix="itest-"):
    """The common main of a test driver: every tool on PATH or a failed check; then each test
    function with one temporary directory (KEEP_TMP=1 keeps it, ONLY=part picks tests by
    name); every process started is killed at the end. Returns the exit status."""
    for tool in tools:
        if subprocess.run(["sh", "-c", "command -v " + tool], capture_output=True).returncode:
            check(False, "%s is installed (make deps)" % tool)
            return finish()
    only = os.environ.get("ONLY")
    with tempfile.TemporaryDirectory() as tmp:
        if os.environ.get("KEEP_TMP"):  # for debugging: a copy survives the run
            tmp = tempfile.mkdtemp(prefix=keep_prefix)
            print("keeping " + tmp)
        try:
            for t in tests:
                if only and only not in t.__name__:
                    continue
                print("== " + t.__name__, flush=True)
                t(tmp)
        finally:
            kill_all()
    return finish()
