#!/usr/bin/env python3
"""`make demo` as a user runs it: tools/demo.sh (what the target runs once deps and the build
are done) with the build's binaries, read from its standard output as the user reads it.

1. events flow, then the script is stopped alone (SIGTERM to it, as `kill` or a service
   manager would): within a bounded wait every streamer the scenario keeps live
   (contrib/sim/scenarios/demo.jsonl, `"loop": true`) has a `status` whose state is `live`
   and a `chat` whose comment is one of the texts the scenario scripts for that streamer; the
   offline one (`"status": "offline"`) is `waiting` (wait_until_live's default) and has no
   event. Then the script exits, none of the processes it started (mosquitto, the simulator,
   mosquitto_sub, the bridge) is left, and its temporary directory is gone: its trap alone
   stopped them. The bridge went first, while the broker was still there: a subscriber of the
   test's own saw every streamer's status end `stopped` and bridge/state `offline`.
2. Ctrl-C: SIGINT to the script's process group, as a terminal sends it: the same end (the
   broker, in a session of its own, is not hit by it, so the bridge's stop reaches it).
3. DEMO_SECONDS=2: the script gets as far as showing the traffic, then ends by itself with
   status 0, leaving no process and no directory behind.
4. What `make demo` and `make overlay` install first: `make -n` runs `tools/deps.sh demo` (or
   `overlay`), not the whole of `make deps` (RabbitMQ, ejabberd, Chromium, and npm packages
   fetched from the network, which neither uses); run where nothing from npm is installed,
   `deps.sh demo` calls neither npm nor apt-get, and `deps.sh overlay` asks npm for mqtt alone
   (stand-ins on PATH record each call).

Environment: B (build dir, default build). Needs mosquitto and mosquitto_sub (make deps).
Every wait is bounded; everything started is stopped. Ends with `N passed, N failed`.

SPDX-License-Identifier: MIT
"""
import json
import os
import re
import signal
import subprocess
import sys
import threading

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "tools"))
from itest import B, ROOT, check, listening, run_tests, start, stop, wait_for  # noqa: E402

SCENARIO = os.path.join(ROOT, "contrib", "sim", "scenarios", "demo.jsonl")
RETAINED = {"availability", "status", "room", "state"}


def scenario():
    """{handle: {"live": bool, "chats": set of scripted texts}} from the demo's scenario"""
    streamers, cur = {}, None
    with open(SCENARIO) as f:
        for line in f:
            if not line.strip() or line.startswith("#"):
                continue
            o = json.loads(line)
            if o.get("kind") == "streamer":
                cur = streamers.setdefault(o["handle"], {"chats": set()})
                cur["live"] = o.get("status") != "offline"
            elif cur is not None and o.get("type") == "chat":
                cur["chats"].add(o["text"])
    return streamers


def interruptible():
    """SIGINT and SIGQUIT as a terminal's foreground job has them: a shell started with them
    ignored (say, by a test run in the background) cannot trap them"""
    signal.signal(signal.SIGINT, signal.SIG_DFL)
    signal.signal(signal.SIGQUIT, signal.SIG_DFL)


