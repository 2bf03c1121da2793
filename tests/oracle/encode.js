'use strict';
// Wire encoders for the logical messages of corpus.js: each returns {name, schema, frame(messages,
// meta) -> Buffer}, one binary WebSocket message as TikTok's push server sends it.
//
//   v1  the schema 1.2.3 ships (dist/proto/tiktokSchema.proto), encoded with that library's own
//       protobufjs. It holds only what 1.x models: push frame {id, type, binary}. protobufjs
//       writes every field that is set, defaults included. 2.x cannot read these frames.
//   v3  tiktok-live-proto's v3 schema (the one 2.5.0 decodes with; TikTok's full layout: push-frame
//       seqId, logId, headers, payloadEncoding "pb", common, User with idStr/displayId/...), with its
//       ts-proto encoders, which leave defaults off the wire like a proto3 server. Both versions
//       decode these, so one v3 corpus serves 1.x and 2.x.
//       A message {kind: 'raw', common: {method, msgId}, raw: Buffer} is carried as it is: its
//       bytes become the BaseProtoMessage payload (gen.js --messages: recorded inner messages).
// The field numbers are the schemas'; only the mapping of our content onto them is ours.
// SPDX-License-Identifier: MIT
const path = require('node:path');
const zlib = require('node:zlib');
const L = require('./library.js');
const { HOST_ID, CDN } = require('./corpus.js');

const giftImage = (g) => `${CDN}/gift/${g.id}.png`;

function v1(libDir) {
  const pb = require(require.resolve('protobufjs', { paths: [libDir] }));
  const schema = path.join(libDir, 'dist', 'proto', 'tiktokSchema.proto');
  const root = pb.loadSync(schema); // a root of our own: the library's cached one stays untouched
  const bytes = (type, obj) => {
    const T = root.lookupType('TikTok.' + type);
    return T.encode(T.fromObject(obj)).finish();
  };
  const badge = (b) => {
    if (b.kind === 'text') return { badgeSceneType: b.scene, badges: [{ type: b.key, name: b.text }] };
    if (b.kind === 'image') return { badgeSceneType: b.scene, imageBadges: [{ displayType: b.display, image: { url: b.url } }] };
    return { badgeSceneType: b.scene, privilegeLogExtra: { privilegeId: b.privilege, level: b.level } };
  };
  const user = (u) => ({
    userId: String(u.id), nickname: u.nick, uniqueId: u.handle, secUid: u.secUid, bioDescription: u.bio,
    createTime: String(u.created), profilePicture: { urls: u.avatars }, badges: u.badges.map(badge),
    ...(u.follow && { followInfo: { followingCount: u.follow.following, followerCount: u.follow.followers,
      followStatus: u.follow.status, pushStatus: u.follow.push } }),
  });
  const event = (c) => ({ msgId: c.msgId, createTime: c.createTime,
    ...(c.key !== undefined && { eventDetails: { displayType: c.key, label: c.pattern } }) });
  const body = {
    chat: (m) => ({ event: event(m.common), user: user(m.user), comment: m.text,
      emotes: m.emotes.map((e) => ({ placeInComment: e.index, emote: { emoteId: e.id, image: { imageUrl: e.url } } })) }),
    like: (m) => ({ event: event(m.common), user: user(m.user), likeCount: m.count, totalLikeCount: m.total | 0 }), // int32 here
    member: (m) => ({ event: event(m.common), user: user(m.user), actionId: m.action }),
    gift: (m) => ({ event: event(m.common), giftId: m.gift.id, repeatCount: m.repeatCount, repeatEnd: m.repeatEnd, user: user(m.user),
      groupId: m.group, monitorExtra: m.monitorExtra,
      giftDetails: { giftImage: { giftPictureUrl: giftImage(m.gift) }, giftName: m.gift.name, describe: `sent ${m.gift.name}`,
        giftType: m.gift.type, diamondCount: m.gift.diamonds },
      giftExtra: { timestamp: m.sentMs, receiverUserId: String(m.to.id) } }),
    social: (m) => ({ event: event(m.common), user: user(m.user) }),
    roomUser: (m) => ({ viewerCount: m.total, topViewers: m.ranks.map((x) => ({ coinCount: String(x.score), user: user(x.user) })) }),
    questionNew: (m) => ({ questionDetails: { questionText: m.text, user: user(m.user) } }),
    linkMicBattle: (m) => ({ battleUsers: m.anchors.map((a) => ({ battleGroup: { user: { userId: String(a.id), nickname: a.nick,
      uniqueId: a.handle, profilePicture: { urls: a.avatars } } } })) }),
    linkMicArmies: (m) => ({ battleStatus: m.status, battleItems: m.sides.map((s) => ({ hostUserId: String(s.host.id),
      battleGroups: [{ points: s.score, users: s.army.map((x) => user(x.user)) }] })) }),
    liveIntro: (m) => ({ id: m.id, description: m.text, user: user(m.user) }),
    control: (m) => ({ action: m.action }),
  };
  return {
    name: 'v1', schema,
    frame(messages, meta) {
      if (meta.payloadType !== 'msg') return Buffer.from(bytes('WebcastWebsocketMessage', { id: meta.logId, type: meta.payloadType, binary: Buffer.alloc(0) }));
      const response = bytes('WebcastResponse', {
        messages: messages.map((m) => ({ type: m.common.method, binary: bytes(m.common.method, body[m.kind](m)) })),
        cursor: meta.cursor, fetchInterval: 0, serverTimestamp: meta.now, internalExt: meta.internalExt, fetchType: 1, heartbeatDuration: 0, needAck: true,
      });
      const payload = meta.gzip ? zlib.gzipSync(response) : response;
      return Buffer.from(bytes('WebcastWebsocketMessage', { id: meta.logId, type: 'msg', binary: payload }));
    },
  };
}

