#!/usr/bin/env python3
"""make bench-e2e: tiktok-live-sim (load mode) -> tiktok2mqtt -> mosquitto -> build/bench-sub,
which counts every event by msgId (lost, duplicated) and its latency from createTime (stamped
when the simulator writes the frame). Four measurements, each against a mosquitto with its
default configuration (max_inflight_messages 20: a v5 client sees Receive Maximum 20) and a
tuned one (max_inflight_messages 0, max_queued_messages 0, set_tcp_nodelay true), at QoS 0
and 1:

  ratio    the same load through tiktok2mqtt and through tools/peer_node.js (tiktok-live-
           connector 1.2.3 + mqtt.js 5), back to back, ROUNDS times: events delivered per
           CPU-second of the bridge process, and the ratio (median of the rounds' ratios);
  ceiling  the highest total rate (STREAMERS rooms) sustained for SEARCH_S seconds with zero
           loss, zero duplicates and no backlog (p99 latency under 1 s): doubling, then
           bisection;
  latency  p50 / p99 / max at LAT_RATE events/s over STREAMERS streamers;
  process  RSS and threads of the bridge during the latency run, CPU per thread group, and
           context switches per event.

Environment: B (build), STREAMERS (50), RATIO_RATE (5000 total), RATIO_S (10), ROUNDS (3),
SEARCH_S (10), SEARCH_MAX (80000), LAT_RATE (5000), LAT_S (15), BROKERS ("default tuned"),
QOS ("0 1"), PARTS ("ratio ceiling latency"), GZIP (1: the share of gzipped frames),
BRIDGE_CPUS (unset: the bridge runs on any core; "1": under `taskset -c 1`, see
docs/PERFORMANCE.md "One core for the bridge").
--write rewrites the bench-e2e section of docs/PERFORMANCE.md; --smoke is the check of
make check: a tiny run, the tools count correctly (exit 1 otherwise).

SPDX-License-Identifier: MIT
"""
import json
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time

from benchlib import bridge_config, cpu_s, measure, mosquitto, now as bench_now, paho, status
import itest
from itest import B, ROOT, kill_all, start, stop, wait_for

ENV = os.environ.get
STREAMERS = int(ENV("STREAMERS", "50"))
RATIO_RATE, RATIO_S, ROUNDS = int(ENV("RATIO_RATE", "5000")), int(ENV("RATIO_S", "10")), int(ENV("ROUNDS", "3"))
SEARCH_S, SEARCH_MAX = int(ENV("SEARCH_S", "10")), int(ENV("SEARCH_MAX", "80000"))
LAT_RATE, LAT_S = int(ENV("LAT_RATE", "5000")), int(ENV("LAT_S", "15"))
BROKERS = ENV("BROKERS", "default tuned").split()
QOS = [int(q) for q in ENV("QOS", "0 1").split()]
PARTS = ENV("PARTS", "ratio ceiling latency").split()
GZIP = float(ENV("GZIP", "1"))
TMP = tempfile.mkdtemp(prefix="bench-e2e-")


def log(*a):
    print(*a, file=sys.stderr, flush=True)


def threads(pid):
    """{tid: (name, cpu ns, context switches)}"""
    d = {}
    for t in os.listdir("/proc/%d/task" % pid):
        try:
            base = "/proc/%d/task/%s/" % (pid, t)
            st = open(base + "status").read()
            sw = sum(int(st.split(k + ":")[1].split()[0])
                     for k in ("voluntary_ctxt_switches", "nonvoluntary_ctxt_switches"))
            d[t] = (open(base + "comm").read().strip(), int(open(base + "schedstat").read().split()[0]), sw)
        except (OSError, IndexError, ValueError):
            pass  # a thread that ended between listdir and read
    return d


def broker(kind):
    return mosquitto(TMP, kind)


def simulator(rooms, total_rate, seconds):
    scen = os.path.join(TMP, "load-%d.jsonl" % time.monotonic_ns())
    with open(scen, "w") as f:
        f.write(json.dumps({"kind": "load", "rooms": rooms, "rate": total_rate / rooms,
                            "seconds": seconds, "gzip": GZIP, "frame_events": 1000, "msgid_only": 1,
                            "batch_ms": 100 if total_rate / rooms > 200 else 200}) + "\n")
    p, url, _ = itest.sim(TMP, os.path.basename(scen)[:-len(".jsonl")], ["--scenario", scen,
                          "--end-grace-ms", "1000"], timeout=10)
    return p, url


def sim_events(url):
    """events the simulator sent (msgid_only: each has a msgId, the rooms' ends too)"""
    import urllib.request
    return json.load(urllib.request.urlopen(url + "/sim/status", timeout=10))["events"]