class Demo:
    """tools/demo.sh in a session of its own; its standard output collected as it comes"""

    def __init__(self, seconds=None):
        env = dict(os.environ, B=B)
        env.pop("DEMO_SECONDS", None)
        if seconds:
            env["DEMO_SECONDS"] = str(seconds)
        self.p = start(["sh", os.path.join(ROOT, "tools", "demo.sh")], env=env, cwd=ROOT,
                       stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                       start_new_session=True, preexec_fn=interruptible)
        self.lines, self.seen, self.sub = [], [], None
        self.lock = threading.Lock()
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self):
        for line in self.p.stdout:
            with self.lock:
                self.lines.append(line.rstrip("\n"))

    def messages(self):
        """(user, topic's last level, payload) of each `tiktok/...` line seen so far"""
        out = []
        with self.lock:
            lines = list(self.lines)
        for line in lines:
            topic, _, payload = line.partition(" ")
            parts = topic.split("/")
            if len(parts) == 3 and parts[0] == "tiktok":
                out.append((parts[1], parts[2], payload))
        return out

    def port(self):
        """the broker's port, once the script has said it"""
        with self.lock:
            text = "\n".join(self.lines)
        m = re.search(r"mosquitto on 127\.0\.0\.1:(\d+)", text)
        return int(m.group(1)) if m else None

    def watch(self):
        """a subscriber of the test's own on the demo's broker (tiktok/#), once the broker
        answers: it outlives what the script shows, so it sees the bridge's last word (in
        self.seen); False if the broker never answered"""
        self.seen, self.sub = [], None
        if not wait_for(lambda: self.port() is not None and listening(self.port()), 30):
            check(False, "the demo's broker answers; the demo printed:\n" + self.output())
            return False
        self.sub = start(["mosquitto_sub", "-h", "127.0.0.1", "-p", str(self.port()), "-t",
                          "tiktok/#", "-v", "-q", "1"], stdout=subprocess.PIPE, text=True)

        def read():
            for line in self.sub.stdout:
                self.seen.append(line.rstrip("\n"))
        threading.Thread(target=read, daemon=True).start()
        return True

    def tmpdir(self):
        with self.lock:
            text = "\n".join(self.lines)
        m = re.search(r"config (\S+)/tiktok2mqtt\.ini", text)
        return m.group(1) if m else None

    def group(self):
        """pids of what the script started and is still there, the script included: its process
        group, and what names its directory (mosquitto runs in a session of its own)"""
        pids, tmp = [], self.tmpdir()
        for d in os.listdir("/proc"):
            if not d.isdigit():
                continue
            try:
                with open("/proc/%s/stat" % d) as f:
                    stat = f.read()
                with open("/proc/%s/cmdline" % d, "rb") as f:
                    cmdline = f.read().decode(errors="replace")
            except OSError:
                continue
            fields = stat[stat.rindex(")") + 2:].split()
            if fields[0] != "Z" and (int(fields[2]) == self.p.pid or (tmp and tmp in cmdline)):
                pids.append(int(d))
        return pids

    def output(self):
        with self.lock:
            return "\n".join(self.lines[-20:])


def comm(pid):
    """`pid name` for a message"""
    try:
        with open("/proc/%d/comm" % pid) as f:
            return "%d %s" % (pid, f.read().strip())
    except OSError:
        return str(pid)


def statuses(msgs, user):
    return [state(p) for u, t, p in msgs if u == user and t == "status" and p]


def flowing(demo, streamers):
    """every live streamer live with one of its scripted chats; the offline one waiting"""
    msgs = demo.messages()
    for h, s in streamers.items():
        st = statuses(msgs, h)
        if not st or st[-1] != ("live" if s["live"] else "waiting"):
            return False
        if s["live"] and not any(u == h and t == "chat" and json.loads(p).get("comment") in
                                 s["chats"] for u, t, p in msgs):
            return False
    return True


def check_flow(demo, streamers, what):
    ok = wait_for(lambda: flowing(demo, streamers), 30)
    check(ok, "%s: every live streamer of the scenario is live with a scripted chat, the "
          "offline one waiting; the demo printed:\n%s" % (what, demo.output()))
    msgs = demo.messages()
    for h, s in streamers.items():
        if not s["live"]:
            extra = sorted({t for u, t, _ in msgs if u == h and t not in RETAINED})
            check(not extra, "%s: the offline %s has no events (saw %s)" % (what, h, extra))
    check(demo.tmpdir() is not None, "%s: the demo says where its configuration is" % what)


def last(lines, user, topic):
    """the last payload of tiktok/USER/TOPIC among mosquitto_sub -v lines, or None"""
    out = None
    for line in lines:
        t, _, payload = line.partition(" ")
        if t == "tiktok/%s/%s" % (user, topic):
            out = payload
    return out


def state(status):
    """the state of a status payload (None for none, or an empty one: a cleared topic)"""
    return json.loads(status).get("state") if status else None


def check_end(demo, what, last_word=True):
    """the script has exited, nothing it started is left, its directory is gone; with
    `last_word`, the bridge stopped cleanly while the broker was still there: every streamer's
    status ends `stopped` and bridge/state `offline` (docs/mqtt.md), as the test's own
    subscriber saw them"""
    try:
        demo.p.wait(15)
    except subprocess.TimeoutExpired:
        pass
    check(demo.p.poll() is not None, "%s: the script exits" % what)
    left = []

    def gone():
        left[:] = demo.group()
        return not left

    wait_for(gone, 10)
    check(not left, "%s: nothing it started is left (%s)" % (what, ", ".join(map(comm, left))))
    for pid in left:  # none of it outlives the test
        try:
            os.kill(pid, signal.SIGKILL)
        except OSError:
            pass
    d = demo.tmpdir()
    check(d is not None and not os.path.exists(d), "%s: its directory %s is removed" % (what, d))
    if demo.sub is None or not last_word:
        return

    def said():
        return last(demo.seen, "bridge", "state") == "offline" and all(
            state(last(demo.seen, h, "status")) == "stopped" for h in scenario())

    wait_for(said, 10)  # what the broker had sent it before it stopped
    stop(demo.sub)
    for h in scenario():
        st = last(demo.seen, h, "status")
        check(state(st) == "stopped",
              "%s: %s's status ends stopped (last: %s)" % (what, h, st))
    check(last(demo.seen, "bridge", "state") == "offline",
          "%s: bridge/state ends offline (last: %s)" % (what, last(demo.seen, "bridge", "state")))