async function v3(libDir) {
  const dir = L.protoDir(libDir);
  const P = await L.importFile(path.join(dir, 'dist', 'node', 'v3.js'));
  // ts-proto's encode() wants every field: start from the type's defaults (decoding no bytes).
  // Two types are exported under other names, their plain names being taken by others.
  const EXPORTED = { Text: 'MessageCommonText', EmoteWithIndex: 'EmojiEmoteWithIndex' };
  const make = (type, fields) => Object.assign(P[EXPORTED[type] || type].decode(new Uint8Array(0)), fields);
  const bytes = (type, obj) => Buffer.from(P[type].encode(obj).finish());
  const image = (urls) => make('ImageModel', { urlList: urls });
  const badge = (b) => {
    if (b.kind === 'text') return make('BadgeStruct', { sceneType: b.scene, displayType: b.display,
      text: make('TextBadge', { displayType: b.display, key: b.key, defaultPattern: b.text }) });
    if (b.kind === 'image') return make('BadgeStruct', { sceneType: b.scene, displayType: b.display,
      image: make('ImageBadge', { displayType: b.display, image: image([b.url]) }) });
    return make('BadgeStruct', { sceneType: b.scene, privilegeLogExtra: make('PrivilegeLogExtra', { privilegeId: b.privilege, level: b.level, dataVersion: '2' }) });
  };
  const user = (u) => make('User', {
    id: String(u.id), idStr: String(u.id), nickname: u.nick, displayId: u.handle, secUid: u.secUid, bioDescription: u.bio,
    createTime: String(u.created), avatarThumb: image(u.avatars), avatarMedium: image(u.avatars), avatarLarge: image(u.avatars),
    badgeList: u.badges.map(badge),
    followInfo: u.follow ? make('FollowInfo', { followingCount: String(u.follow.following), followerCount: String(u.follow.followers),
      followStatus: String(u.follow.status), pushStatus: String(u.follow.push) }) : undefined,
  });
  const common = (c) => make('CommonMessageData', { method: c.method, msgId: c.msgId, roomId: c.roomId, createTime: c.createTime, isShowMsg: true,
    displayText: c.key !== undefined ? make('Text', { key: c.key, defaultPattern: c.pattern }) : undefined });
  const body = {
    chat: (m) => ({ user: user(m.user), content: m.text, contentLanguage: 'en',
      emotes: m.emotes.map((e) => make('EmoteWithIndex', { index: e.index, emote: make('EmoteModel', { emoteId: e.id, image: image([e.url]) }) })) }),
    like: (m) => ({ user: user(m.user), count: m.count, total: String(m.total) }),
    member: (m) => ({ user: user(m.user), action: m.action, memberCount: m.memberCount }),
    gift: (m) => ({ giftId: String(m.gift.id), repeatCount: m.repeatCount, comboCount: m.repeatCount, groupCount: 1, repeatEnd: m.repeatEnd,
      user: user(m.user), toUser: user(m.to), groupId: m.group, monitorExtra: m.monitorExtra, logId: m.common.msgId,
      gift: make('Gift', { id: String(m.gift.id), name: m.gift.name, type: m.gift.type, diamondCount: m.gift.diamonds,
        describe: `sent ${m.gift.name}`, combo: m.gift.type === 1, image: image([giftImage(m.gift)]) }),
      monitorInfo: make('GiftMonitorInfo', { anchorId: String(HOST_ID), sendGiftSendMessageSuccessMs: m.sentMs, toUserId: String(m.to.id) }) }),
    social: (m) => ({ user: user(m.user), action: String(m.action), shareType: String(m.shareType || 0), shareTarget: m.shareTarget || '',
      followCount: String(m.follows || 0) }),
    roomUser: (m) => ({ total: String(m.total), totalUser: String(m.totalUser), popStr: String(m.total),
      ranks: m.ranks.map((x) => make('Contributor', { score: String(x.score), rank: String(x.rank), user: user(x.user) })) }),
    questionNew: (m) => ({ data: make('Question', { questionId: m.questionId, content: m.text, user: user(m.user), createTime: m.common.createTime }) }),
    linkMicBattle: (m) => ({ battleId: m.battleId, action: m.action,
      anchorsInfo: m.anchors.map((a) => make('BattleUserInfoWrapper', { key: String(a.id), value: make('BattleUserInfo', {
        user: make('BattleBaseUserInfo', { userId: String(a.id), nickName: a.nick, displayId: a.handle, avatarThumb: image(a.avatars), roomId: m.common.roomId }) }) })) }),
    linkMicArmies: (m) => ({ battleId: m.battleId, triggerReason: m.status,
      armies: Object.fromEntries(m.sides.map((s) => [String(s.host.id), make('BattleUserArmies', { hostscore: String(s.score), anchorIdStr: String(s.host.id),
        userArmies: s.army.map((x) => make('BattleUserArmy', { userId: String(x.user.id), userIdStr: String(x.user.id), score: String(x.score),
          nickname: x.user.nick, avatarThumb: image(x.user.avatars) })) })])) }),
    liveIntro: (m) => ({ id: m.id, content: m.text, user: user(m.user), auditStatus: 1 }),
    control: (m) => ({ action: m.action }),
  };
  const header = (key, value) => make('PushHeader', { key, value });
  return {
    name: 'v3', schema: `${path.join(dir, 'dist', 'node', 'v3.js')} (tiktok-live-proto@${L.pkgOf(dir).version})`,
    frame(messages, meta) {
      const frame = { seqId: meta.seqId, logId: meta.logId, payloadEncoding: 'pb', payloadType: meta.payloadType, payload: Buffer.alloc(0), headers: [] };
      if (meta.payloadType === 'msg') {
        const result = bytes('ProtoMessageFetchResult', make('ProtoMessageFetchResult', {
          messages: messages.map((m) => make('BaseProtoMessage', { method: m.common.method, msgId: m.common.msgId, msgType: 0, offset: '0', isHistory: false,
            payload: m.raw || bytes(m.common.method, make(m.common.method, { common: common(m.common), ...body[m.kind](m) })) })),
          cursor: meta.cursor, fetchInterval: '0', now: meta.now, internalExt: meta.internalExt, fetchType: 1, heartbeatDuration: '0', needAck: true,
        }));
        frame.payload = meta.gzip ? zlib.gzipSync(result) : result;
        frame.headers = [header('compress_type', meta.gzip ? 'gzip' : 'none'), header('im-cursor', meta.cursor),
          header('im-internal_ext', meta.internalExt), header('im-now', meta.now)];
      }
      return bytes('WebcastPushFrame', make('WebcastPushFrame', frame));
    },
  };
}

// The encoder of a schema ('v1' needs a 1.x library: its .proto is the schema).
async function encoder(schema, libDir) {
  if (schema === 'v1') return v1(libDir);
  if (schema === 'v3') return v3(libDir);
  throw new Error(`unknown schema ${schema} (v1 or v3)`);
}

module.exports = { encoder };