SUB_IDLE_MS = 5000  # bench-sub ends this long after the last event


def subscriber(port, qos, idle_ms=None):
    idle_ms = idle_ms or SUB_IDLE_MS
    out = os.path.join(TMP, "sub-%d.out" % time.monotonic_ns())
    p = start([os.path.join(B, "bench-sub"), "127.0.0.1", str(port), str(qos), "tiktok/+/+",
               "--idle-ms", str(idle_ms)], stdout=open(out, "w"))
    if not wait_for(lambda: "ready" in open(out).read(), 10):
        raise RuntimeError("bench-sub did not subscribe")
    return p, out


def bridge(url, rooms, port, qos):
    cfg = bridge_config(os.path.join(TMP, "b-%d.ini" % time.monotonic_ns()), url, port, rooms,
                        "qos = %d\n" % qos)
    log_path = cfg + ".log"
    pin = ["taskset", "-c", os.environ["BRIDGE_CPUS"]] if os.environ.get("BRIDGE_CPUS") else []
    p = start(pin + [os.path.join(B, "tiktok2mqtt"), "-c", cfg], stderr=open(log_path, "w"))
    ok = wait_for(lambda: open(log_path).read().count(": live") >= rooms, 60 + rooms * 0.1, step=0.2)
    return p, ok


def peer(url, rooms, port, qos):
    out = os.path.join(TMP, "peer-%d.out" % time.monotonic_ns())
    env = dict(os.environ, SIM=url, COUNT=str(rooms), PREFIX="load", QOS=str(qos),
               MQTT_URL="mqtt://127.0.0.1:%d" % port)
    # start(): without proxies, and ended by kill_all() when the run is interrupted
    p = start(["node", os.path.join(ROOT, "tools", "peer_node.js")], env=env,
              stdout=open(out, "w"), stderr=subprocess.STDOUT)
    ok = wait_for(lambda: '"connected"' in open(out).read() or p.poll() is not None, 60, step=0.2)
    if p.poll() is not None:  # e.g. make deps not run: say so, not "0 events"
        raise RuntimeError("tools/peer_node.js exited: " + open(out).read()[-600:])
    return p, '"connected"' in open(out).read()


def one_run(kind, broker_kind, qos, total_rate, seconds, watch=False, cap=30):
    """One run through kind ("bridge" or "node"); the subscriber's counts plus the process's."""
    bp, port = broker(broker_kind)
    sp, url = simulator(STREAMERS, total_rate, seconds)
    sub, sub_out = subscriber(port, qos)
    proc, ok = (bridge if kind == "bridge" else peer)(url, STREAMERS, port, qos)
    c0, t0, th0 = cpu_s(proc.pid), time.time(), threads(proc.pid) if watch else None
    others0 = [cpu_s(p.pid) for p in (bp, sp)]  # what shares the two cores with it
    rss_max, nthreads = 0, 0
    # the rooms end `seconds` after their first connection; bench-sub ends 5 s after the last
    # event (so `lost` is what did not arrive with 5 s of silence, i.e. at all: a bridge that
    # stalls longer than that is lost anyway)
    while sub.poll() is None and time.time() - t0 < seconds + cap:
        time.sleep(0.5)
        if watch and proc.poll() is None:
            rss_max = max(rss_max, status(proc.pid, "VmRSS"))
            nthreads = max(nthreads, status(proc.pid, "Threads"))
    th1 = threads(proc.pid) if watch else None
    cpu, wall = cpu_s(proc.pid) - c0, time.time() - t0
    others = [cpu_s(p.pid) - c for p, c in zip((bp, sp), others0)]
    sent = sim_events(url)
    stop(sub)
    stop(proc)
    stop(sp)
    stop(bp)
    r = json.loads(open(sub_out).read().split("\n", 1)[1])
    r.update(kind=kind, broker=broker_kind, qos=qos, rate=total_rate, seconds=seconds, sent=sent,
             ok=ok, cpu_s=cpu, wall_s=wall, lost=sent - r["unique"], broker_cpu_s=others[0],
             sim_cpu_s=others[1])
    r["span_s"] = (r["last_ms"] - r["first_ms"]) / 1e3 if r["first_ms"] else 0
    r["ev_per_cpu_s"] = r["unique"] / cpu if cpu > 0 else 0
    if watch:
        r["rss_mib"] = rss_max / 1024
        r["threads"] = nthreads
        r["per_thread"] = per_thread(proc.pid, th0, th1, r["unique"])
    log("  %s %s qos%d %d/s: sent %d unique %d dups %d lost %d in %.1f s, cpu %.2f s, p50 %.1f p99 %.1f ms"
        % (kind, broker_kind, qos, total_rate, sent, r["unique"], r["dups"], r["lost"], r["span_s"],
           cpu, r["lat_p50"], r["lat_p99"]))
    return r


