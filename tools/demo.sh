#!/bin/sh
# make demo: mosquitto, tiktok-live-sim with a lively scenario and the bridge, all on loopback,
# and the MQTT traffic shown live until Ctrl-C (or DEMO_SECONDS). Stops everything it started.
# SPDX-License-Identifier: MIT
set -eu
B=${B:-build}
SECONDS_LIMIT=${DEMO_SECONDS:-0}
dir=$(mktemp -d /tmp/tiktok2mqtt-demo.XXXXXX)
pids="" # newest first
# Each stopped and waited for in turn, the bridge first: it flushes its "stopped" statuses to a
# broker that is still there (stopped after the broker, it waited for it up to its
# flush_timeout: a Ctrl-C took about eight seconds).
cleanup() {
    for p in $pids; do
        kill "$p" 2>/dev/null || true
        wait "$p" 2>/dev/null || true
    done
    rm -rf "$dir"
}
trap cleanup EXIT INT TERM

free_port() {
    python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

MQTT_PORT=$(free_port)
printf 'listener %s 127.0.0.1\nallow_anonymous true\npersistence false\n' "$MQTT_PORT" >"$dir/mosquitto.conf"
# The broker runs in a session of its own, out of reach of a Ctrl-C in the terminal, so that
# the bridge, which cleanup stops first, can flush its "stopped" statuses to it. (setsid does
# not fork here: a background job of a shell without job control leads no process group, so
# $! is the broker itself.)
setsid mosquitto -c "$dir/mosquitto.conf" >"$dir/mosquitto.log" 2>&1 &
pids="$! $pids"

"$B/tiktok-live-sim" --listen 127.0.0.1:0 --scenario contrib/sim/scenarios/demo.jsonl \
    --log "$dir/sim.log" >"$dir/sim.out" 2>&1 &
pids="$! $pids"
i=0
while ! grep -q listening "$dir/sim.out" 2>/dev/null; do
    i=$((i + 1)); [ $i -lt 100 ] || { echo "demo: the simulator did not start" >&2; cat "$dir/sim.out" >&2; exit 1; }
    sleep 0.05
done
SIM=$(sed -n 's/.*"listening":"\([^"]*\)".*/\1/p' "$dir/sim.out" | head -n 1)

cat >"$dir/tiktok2mqtt.ini" <<INI
[mqtt]
uri = tcp://127.0.0.1:$MQTT_PORT
base_topic = tiktok
[homeassistant]
enabled = false
[tiktok]
web_base = $SIM
webcast_base = $SIM
sign_api_url = $SIM
push_base = ws${SIM#http}
[streamer:pixel_pia]
[streamer:cosmo_cooks]
[streamer:the_host]
[streamer:night_owl]
INI

echo "demo: mosquitto on 127.0.0.1:$MQTT_PORT, tiktok-live-sim on $SIM, config $dir/tiktok2mqtt.ini"
echo "demo: showing tiktok/# (Ctrl-C to stop)"
mosquitto_sub -h 127.0.0.1 -p "$MQTT_PORT" -t 'tiktok/#' -v &
pids="$! $pids"
"$B/tiktok2mqtt" -c "$dir/tiktok2mqtt.ini" 2>"$dir/bridge.log" &
pids="$! $pids"
if [ "$SECONDS_LIMIT" -gt 0 ]; then
    sleep "$SECONDS_LIMIT"
else
    wait
fi
