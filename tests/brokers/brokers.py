"""The brokers of tests/brokers, each a private instance on free loopback ports with all its
state in the test's temporary directory: mosquitto (any configuration lines), aedes (Node, from
build/npm), RabbitMQ 3.10 with its MQTT plugin, ejabberd 23.01's mod_mqtt. Each has up()
(start, bounded wait until its MQTT port answers), down() (a clean stop), kill() (SIGKILL)
and the facts a test needs:

  port        its MQTT listener
  creds       what mosquitto_sub/_pub need to get in (["-u", U, "-P", P] or [])
  bridge_creds the same as the bridge's own (a client taking its session over needs them)
  bridge_mqtt lines for the bridge's [mqtt] section (user name, password file, protocol)
  persistent  a subscriber's session (clean session off, QoS 1) survives a restart
  wildcard_retained   retained messages reach a `#`/`+` subscription (RabbitMQ: no)

Only processes started here are stopped, by their pid; the Erlang brokers get their own epmd
(RabbitMQ) or none (ejabberd, ERL_DIST_PORT), never the machine's.

SPDX-License-Identifier: MIT
"""
import os
import pwd
import shutil
import signal
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "tools"))
sys.path.insert(0, os.path.join(HERE, "..", "bridge"))
from itest import ROOT, free_port, listening, start, stop, wait_for  # noqa: E402
import run as bt  # noqa: E402  (tests/bridge/run.py: the mosquitto of the bridge tests)

NPM = os.path.join(ROOT, "build", "npm", "node_modules")  # tools/deps.sh installs aedes there
RABBIT_BIN = "/usr/lib/rabbitmq/bin"


class Mosquitto(bt.Broker):
    """tests/bridge's mosquitto plus configuration lines (`conf`), persistence always on (a
    restart keeps the subscriber's session), and a log of what it refused."""
    persistent = True
    wildcard_retained = True
    creds = []
    bridge_creds = []
    bridge_mqtt = ""
    name = "mosquitto"

    def __init__(self, tmp, conf="", passwords=None):
        super().__init__(tmp, passwords=passwords)
        self.log = os.path.join(tmp, "mosquitto-%d.log" % self.port)
        store = os.path.join(tmp, "mosquitto-%d.d" % self.port)  # its own, not the last one's
        os.makedirs(store)
        with open(self.conf, "a") as f:
            f.write("persistence true\npersistence_location %s/\n" % store)
            if os.geteuid() == 0 and not passwords:  # it would drop to its own user
                f.write("user root\n")
            f.write("log_dest file %s\nlog_type all\n%s" % (self.log, conf))

    def kill(self):
        stop(self.p, signal.SIGKILL)

    def reload(self):
        """SIGHUP: mosquitto reads its password and ACL files again"""
        self.p.send_signal(signal.SIGHUP)


class Aedes:
    """aedes 0.51 (npm) on a plain TCP server: 3.1.1 only, in-memory state (a restart forgets
    every session and retained message)"""
    persistent = False
    wildcard_retained = True
    creds = []
    bridge_mqtt = ""
    name = "aedes"

    def __init__(self, tmp):
        self.port = free_port()
        self.out = os.path.join(tmp, "aedes-%d.out" % self.port)
        self.p = None

    @staticmethod
    def installed():
        return os.path.isfile(os.path.join(NPM, "aedes", "package.json"))

    def up(self):
        env = dict(os.environ, NODE_PATH=NPM)
        self.p = start(["node", os.path.join(HERE, "aedes_server.js"), str(self.port)],
                       stdout=open(self.out, "a"), stderr=subprocess.STDOUT, env=env)
        return wait_for(lambda: listening(self.port), 15)

    def down(self):
        stop(self.p)

    def kill(self):
        stop(self.p, signal.SIGKILL)