def test_flow_then_stopped_alone(tmp):
    streamers = scenario()
    check(sum(s["live"] for s in streamers.values()) >= 2 and
          any(not s["live"] for s in streamers.values()),
          "the scenario has live streamers and an offline one")
    demo = Demo()
    demo.watch()
    check_flow(demo, streamers, "demo")
    os.kill(demo.p.pid, signal.SIGTERM)
    check_end(demo, "SIGTERM to the script")


def test_ctrl_c(tmp):
    demo = Demo()
    demo.watch()
    check_flow(demo, scenario(), "demo before Ctrl-C")
    os.killpg(demo.p.pid, signal.SIGINT)
    check_end(demo, "Ctrl-C")


def test_demo_seconds(tmp):
    demo = Demo(seconds=2)
    check_end(demo, "DEMO_SECONDS=2", last_word=False)  # 2 s: the bridge may not be up yet
    check(demo.p.returncode == 0, "DEMO_SECONDS=2: the script ends by itself with status 0 "
          "(got %s); it printed:\n%s" % (demo.p.returncode, demo.output()))
    check(any(line.startswith("demo: showing tiktok/#") for line in demo.lines),
          "DEMO_SECONDS=2: it got as far as showing the traffic")


def deps_calls(tmp, part):
    """`make -n PART`'s lines, and the calls `deps.sh PART` makes of npm, apt-get and sudo
    (stand-ins that record them and succeed) in a checkout whose build/ holds nothing"""
    dry = subprocess.run(["make", "-n", "B=" + B, part], cwd=ROOT, capture_output=True,
                         text=True)
    fake = os.path.join(tmp, part + "-bin")
    os.makedirs(fake, exist_ok=True)
    calls = os.path.join(tmp, part + "-calls")
    for tool in ("npm", "apt-get", "sudo"):
        with open(os.path.join(fake, tool), "w") as f:
            f.write("#!/bin/sh\necho %s \"$@\" >>%s\n" % (tool, calls))
        os.chmod(os.path.join(fake, tool), 0o755)
    work = os.path.join(tmp, part + "-fresh")
    os.makedirs(work, exist_ok=True)
    env = dict(os.environ, PATH=fake + os.pathsep + os.environ.get("PATH", ""))
    env.pop("SKIP_NPM", None)
    r = subprocess.run(["sh", os.path.join(ROOT, "tools", "deps.sh"), part], cwd=work, env=env,
                       capture_output=True, text=True)
    called = open(calls).read().splitlines() if os.path.exists(calls) else []
    return [line.strip() for line in dry.stdout.splitlines()], r, called


def test_make_demo_installs_only_its_own(tmp):
    lines, r, called = deps_calls(tmp, "demo")
    check("sh tools/deps.sh demo" in lines and "sh tools/deps.sh" not in lines,
          "make demo runs deps.sh's demo part only; make -n demo says:\n" + "\n".join(lines))
    check(r.returncode == 0 and not called,
          "deps.sh demo installs nothing from npm (status %d; it called: %s; it said: %s)"
          % (r.returncode, called or "nothing", (r.stdout + r.stderr).strip()))
    lines, r, called = deps_calls(tmp, "overlay")
    check("sh tools/deps.sh overlay" in lines and "sh tools/deps.sh" not in lines,
          "make overlay runs deps.sh's overlay part only; make -n overlay says:\n" +
          "\n".join(lines))
    installs = [c for c in called if c.startswith("npm install")]
    check(r.returncode == 0 and len(installs) == 1 and installs[0].endswith(" mqtt@5.16.0") and
          not any(c.startswith(("apt-get", "sudo")) for c in called),
          "deps.sh overlay asks npm for mqtt alone (status %d; it called: %s)"
          % (r.returncode, called))

if __name__ == "__main__":
    sys.exit(run_tests([test_flow_then_stopped_alone, test_ctrl_c, test_demo_seconds,
                        test_make_demo_installs_only_its_own],
                       tools=("mosquitto", "mosquitto_sub")))
