/* tiktok2mqtt overlay: where the events come from. Each source calls
 *   on.event({user, event, data})   one event of one streamer (data: the bridge's JSON)
 *   on.status(state, detail)        "connecting", "live" (subscribed / stream open), "down"
 * and knows nothing about the page. Two sources:
 *   mqtt  MQTT over WebSockets to the broker the bridge publishes to (mqtt.js's browser
 *         bundle, loaded from beside this page: `make overlay` puts it there);
 *   sse   Server-Sent Events: `event: <name>` + `data: {"user","event","data"}` per event
 *         (the format is in README.md): the bridge's /events ([bridge] http).
 * SPDX-License-Identifier: MIT
 */
"use strict";

/* the events the overlay shows; `state` is the retained running totals (sent first) */
const TT_EVENTS = ["chat", "gift", "like", "roomUser", "follow", "share", "state"];

function ttLoadScript(src) {
    return new Promise((resolve, reject) => {
        const s = document.createElement("script");
        s.src = src;
        s.onload = resolve;
        s.onerror = () => reject(new Error("cannot load " + src));
        document.head.appendChild(s);
    });
}

/* opts: {url, users: [] (empty: every streamer), base: "tiktok", lib: "mqtt.min.js"} */
async function ttSourceMqtt(opts, on) {
    on.status("connecting", opts.url);
    if (typeof window.mqtt === "undefined") {
        try {
            await ttLoadScript(opts.lib);
        } catch (e) {
            on.status("down", e.message + " (run `make overlay`, or pass ?mqttjs=URL)");
            return;
        }
    }
    const who = opts.users.length ? opts.users : ["+"];
    const topics = [];
    for (const u of who) {
        for (const ev of TT_EVENTS) {
            topics.push(opts.base + "/" + u + "/" + ev);
        }
    }
    const client = window.mqtt.connect(opts.url, {
        protocolVersion: 4,
        reconnectPeriod: 2000,
        clientId: "tt-overlay-" + Math.random().toString(16).slice(2, 10),
    });
    client.on("connect", () => {
        client.subscribe(topics, { qos: 0 }, (err) => {
            if (err) {
                on.status("down", "subscribe: " + err.message);
            } else {
                on.status("live", opts.url);
            }
        });
    });
    client.on("reconnect", () => on.status("connecting", opts.url));
    client.on("close", () => on.status("down", "connection to " + opts.url + " closed"));
    client.on("message", (topic, payload) => {
        /* <base>/<user>/<event>: the base may have slashes of its own */
        const parts = topic.slice(opts.base.length + 1).split("/");
        if (parts.length !== 2 || parts[0] === "bridge") {
            return; /* tiktok/+/state also matches tiktok/bridge/state */
        }
        let data;
        try {
            data = JSON.parse(new TextDecoder().decode(payload));
        } catch (e) {
            return;
        }
        on.event({ user: parts[0], event: parts[1], data: data });
    });
}

/* opts: {url, users: []}. The page asks for its streamers with ?user=a,b; a server that
 * ignores it sends all of them and the page picks its own. */
function ttSourceSse(opts, on) {
    let url = opts.url;
    if (opts.users.length) {
        url += (url.includes("?") ? "&" : "?") + "user=" + opts.users.map(encodeURIComponent).join(",");
    }
    on.status("connecting", url);
    const es = new EventSource(url);
    const handle = (msg) => {
        let o;
        try {
            o = JSON.parse(msg.data);
        } catch (e) {
            return;
        }
        if (o && typeof o.user === "string" && o.data && typeof o.data === "object") {
            on.event({ user: o.user, event: o.event || msg.type, data: o.data });
        }
    };
    for (const ev of TT_EVENTS) {
        es.addEventListener(ev, handle);
    }
    es.addEventListener("message", handle); /* lines without `event:` */
    es.onopen = () => on.status("live", url);
    es.onerror = () => on.status(es.readyState === EventSource.CLOSED ? "down" : "connecting", url);
}