class RabbitMQ:
    """RabbitMQ 3.10 with rabbitmq_mqtt: a private node (its own name, ports, folders, epmd on a
    free port), 3.1.1 only. Durable queues keep a clean-session-off subscriber's messages across
    a restart. Retained messages: one store per node, delivered to exact-topic subscriptions
    only."""
    persistent = True
    wildcard_retained = False
    creds = []
    bridge_mqtt = ""
    name = "rabbitmq"

    def __init__(self, tmp):
        self.port = free_port()
        self.dir = os.path.join(tmp, "rabbit-%d" % self.port)
        os.makedirs(self.dir)
        self.node = "t2m%d@localhost" % self.port
        epmd, amqp, dist = free_port(), free_port(), free_port()
        with open(os.path.join(self.dir, "rabbitmq.conf"), "w") as f:
            f.write("listeners.tcp.default = 127.0.0.1:%d\n" % amqp)
            f.write("mqtt.listeners.tcp.default = 127.0.0.1:%d\n" % self.port)
            f.write("mqtt.allow_anonymous = true\nmqtt.default_user = guest\n"
                    "mqtt.default_pass = guest\nmqtt.vhost = /\nmqtt.exchange = amq.topic\n")
            f.write("distribution.listener.interface = 127.0.0.1\n")
            f.write("distribution.listener.port_range.min = %d\n" % dist)
            f.write("distribution.listener.port_range.max = %d\n" % dist)
            f.write("disk_free_limit.absolute = 50MB\n")
        with open(os.path.join(self.dir, "enabled_plugins"), "w") as f:
            f.write("[rabbitmq_mqtt].\n")
        open(os.path.join(self.dir, "rabbitmq-env.conf"), "w").close()
        d = self.dir
        self.env = dict(os.environ, HOME=d, RABBITMQ_NODENAME=self.node, RABBITMQ_BASE=d,
                        RABBITMQ_MNESIA_BASE=d + "/mnesia", RABBITMQ_LOG_BASE=d + "/log",
                        RABBITMQ_CONFIG_FILE=d + "/rabbitmq",
                        RABBITMQ_ENABLED_PLUGINS_FILE=d + "/enabled_plugins",
                        RABBITMQ_PID_FILE=d + "/pid", RABBITMQ_CONF_ENV_FILE=d + "/rabbitmq-env.conf",
                        ERL_EPMD_PORT=str(epmd), ERL_EPMD_ADDRESS="127.0.0.1",
                        PATH=RABBIT_BIN + ":" + os.environ.get("PATH", ""))
        self.epmd_port = epmd
        self.epmd = None
        self.p = None

    @staticmethod
    def installed():
        return os.path.isfile(os.path.join(RABBIT_BIN, "rabbitmq-server"))

    def up(self):
        if self.epmd is None or self.epmd.poll() is not None:  # ours, in the foreground
            self.epmd = start(["epmd", "-port", str(self.epmd_port), "-address", "127.0.0.1"],
                              env=self.env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            os.unlink(os.path.join(self.dir, "pid"))
        except OSError:
            pass
        self.p = start(["rabbitmq-server"], env=self.env, cwd=self.dir,
                       stdout=open(os.path.join(self.dir, "server.out"), "a"),
                       stderr=subprocess.STDOUT)
        r = subprocess.run(["rabbitmqctl", "-n", self.node, "wait", self.dir + "/pid",
                            "--timeout", "90"], env=self.env, capture_output=True, timeout=120)
        return r.returncode == 0 and wait_for(lambda: listening(self.port), 10)

    def down(self):
        stop(self.p, timeout=60)  # SIGTERM: the node shuts down cleanly

    def kill(self):
        stop(self.p, signal.SIGKILL)

    def close(self):
        """the node and its epmd, by their pids"""
        self.down()
        stop(self.epmd)


class Ejabberd:
    """ejabberd 23.01's mod_mqtt, MQTT 5 and 3.1.1: anonymous login (any user name and
    password), a private node without epmd (ERL_DIST_PORT), run as the ejabberd user (so its
    folder is that user's, and the test's temporary directory must be traversable)."""
    persistent = False
    wildcard_retained = True
    name = "ejabberd"

    def __init__(self, tmp, listen_opts=""):
        self.port = free_port()
        self.dir = os.path.join(tmp, "ejabberd-%d" % self.port)
        os.makedirs(self.dir + "/spool")
        os.makedirs(self.dir + "/logs")
        self.pwfile = os.path.join(tmp, "ejabberd-%d.pass" % self.port)
        with open(self.pwfile, "w") as f:
            f.write("anything\n")
        os.chmod(self.pwfile, 0o600)
        self.creds = ["-u", "watcher", "-P", "anything"]
        self.bridge_creds = ["-u", "tiktok2mqtt", "-P", "anything"]  # its session: user/client id
        self.bridge_mqtt = "username = tiktok2mqtt\npassword_file = %s\n" % self.pwfile
        with open(os.path.join(self.dir, "ejabberd.yml"), "w") as f:
            f.write("hosts: [localhost]\nloglevel: info\nauth_method: [anonymous]\n"
                    "anonymous_protocol: login_anon\nallow_multiple_connections: true\n"
                    "listen:\n  - port: %d\n    ip: \"127.0.0.1\"\n    module: mod_mqtt\n%s"
                    "modules:\n  mod_mqtt:\n    max_queue: 5000\n" % (self.port, listen_opts))
        with open(os.path.join(self.dir, "ctl.cfg"), "w") as f:
            f.write("INET_DIST_INTERFACE=127.0.0.1\nERL_DIST_PORT=%d\nEJABBERD_PID_PATH=%s/pid\n"
                    % (free_port(), self.dir))
        user = pwd.getpwnam("ejabberd")
        for root, dirs, files in os.walk(self.dir):
            for x in dirs + files:
                os.chown(os.path.join(root, x), user.pw_uid, user.pw_gid)
        os.chown(self.dir, user.pw_uid, user.pw_gid)
        os.chmod(tmp, 0o711)  # the ejabberd user walks through to its folder
        self.node = "t2m%d@localhost" % self.port
        self.p = None

    @staticmethod
    def installed():
        try:
            pwd.getpwnam("ejabberd")
        except KeyError:
            return False
        return shutil.which("ejabberdctl") is not None and os.geteuid() == 0

    def pid(self):
        """the Erlang VM's pid (ejabberdctl runs it through su, so it is not our child)"""
        try:
            return int(open(self.dir + "/pid").read())
        except (OSError, ValueError):
            return None

    def up(self):
        try:
            os.unlink(self.dir + "/pid")
        except OSError:
            pass
        d = self.dir
        self.p = start(["ejabberdctl", "--config", d + "/ejabberd.yml", "--spool", d + "/spool",
                        "--logs", d + "/logs", "--node", self.node, "--ctl-config",
                        d + "/ctl.cfg", "foreground"], stdout=open(d + "/out", "a"),
                       stderr=subprocess.STDOUT)
        return wait_for(lambda: listening(self.port) and self.pid(), 60, step=0.1)

    def _signal(self, sig):
        pid = self.pid()
        if pid and self.p.poll() is None:
            os.kill(pid, sig)
        try:
            self.p.wait(60)
        except subprocess.TimeoutExpired:
            stop(self.p, signal.SIGKILL)

    def down(self):
        self._signal(signal.SIGTERM)

    def kill(self):
        self._signal(signal.SIGKILL)

    def close(self):
        self.down()
