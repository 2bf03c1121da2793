/* tiktok2mqtt overlay: turns events into chat lines, gift alerts, counters and toasts.
 * Everything from an event goes into the page as text or as an http(s) image URL, never as
 * HTML: chat is written by strangers.
 * SPDX-License-Identifier: MIT
 */
"use strict";

const params = new URLSearchParams(location.search);
const cfg = {
    users: (params.get("user") || "").split(",").map((s) => s.trim().replace(/^@/, "")).filter(Boolean),
    base: params.get("base") || "tiktok",
    alertMs: 1000 * (Number(params.get("alert")) || 6), /* a gift alert stays this long */
    toastMs: 1000 * (Number(params.get("toast")) || 5),
    lines: Number(params.get("lines")) || 12, /* chat lines kept */
    maxAlerts: 4,
    maxToasts: 3,
};

const $ = (sel) => document.querySelector(sel);
const streamers = new Map(); /* user -> {likes, viewers, el} */
const alerts = new Map(); /* streak key -> {el, timer} */

function safeUrl(u) {
    try {
        const p = new URL(u, location.href);
        return p.protocol === "http:" || p.protocol === "https:" ? p.href : "";
    } catch (e) {
        return "";
    }
}

function clone(id) {
    return document.getElementById(id).content.firstElementChild.cloneNode(true);
}

function setImg(img, url) {
    const u = safeUrl(url || "");
    if (u) {
        img.src = u;
    } else {
        img.remove();
    }
}

function who(d) {
    return d.nickname || d.uniqueId || "someone";
}

function fmt(n) {
    return Number(n).toLocaleString("en-US");
}

/* ---- counters: one row per streamer ---- */

function streamer(user) {
    let s = streamers.get(user);
    if (!s) {
        s = { likes: 0, viewers: 0, el: clone("t-counter") };
        s.el.dataset.user = user;
        s.el.querySelector(".who").textContent = "@" + user;
        $("#counters").appendChild(s.el);
        streamers.set(user, s);
    }
    return s;
}

function showCounts(user) {
    const s = streamer(user);
    s.el.querySelector(".likes .n").textContent = fmt(s.likes);
    s.el.querySelector(".viewers .n").textContent = fmt(s.viewers);
}

/* TikTok's like totals come from several servers and may go back: keep the largest */
function onLikes(user, total) {
    const s = streamer(user);
    if (Number.isFinite(total) && total > s.likes) {
        s.likes = total;
    }
    showCounts(user);
}

function onViewers(user, n) {
    if (Number.isFinite(n)) {
        streamer(user).viewers = n;
    }
    showCounts(user);
}

function onState(user, d) {
    if (d.live === false) {
        return; /* the totals of an ended live */
    }
    onLikes(user, d.totalLikeCount);
    onViewers(user, d.viewerCount);
}

/* ---- chat ---- */

function onChat(user, d) {
    const el = clone("t-chat");
    setImg(el.querySelector(".avatar"), d.profilePictureUrl);
    el.querySelector(".name").textContent = who(d);
    el.querySelector(".text").textContent = d.comment || "";
    const tag = el.querySelector(".streamer");
    if (streamers.size > 1 || cfg.users.length > 1) {
        tag.textContent = "@" + user;
    } else {
        tag.remove();
    }
    el.dataset.user = user;
    const chat = $("#chat");
    chat.appendChild(el);
    while (chat.children.length > cfg.lines) {
        chat.firstElementChild.remove();
    }
}

/* ---- gift alerts: one per streak, its count going up until the streak ends ---- */

function dropAlert(key) {
    const a = alerts.get(key);
    if (a) {
        clearTimeout(a.timer);
        a.el.remove();
        alerts.delete(key);
    }
}

function onGift(user, d) {
    const key = user + "/" + (d.groupId || d.msgId) + "/" + d.userId + "/" + d.giftId;
    let a = alerts.get(key);
    if (!a) {
        a = { el: clone("t-alert"), timer: 0 };
        setImg(a.el.querySelector(".picture"), d.giftPictureUrl);
        setImg(a.el.querySelector(".avatar"), d.profilePictureUrl);
        a.el.querySelector(".name").textContent = who(d);
        a.el.querySelector(".gift").textContent = d.giftName || "a gift";
        a.el.dataset.user = user;
        $("#alerts").prepend(a.el);
        alerts.set(key, a);
        while (alerts.size > cfg.maxAlerts) {
            dropAlert(alerts.keys().next().value);
        }
    }
    a.el.querySelector(".count").textContent = "x" + (d.repeatCount || 1);
    const done = d.repeatEnd || d.giftType !== 1; /* only type 1 gifts streak */
    a.el.classList.toggle("done", !!done);
    a.el.dataset.count = String(d.repeatCount || 1);
    clearTimeout(a.timer);
    /* an unfinished streak also goes after a while: its end may never come */
    a.timer = setTimeout(() => dropAlert(key), cfg.alertMs);
}

/* ---- follow and share toasts ---- */

function toast(user, d, text) {
    const el = clone("t-toast");
    setImg(el.querySelector(".avatar"), d.profilePictureUrl);
    el.querySelector(".text").textContent = text;
    el.dataset.user = user;
    const box = $("#toasts");
    box.appendChild(el);
    while (box.children.length > cfg.maxToasts) {
        box.firstElementChild.remove();
    }
    setTimeout(() => el.remove(), cfg.toastMs);
}

function onEvent(ev) {
    if (cfg.users.length && !cfg.users.includes(ev.user)) {
        return;
    }
    const d = ev.data;
    switch (ev.event) {
    case "chat":
        onChat(ev.user, d);
        break;
    case "gift": /* giftEnd repeats a streak's last gift: not shown twice */
        onGift(ev.user, d);
        break;
    case "like":
        onLikes(ev.user, d.totalLikeCount);
        break;
    case "roomUser":
        onViewers(ev.user, d.viewerCount);
        break;
    case "state":
        onState(ev.user, d);
        break;
    case "follow":
        toast(ev.user, d, who(d) + " followed @" + ev.user);
        break;
    case "share":
        toast(ev.user, d, who(d) + " shared the LIVE");
        break;
    default:
        break;
    }
}

function onStatus(state, detail) {
    document.body.dataset.status = state;
    $("#status").textContent = state === "live" ? "" : state + ": " + (detail || "");
}

function main() {
    const bg = params.get("bg");
    if (bg && CSS.supports("background", bg)) {
        document.body.style.background = bg; /* transparent by default, for OBS */
    }
    for (const u of cfg.users) {
        showCounts(u);
    }
    const on = { event: onEvent, status: onStatus };
    if (params.get("sse")) {
        ttSourceSse({ url: params.get("sse"), users: cfg.users }, on);
    } else if (params.get("mqtt")) {
        ttSourceMqtt({ url: params.get("mqtt"), users: cfg.users, base: cfg.base,
                       lib: params.get("mqttjs") || "mqtt.min.js" }, on);
    } else {
        onStatus("down", "no source: add ?mqtt=ws://HOST:PORT or ?sse=/events");
    }
}

main();
