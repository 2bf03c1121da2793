'use strict';
// The content of a generated corpus, independent of any wire schema: a deterministic stream of
// "logical" TikTok LIVE messages (a chat, a gift step, a like, ...) grouped into frames. encode.js
// turns them into bytes in the 1.x or the full (v3) schema. Same seed -> same messages, always:
// the only randomness is the seeded generator below (no Math.random, no clock).
//
// The content aims at what breaks decoders: nicknames and comments in many scripts, RTL override,
// ZWJ emoji, combining marks, quotes, backslash, NUL, newline, tab, long and empty strings; user ids
// at 1, 2^53-1, 2^53+1, 2^54+1 and 2^63-1; counters past 2^31 and 2^53; gift streaks that
// interleave; badges of every kind 1.x reads; and a last frame that closes every open streak and
// ends the stream.
// SPDX-License-Identifier: MIT
const crypto = require('node:crypto');

// xoshiro128** seeded from sha256(seed): a small generator that is the same on every machine.
function rng(seed) {
  const h = crypto.createHash('sha256').update(`tiktok2mqtt corpus ${seed}`).digest();
  const s = [0, 4, 8, 12].map((i) => h.readUInt32LE(i));
  const rotl = (x, k) => (x << k) | (x >>> (32 - k));
  const u32 = () => {
    const r = Math.imul(rotl(Math.imul(s[1], 5), 7), 9) >>> 0;
    const t = s[1] << 9;
    s[2] ^= s[0]; s[3] ^= s[1]; s[1] ^= s[2]; s[0] ^= s[3]; s[2] ^= t; s[3] = rotl(s[3], 11);
    return r;
  };
  const unit = () => u32() / 4294967296;
  const int = (lo, hi) => lo + Math.floor(unit() * (hi - lo + 1)); // lo..hi inclusive
  return {
    unit, int,
    chance: (p) => unit() < p,
    pick: (list) => list[Math.floor(unit() * list.length)],
    big: (lo, hi) => lo + ((BigInt(u32()) << 32n) | BigInt(u32())) % (hi - lo + 1n), // BigInt lo..hi
    weighted: (table) => { // [[value, weight], ...]
      let x = unit() * table.reduce((t, [, w]) => t + w, 0);
      for (const [v, w] of table) if ((x -= w) < 0) return v;
      return table[table.length - 1][0];
    },
  };
}

const NAMES = ['Mia', 'Jürgen 🍺', '王小明', 'فاطمة', '🎮🎮', '', 'Chloé', 'Søren', '👨‍👩‍👧 crew', 'n\u0303o\u0308',
  '  ', 'Дмитрий', 'தமிழ்', 'ゲーム好き', '\u202Ereversed', 'say "hi" \\o/', 'two\nlines', 'tab\there', '𝓕𝓪𝓷𝓬𝔂',
  '😎', '🏳️‍⚧️ flag', 'y'.repeat(80), 'สมชาย', '민준', 'Αλέξης', 'יעל', 'soft\u00ADhyphen', '<i>tag</i>',
  'undefined', '-1', 'D\'Arcy', '🇫🇷🇧🇷', 'Mr. 🧪', 'ᛒᛟᚱᚾ', 'ǅuro'];
const HANDLES = ['mia.live', 'juergen_b', 'xiaoming88', 'f', '_', 'chloe.x', 'soren', 'crew3', 'dmitry', 'k'.repeat(24),
  'game_fan_jp', 'user7012345678901', '', 'night.owl', 'beatmaker'];
const COMMENTS = ['hey', 'greetings from Lyon 🥐', 'haha', '🤣🤣', '', 'second!', 'wie läuft\'s?', '主播好', 'أهلا',
  'やあ', 'W', '💙💙💙💙💙', '👨‍🔬 science stream?', 'shoutout @xiaoming88', 'line one\nline two', 'col\tcol',
  '"so" \\ what', 'b'.repeat(150), '∑∏∫≠≈', '🇮🇹🇲🇽', '[clap]', 'great [love] show [clap]', '🫶',
  'a\u0308 combined', 'before\u0000after', '🏴‍☠️pirate', 'no\u200Dbreak', 'ok', 'which song?'];
