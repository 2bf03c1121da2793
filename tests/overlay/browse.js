/* Opens the overlay in Debian's headless Chromium (driven by playwright-core from build/npm),
 * waits (bounded) until what the page shows equals the expected snapshot, saves a screenshot
 * and prints the last snapshot as one JSON line: {"matched":bool,"snapshot":{...},"errors":[]}.
 *   node browse.js URL EXPECTED.json SCREENSHOT.png PROFILE_DIR [TIMEOUT_S]
 * The snapshot is what a viewer sees: chat lines per streamer (name, text, avatar loaded, any
 * HTML element in the text), gift alerts (streamer, name, gift, count, picture and avatar
 * loaded), counters, toasts, and whether anything of another streamer is on the page.
 * SPDX-License-Identifier: MIT
 */
"use strict";
const path = require("path");
const NPM = process.env.NPM || path.join(__dirname, "..", "..", "build", "npm", "node_modules");
const { chromium } = require(path.join(NPM, "playwright-core"));
const fs = require("fs");

const [url, expectedPath, shot, profile, timeoutS] = process.argv.slice(2);
const expected = JSON.parse(fs.readFileSync(expectedPath, "utf8"));

function snapshot() {
    const loaded = (img) => !!img && img.complete && img.naturalWidth > 0;
    const text = (el, sel) => (el.querySelector(sel) || {}).textContent || "";
    const chat = {};
    for (const l of document.querySelectorAll("#chat .line")) {
        (chat[l.dataset.user] = chat[l.dataset.user] || []).push({
            name: text(l, ".name"),
            text: text(l, ".text"),
            avatar: loaded(l.querySelector(".avatar")),
            html: l.querySelector(".text").children.length,
        });
    }
    const alerts = [...document.querySelectorAll("#alerts .alert")].map((a) => ({
        user: a.dataset.user,
        name: text(a, ".name"),
        gift: text(a, ".gift"),
        count: text(a, ".count"),
        done: a.classList.contains("done"),
        picture: loaded(a.querySelector(".picture")),
        avatar: loaded(a.querySelector(".avatar")),
    })).sort((x, y) => (x.gift < y.gift ? -1 : 1));
    const counters = {};
    for (const c of document.querySelectorAll("#counters .counter")) {
        counters[c.dataset.user] = { likes: text(c, ".likes .n"), viewers: text(c, ".viewers .n") };
    }
    const toasts = [...document.querySelectorAll("#toasts .toast")].map((t) => ({
        user: t.dataset.user,
        text: text(t, ".text"),
        avatar: loaded(t.querySelector(".avatar")),
    })).sort((x, y) => (x.text < y.text ? -1 : 1));
    return { status: document.body.dataset.status, chat, alerts, counters, toasts };
}

/* JSON with every object's keys sorted: the order streamers first showed up does not matter */
function canon(v) {
    if (Array.isArray(v)) {
        return "[" + v.map(canon).join(",") + "]";
    }
    if (v && typeof v === "object") {
        return "{" + Object.keys(v).sort().map((k) => JSON.stringify(k) + ":" + canon(v[k])).join(",") + "}";
    }
    return JSON.stringify(v);
}

(async () => {
    const errors = [];
    const ctx = await chromium.launchPersistentContext(profile, {
        executablePath: "/usr/bin/chromium",
        headless: true,
        viewport: { width: 1280, height: 720 },
        args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
               "--disable-background-networking", "--disable-component-update", "--disable-sync"],
    });
    let last = null;
    let matched = false;
    try {
        const page = ctx.pages()[0] || (await ctx.newPage());
        page.on("pageerror", (e) => errors.push("page: " + e.message));
        page.on("console", (m) => m.type() === "error" && errors.push("console: " + m.text()));
        /* nothing but loopback: a request elsewhere is an error of the page */
        await page.route("**/*", (route) => {
            const u = new URL(route.request().url());
            if (u.hostname === "127.0.0.1" || u.hostname === "localhost") {
                return route.continue();
            }
            errors.push("off-loopback request: " + u.href);
            return route.abort();
        });
        await page.goto(url);
        const want = canon(expected);
        const end = Date.now() + 1000 * Number(timeoutS || 30);
        while (Date.now() < end) {
            last = await page.evaluate(snapshot);
            if (canon(last) === want) {
                matched = true;
                break;
            }
            await page.waitForTimeout(100);
        }
        /* the newest line may still be fading in: let the page's own animations finish */
        await page.evaluate(() => Promise.all(document.getAnimations().map((a) => a.finished)));
        await page.screenshot({ path: shot });
    } finally {
        await ctx.close();
    }
    process.stdout.write(JSON.stringify({ matched, snapshot: last, errors }) + "\n");
})().catch((e) => {
    process.stdout.write(JSON.stringify({ matched: false, snapshot: null, errors: [String(e)] }) + "\n");
    process.exit(1);
});