def thread_group(pid, tid, name):
    """our main thread (its id is the process's), paho's threads by name, or the streamer
    threads, which keep the process's name"""
    if str(tid) == str(pid):
        return "main"
    return name if name.startswith("MQTT") else "streamers (%s)" % name


def per_thread(pid, a, b, events):
    """CPU seconds and context switches per event of each thread group"""
    groups = {}
    for t, (name, ns, sw) in b.items():
        ns0, sw0 = (a[t][1], a[t][2]) if t in a else (0, 0)
        g = thread_group(pid, t, name)
        c = groups.setdefault(g, [0.0, 0, 0])
        c[0] += (ns - ns0) / 1e9
        c[1] += sw - sw0
        c[2] += 1
    return {g: {"cpu_s": round(c[0], 3), "switches_per_event": round(c[1] / max(events, 1), 3),
                "threads": c[2]} for g, c in groups.items()}


def sustained(r):
    """kept up: nothing lost or duplicated, and no backlog (p99 latency under a second)"""
    return r["ok"] and r["lost"] == 0 and r["dups"] == 0 and r["lat_p99"] < 1000


def ceiling(broker_kind, qos):
    """the highest total rate sustained: doubling from 1,000/s (halving below), then bisection"""
    rate, good, bad = 1000, 0, None
    while rate <= SEARCH_MAX and bad is None:
        if sustained(one_run("bridge", broker_kind, qos, rate, SEARCH_S, cap=6)):
            good, rate = rate, rate * 2
        else:
            bad = rate
    if good == 0:  # not even the first: look below it
        rate = bad // 2
        while rate >= 125 and good == 0:
            if sustained(one_run("bridge", broker_kind, qos, rate, SEARCH_S, cap=6)):
                good = rate
            else:
                bad, rate = rate, rate // 2
    if bad is None:
        return good, None
    for _ in range(2):
        mid = (good + bad) // 2
        if sustained(one_run("bridge", broker_kind, qos, mid, SEARCH_S, cap=6)):
            good = mid
        else:
            bad = mid
    return good, bad


def fmt(x):
    return "{:,.0f}".format(x)


def ratio_part(lines):
    lines += ["", "**Events per CPU-second of the process**, tiktok2mqtt vs the Node stack "
              "(tools/peer_node.js: tiktok-live-connector 1.2.3 + mqtt.js 5), %s events/s over %d "
              "streamers for %d s, back to back, %d rounds (median, range):" % (fmt(RATIO_RATE), STREAMERS, RATIO_S, ROUNDS),
              "", "| broker | QoS | tiktok2mqtt events/CPU-s | Node events/CPU-s | ratio | delivered (bridge; Node) |",
              "|---|---|---|---|---|---|"]
    for bk in BROKERS:
        for q in QOS:
            rs = []
            for _ in range(ROUNDS):
                a = one_run("bridge", bk, q, RATIO_RATE, RATIO_S)
                n = one_run("node", bk, q, RATIO_RATE, RATIO_S)
                rs.append((a, n))
            ours = [a["ev_per_cpu_s"] for a, _ in rs]
            node = [n["ev_per_cpu_s"] for _, n in rs]
            rat = [a["ev_per_cpu_s"] / n["ev_per_cpu_s"] if n["ev_per_cpu_s"] else 0 for a, n in rs]
            deliv = "; ".join("%s of %s; %s of %s" % (fmt(a["unique"]), fmt(a["sent"]), fmt(n["unique"]), fmt(n["sent"]))
                              for a, n in rs[:1])
            lines.append("| %s | %d | %s (%s to %s) | %s (%s to %s) | **%.2fx** (%.2f to %.2f) | %s |"
                         % (bk, q, fmt(statistics.median(ours)), fmt(min(ours)), fmt(max(ours)),
                            fmt(statistics.median(node)), fmt(min(node)), fmt(max(node)),
                            statistics.median(rat), min(rat), max(rat), deliv))


def ceiling_part(lines):
    lines += ["", "**Highest sustained rate** (%d streamers, %d s a run; sustained: none lost, none "
              "duplicated, p99 latency under 1 s, i.e. no backlog; doubling from 1,000/s (halving "
              "below), then two bisection steps):" % (STREAMERS, SEARCH_S), "", "| broker | QoS | sustained | failed at |", "|---|---|---|---|"]
    for bk in BROKERS:
        for q in QOS:
            good, bad = ceiling(bk, q)
            lines.append("| %s | %d | **%s events/s** | %s |" % (bk, q, fmt(good), "-" if bad is None else fmt(bad) + " events/s"))