const QUESTIONS = ['Which mic is that?', 'Woher kommst du?', '你喜欢什么？', '', '🎲 next game?', 'w'.repeat(200),
  'Answer "this" \\ please'];
const INTROS = ['Hi, I am live! 🎶 Follow me', '', 'Be kind in chat', '韓国語の配信', 'Rules:\n- no spam\n- enjoy', '🟢 daily at 9'];
// [id, name, type (1 = can be sent as a streak), diamonds]
const GIFTS = [[5655, 'Rose', 1, 1], [5269, 'TikTok', 1, 1], [5827, 'Ice Cream Cone', 1, 1], [6064, 'GG', 1, 1],
  [5487, 'Finger Heart', 1, 5], [6104, 'Cap', 1, 99], [8913, 'Rosa', 1, 10], [6267, 'Corgi', 2, 299],
  [5585, 'Confetti', 2, 100], [6369, 'Lion', 2, 29999], [7312, 'TikTok Universe', 2, 44999], [1, 'Free (zero)', 1, 0]];
const EMOTES = [['7120000000000000011', 'clap'], ['7120000000000000012', 'love']];
const CDN = 'https://p16-webcast.tiktokcdn.com';
const ROOM_ID = '7301234567890123456'; // the simulator's default room for a replayed corpus
const HOST_ID = 6812345678901234567n;
const T0 = 1700000000000n; // ms, the corpus' clock starts here
const EDGE_IDS = [1n, 2n ** 53n - 1n, 2n ** 53n + 1n, 2n ** 54n + 1n, 2n ** 63n - 1n, 7000000000000000001n];

function users(r, n) {
  const out = [];
  for (let i = 0; i < n; i++) {
    const id = i < EDGE_IDS.length ? EDGE_IDS[i] : r.big(10n ** 15n, 7400000000000000000n);
    const badges = [];
    if (r.chance(0.1)) badges.push({ kind: 'text', scene: 1, display: 1, key: 'moderator', text: 'Moderator' });
    if (r.chance(0.15)) badges.push({ kind: 'image', scene: r.pick([4, 7]), display: 1, url: `${CDN}/badge/sub_${i % 4}.png` });
    if (r.chance(0.3)) badges.push({ kind: 'privilege', scene: 8, privilege: '7138381747292542756', level: String(r.int(0, 50)) });
    if (r.chance(0.05)) badges.push({ kind: 'image', scene: 6, display: 1, url: `${CDN}/badge/top_gifter_${r.int(1, 3)}.png` });
    if (r.chance(0.1)) badges.push({ kind: 'privilege', scene: 10, privilege: '7196929090442513157', level: String(r.int(1, 30)) });
    if (r.chance(0.05)) badges.push({ kind: 'text', scene: 0, display: 2, key: 'new_gifter', text: 'New gifter' });
    out.push({
      id,
      nick: NAMES[i % NAMES.length],
      handle: i < HANDLES.length ? HANDLES[i] : r.chance(0.05) ? '' : `viewer${i}_${String(id).slice(-5)}`,
      secUid: r.chance(0.1) ? '' : 'MS4wLjABAAAA' + crypto.createHash('sha1').update(String(id)).digest('base64url').slice(0, 22),
      bio: r.pick(['', 'music & games 🎧', 'Paris ✈️ Tokyo', 'a\nb']),
      created: BigInt(1500000000 + r.int(0, 200000000)),
      avatars: r.pick([[], [`${CDN}/avatar/${id}_100.webp`, `${CDN}/avatar/${id}_100.jpeg`], [`${CDN}/avatar/${id}.jpeg`]]),
      follow: r.chance(0.8) ? { following: r.int(0, 5000), followers: r.int(0, 2000000000), status: r.int(0, 2), push: r.int(0, 1) } : null,
      badges,
    });
  }
  return out;
}

// The stream of messages. next() returns one logical message {kind, common, ...}.
class Stream {
  constructor(r) {
    this.r = r;
    this.users = users(r, 64);
    this.host = { ...this.users[10], id: HOST_ID, nick: 'Host 🎙️', handle: 'the_host' };
    this.n = 0;
    this.t = T0;
    this.streaks = []; // gift streaks under way
    this.likes = 0;
    this.viewers = 120;
  }

  common(method, key = undefined, pattern = undefined) {
    this.n++;
    this.t += BigInt(this.r.int(0, 900));
    const msgId = String(7300000000000000000n + BigInt(this.n) * 7919n + this.r.big(0n, 7000n));
    return { method, msgId, roomId: ROOM_ID, createTime: String(this.t), key, pattern };
  }

  someone() { return this.r.pick(this.users); }

  next() {
    const r = this.r;
    if (this.streaks.length >= 3 || (this.streaks.length && r.chance(0.12))) return this.streakStep(r.int(0, this.streaks.length - 1));
    const kind = r.weighted([['chat', 30], ['like', 14], ['member', 14], ['gift', 6], ['follow', 4], ['share', 3], ['social', 1],
      ['roomUser', 6], ['questionNew', 2], ['linkMicBattle', 1], ['linkMicArmies', 4], ['liveIntro', 1], ['control', 1]]);
    return this[kind]();
  }

  chat() {
    const text = this.r.pick(COMMENTS);
    const emotes = EMOTES.filter(([, name]) => text.includes(`[${name}]`)).map(([id, name], index) => ({ index, id, url: `${CDN}/emote/${name}.png` }));
    return { kind: 'chat', common: this.common('WebcastChatMessage'), user: this.someone(), text, emotes };
  }

  like() {
    const count = this.r.pick([1, 1, 3, 10, 15, 0]);
    this.likes += count;
    const total = this.r.chance(0.02) ? 3000000000 : this.likes; // past int32: 1.x wraps it
    return { kind: 'like', common: this.common('WebcastLikeMessage', 'pm_mt_msg_viewer', '{0:user} liked the LIVE'), user: this.someone(), count, total };
  }

  member() {
    this.viewers += this.r.int(0, 3);
    return { kind: 'member', common: this.common('WebcastMemberMessage', 'live_room_enter_toast', '{0:user} joined'), user: this.someone(),
      action: this.r.chance(0.95) ? 1 : 3, memberCount: this.viewers };
  }

  follow() {
    return { kind: 'social', action: 1, follows: this.r.int(1, 100000), user: this.someone(),
      common: this.common('WebcastSocialMessage', 'pm_main_follow_message_viewer_2', '{0:user} followed the LIVE creator') };
  }

  share() {
    return { kind: 'social', action: 3, shareType: this.r.int(0, 5), shareTarget: this.r.pick(['', 'whatsapp', 'copy_link']), user: this.someone(),
      common: this.common('WebcastSocialMessage', 'pm_mt_guidance_share', '{0:user} shared the LIVE') };
  }

  social() { // neither a follow nor a share: an empty display key
    return { kind: 'social', action: 0, user: this.someone(), common: this.common('WebcastSocialMessage', '', '') };
  }

  roomUser() {
    const ranks = Array.from({ length: this.r.int(0, 5) }, (_, i) => ({ rank: i + 1, user: this.someone(),
      score: this.r.pick([0n, 1n, 99n, 5000n, 2n ** 53n + 1n]) }));
    this.viewers = Math.max(0, this.viewers + this.r.int(-5, 20));
    return { kind: 'roomUser', common: this.common('WebcastRoomUserSeqMessage'), ranks, total: this.viewers, totalUser: this.viewers * 3 };
  }

  questionNew() {
    return { kind: 'questionNew', common: this.common('WebcastQuestionNewMessage'), questionId: String(7300000000000000000n + BigInt(this.n)),
      text: this.r.pick(QUESTIONS), user: this.someone() };
  }

  linkMicBattle() {
    return { kind: 'linkMicBattle', common: this.common('WebcastLinkMicBattle'), battleId: String(7310000000000000000n + BigInt(this.n)),
      action: this.r.pick([1, 4, 5]), anchors: [this.host, this.someone()] };
  }