def latency_part(lines):
    lines += ["", "**Latency** from createTime (the simulator writes the frame) to bench-sub's receipt, "
              "%s events/s over %d streamers for %d s; RSS and threads of tiktok2mqtt during the run:"
              % (fmt(LAT_RATE), STREAMERS, LAT_S), "",
              "| broker | QoS | delivered | p50 ms | p99 ms | max ms | RSS MiB | threads | CPU % of a core "
              "| mosquitto's CPU % | the simulator's CPU % |",
              "|---|---|---|---|---|---|---|---|---|---|---|"]
    detail = []
    for bk in BROKERS:
        for q in QOS:
            r = one_run("bridge", bk, q, LAT_RATE, LAT_S, watch=True)
            lines.append("| %s | %d | %s of %s | %.1f | %.1f | %.1f | %.0f | %d | %.0f | %.0f | %.0f |"
                         % (bk, q, fmt(r["unique"]), fmt(r["sent"]), r["lat_p50"], r["lat_p99"], r["lat_max"],
                            r["rss_mib"], r["threads"], r["cpu_s"] / r["wall_s"] * 100,
                            r["broker_cpu_s"] / r["wall_s"] * 100, r["sim_cpu_s"] / r["wall_s"] * 100))
            detail.append((bk, q, r))
    lines += ["", "Where the bridge's CPU went in those runs (per thread group, from /proc schedstat; "
              "context switches voluntary + not, per delivered event):", "",
              "| broker | QoS | thread group | threads | CPU s | switches per event |", "|---|---|---|---|---|---|"]
    for bk, q, r in detail:
        for g, c in sorted(r["per_thread"].items(), key=lambda x: -x[1]["cpu_s"]):
            lines.append("| %s | %d | %s | %d | %.2f | %.2f |" % (bk, q, g, c["threads"], c["cpu_s"], c["switches_per_event"]))


def smoke():
    """make check: the tools run and count correctly, in a few seconds (no figure is checked)"""
    global STREAMERS, SUB_IDLE_MS
    fails = []
    SUB_IDLE_MS = 5000  # a loaded machine (or an output stall) may pause longer than 1.5 s
    STREAMERS = 3  # bridge, tuned broker, QoS 1: every event counted once
    r = one_run("bridge", "tuned", 1, 60, 3, watch=True)
    if not r["ok"]:
        fails.append("the bridge did not go live")
    if r["sent"] < 100:
        fails.append("the simulator sent %d events (expected about 180)" % r["sent"])
    if r["unique"] != r["sent"] or r["dups"] != 0:
        fails.append("bench-sub counted %d unique, %d dups of %d sent" % (r["unique"], r["dups"], r["sent"]))
    if not (0 <= r["lat_p50"] < 1000):
        fails.append("latency p50 %.1f ms is not plausible" % r["lat_p50"])
    # sim_reader counts what the simulator says it sent
    sp, url = simulator(2, 400, 2)
    out = subprocess.run([sys.executable, os.path.join(ROOT, "tools", "sim_reader.py"), url,
                          "--seconds", "3"], capture_output=True, text=True, timeout=30).stdout
    sent = sim_events(url)
    stop(sp)
    got = json.loads(out)["events"] if out.strip() else -1
    if got != sent or sent < 500:
        fails.append("sim_reader counted %d events of %d sent" % (got, sent))
    # bench-paho: 300 messages each way
    bp, port = broker("tuned")
    paho_modes = ("async", "sync", "sync-cb", "sync-poll")
    for mode in paho_modes:
        res = paho(port, 300, 1000, mode, 64)
        if res.returncode != 0 or '"n":300' not in res.stdout:
            fails.append("bench-paho %s: %s" % (mode, (res.stdout + res.stderr).strip()))
    stop(bp)
    for f in fails:
        print("FAIL: bench smoke: " + f)
    print("%d passed, %d failed" % (5 + len(paho_modes) - len(fails), len(fails)))
    return 1 if fails else 0


def main():
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(1))  # so that kill_all() runs
    if "--smoke" in sys.argv:
        try:
            return smoke()
        finally:
            kill_all()
    head = ["Measured %s by `make bench-e2e` (STREAMERS=%d, GZIP=%g, brokers: %s; the simulator, "
            "mosquitto, bench-sub and the bridge on this one 2-core machine)."
            % (bench_now(), STREAMERS, GZIP, ", ".join(BROKERS))]
    parts = {"ratio": ratio_part, "ceiling": ceiling_part, "latency": latency_part}
    return measure("bench-e2e", head, lambda lines: [parts[p](lines) for p in PARTS])


if __name__ == "__main__":
    sys.exit(main())