  linkMicArmies() {
    const side = (host) => ({ host, score: this.r.int(0, 50000),
      army: Array.from({ length: this.r.int(0, 3) }, () => ({ user: this.someone(), score: this.r.int(1, 10000) })) });
    return { kind: 'linkMicArmies', common: this.common('WebcastLinkMicArmies'), battleId: String(7310000000000000000n + BigInt(this.n)),
      sides: [side(this.host), side(this.someone())], status: this.r.int(0, 3) };
  }

  liveIntro() {
    return { kind: 'liveIntro', common: this.common('WebcastLiveIntroMessage'), id: ROOM_ID, text: this.r.pick(INTROS), user: this.host };
  }

  control(action = this.r.pick([0, 1, 2])) { // 3 ends the stream: only in the last frame
    return { kind: 'control', common: this.common('WebcastControlMessage'), action };
  }

  gift() {
    const [id, name, type, diamonds] = this.r.pick(GIFTS);
    const s = { gift: { id, name, type, diamonds }, user: this.someone(), to: this.r.chance(0.2) ? this.someone() : this.host,
      group: String(this.t * 1000n + BigInt(this.r.int(0, 999))), sent: 0,
      length: type === 1 ? this.r.weighted([[1, 30], [2, 20], [3, 15], [5, 15], [10, 10], [30, 3]]) : 1 };
    if (type !== 1) return this.giftMessage(s, 1, this.r.chance(0.5) ? 1 : 0); // one message, no streak
    this.streaks.push(s);
    return this.streakStep(this.streaks.length - 1);
  }

  // The next message of streak i: repeatCount 1..length with repeatEnd 0, then the same count
  // again with repeatEnd 1, which ends it.
  streakStep(i) {
    const s = this.streaks[i];
    if (s.sent < s.length) return this.giftMessage(s, ++s.sent, 0);
    this.streaks.splice(i, 1);
    return this.giftMessage(s, s.sent, 1);
  }

  giftMessage(s, repeatCount, repeatEnd) {
    const common = this.common('WebcastGiftMessage', 'webcast_gift_send_message', '{0:user} sent {1:gift} x{2:string}');
    const extra = this.r.chance(0.5)
      ? JSON.stringify({ anchor_id: String(HOST_ID), gift_id: s.gift.id, repeat_count: repeatCount, send_gift_req_start_ms: Number(this.t) })
      : this.r.pick(['', '{broken json']);
    return { kind: 'gift', common, user: s.user, to: s.to, gift: s.gift, repeatCount, repeatEnd, group: s.group, monitorExtra: extra, sentMs: String(this.t) };
  }

  // What the last frame adds: the end of every open streak, then the end of the stream.
  finish() {
    const out = [];
    while (this.streaks.length) out.push(this.streakStep(0));
    out.push(this.control(3));
    return out;
  }
}

// The frames of a corpus: yields {index, messages, meta}. About 1 % are heartbeats ('hb', no
// messages); gzip of a 'msg' frame's payload with probability gzip.
function* frames(seed, count, gzip) {
  const r = rng(seed);
  const stream = new Stream(r);
  let logId = 7300000000000000000n;
  for (let i = 1; i <= count; i++) {
    logId += BigInt(r.int(1, 100000));
    const last = i === count;
    const hb = !last && i > 1 && r.chance(0.01);
    const messages = [];
    if (!hb) {
      const n = r.weighted([[1, 40], [2, 25], [3, 15], [4, 8], [5, 5], [6, 3], [8, 4]]);
      for (let k = 0; k < n; k++) messages.push(stream.next());
      if (last) messages.push(...stream.finish());
    }
    const now = String(stream.t + 150n);
    yield {
      index: i, messages,
      meta: {
        seqId: String(i), logId: String(logId), payloadType: hb ? 'hb' : 'msg', gzip: r.chance(gzip), now,
        cursor: `t-${now}_r-${i}_d-1_u-1`,
        internalExt: `internal_src:dim|wss_push_room_id:${ROOM_ID}|fetch_time:${now}|seq:${i}|wss_info:0-${now}-0-0`,
      },
    };
  }
}

module.exports = { rng, frames, ROOM_ID, HOST_ID, CDN };
