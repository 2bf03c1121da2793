/** @file cfg_table.h
 * Every configuration key (docs/config.md), in one X-macro table: CFG_TABLE(X) is
 * the whole of it, written as one block per section so that cfg.h can build each section's
 * struct from its block. From this table come the struct fields (cfg.h), the defaults, the
 * parser's key lookup and typed parsing with bounds, the printer (secrets masked), the reload
 * diff, test_cfg's check that etc/tiktok2mqtt.ini documents every key, and the key reference
 * (tools/gen_config_ref.py writes docs/config.md's and man/tiktok2mqtt.ini.5's tables from
 * here; tests/docs fails when they or the example drift). Adding a key is one row here, one
 * entry in etc/tiktok2mqtt.ini and `make docs`.
 *
 * Columns: X(section, key, type, field, default, min, max, flags, aux, doc)
 *   default  the value as it would be written in the file, parsed by the same code as the
 *            file; NULL where it is computed at load (client_id, state_file, ttwid_file,
 *            topic)
 *   min/max  bounds of the integer types (INT, SEC, MS, BYTES; CLIENTID: length)
 *   aux      ENUM: the allowed values, '|'-separated, in the order of the C enum in cfg.h;
 *            SECRET: the environment variable that wins over the file; NULL otherwise
 *   doc      what the key does, for the reference: one sentence or two, `code` in backticks,
 *            no double quote, '|' or backslash. Type, default, bounds, reload and the
 *            environment variable are rendered from the other columns: not repeated here.
 *
 * Types (cfg.h gives the C type of each):
 *   BOOL      true/false (also yes/no, on/off, 1/0)
 *   INT, SEC, MS, BYTES   a plain decimal integer within [min, max]; SEC/MS/BYTES name a unit
 *   ENUM      one of aux
 *   STR       any text without control characters
 *   URI       the MQTT broker: tcp://, mqtt://, ssl://, mqtts://, ws://, wss://
 *   URL       an http:// or https:// host[:port], no path, no trailing slash
 *   PROXY     http://[user:pass@]host:port (socks5://, socks5h://, https:// see cfg.c)
 *   TOPIC     a topic prefix of one or more levels (handle.h bridge_topic_check)
 *   NAME      a handle-shaped topic level (handle.h bridge_handle_normalize)
 *   CLIENTID  printable ASCII, no spaces, length within [min, max]
 *   ADDR      ADDR:PORT to listen on
 *   PATH      a path, relative ones taken from the config file's directory
 *   RPATH     a PATH that must be readable at load
 *   SECRET    a PATH whose first line is the secret (the `*_file` keys)
 *   SHARD     i/n with 1 <= i <= n
 *   EVENTS    `all` or a comma list of event names
 *   PARAMS    k=v&k=v
 *   HEADERS   Name: value; Name: value
 *
 * SPDX-License-Identifier: MIT
 */
#ifndef BRIDGE_CFG_TABLE_H
#define BRIDGE_CFG_TABLE_H

#define CFG_REQUIRED   0x01u /* may not be set empty (the default always gives a value) */
#define CFG_SECRET     0x02u /* the value is never printed or logged: shown as *** */
#define CFG_RELOADABLE 0x04u /* a change takes effect on SIGHUP without a restart */
#define CFG_STREAMER   0x08u /* may be overridden in a [streamer:HANDLE] section */
#define CFG_PRIVATE    0x10u /* names a file others should not read: warned when they can */
/* [tiktok] keys are libtiktok's options (tt_options_set, connector/src/options.c) of the same
 * name, a SECRET key `x_file` giving option `x` its secret (cfg_tt.c maps them, and test_cfg
 * checks that every one is known to the library), except: */
#define CFG_BRIDGE_ONLY 0x20u /* the bridge's own: not a libtiktok option */
#define CFG_OWN_DEFAULT 0x40u /* a default unlike libtiktok's, on purpose (test_cfg checks) */

/* Flags shared by every [tiktok] key: each may be overridden per streamer, and a change only
 * restarts the streamers it applies to. */
#define CFG_TT (CFG_STREAMER | CFG_RELOADABLE)

/* clang-format off */
#define CFG_KEYS_BRIDGE(X) \
X(bridge, log_level,       ENUM,   log_level,       "info",    0, 0,        CFG_REQUIRED | CFG_RELOADABLE, "error|warn|info|debug|trace", \
  "how much is logged") \
X(bridge, health_interval, SEC,    health_interval, "60",      1, 86400,    CFG_RELOADABLE, NULL, \
  "between publishes of `<base>/bridge/health`") \
X(bridge, state_interval,  SEC,    state_interval,  "5",       1, 3600,     CFG_RELOADABLE, NULL, \
  "`<base>/<user>/state` is published at most this often (and on stream start and end)") \
X(bridge, http,            ADDR,   http,            "",        0, 0,        0,              NULL, \
  "ADDR:PORT of the HTTP server: Prometheus `/metrics`, `/healthz`, the Server-Sent Events " \
  "stream `/events` and the overlay under `/overlay/`, over plain HTTP without " \
  "authentication (keep it on loopback): `127.0.0.1:9100`, `[::1]:9100`, `0.0.0.0:9100`, " \
  "`localhost:9100`; empty: off") \
X(bridge, metrics,         ADDR,   metrics,         "",        0, 0,        0,              NULL, \
  "the old name of `http`, still accepted; setting both is an error") \
X(bridge, overlay_dir,     PATH,   overlay_dir,     "",        0, 0,        0,              NULL, \
  "the overlay files served under `/overlay/`. Empty: found beside the program, " \
  "`<bindir>/../share/tiktok2mqtt/overlay` (make install, the package), else the source " \
  "tree's `contrib/overlay`") \
X(bridge, api,             BOOL,   api,             "true",    0, 0,        0,              NULL, \
  "the runtime API on `<base>/bridge/request/<cmd>`; access control is the broker's ACL") \
X(bridge, state_file,      PATH,   state_file,      NULL,      0, 0,        0,              NULL, \
  "where streamers added or removed at run time are kept. Default: the configuration's " \
  "absolute path + `.state`; under systemd's `StateDirectory=` (`$STATE_DIRECTORY` set), " \
  "`$STATE_DIRECTORY/<configuration file name>.state`. Beside it, written at exit, " \
  "`<name>.seen` (`.state` replaced; `<name>.<instance>.seen` for a shard): the msgIds each " \
  "streamer published last, so that a restart does not publish a backlog again " \
  "(docs/mqtt.md, \"A backlog is published once\")") \
X(bridge, raw,             BOOL,   raw,             "false",   0, 0,        CFG_RELOADABLE, NULL, \
  "publish messages of unknown type on `<base>/<user>/rawData/<Method>`") \
X(bridge, record_dir,      PATH,   record_dir,      "",        0, 0,        0,              NULL, \
  "record the raw frames of every streamer, one directory per room " \
  "`<record_dir>/<handle>/<room_id>/` (made 0750 if missing, not its parents), capped at 1 " \
  "GiB per room; `tiktok-live-sim --replay` plays one back; empty: off") \
X(bridge, shard,           SHARD,  shard,           "1/1",     0, 0,        0,              NULL, \
  "`i/n` with 1 <= i <= n <= 65535: this instance owns a handle when FNV-1a-32(handle) mod n " \
  "= i - 1") \
X(bridge, instance,        NAME,   instance,        NULL,      0, 0,        0,              NULL, \
  "this instance's own level in the bridge topics: `<base>/bridge/<instance>/state`, `info`, " \
  "`health` and `event` (requests stay on `<base>/bridge/request/<cmd>`). Default: " \
  "`shard<i>` (`shard2` for `2/3`) when `shard` is not `1/1`, else none (the topics stay " \
  "`<base>/bridge/state`, ...); `request` and `response` are refused") \
X(bridge, ttwid_file,      PATH,   ttwid_file,      NULL,      0, 0,        CFG_PRIVATE,    NULL, \
  "the direct path's devices (a `ttwid` token and the User-Agent it was minted with), one " \
  "JSON line each (`token`, `ua`, `minted`, `blocked`), so a restart reuses them; rewritten " \
  "(mode 0600) on every mint or block, but never when it exists and cannot be read (an " \
  "error is logged, the devices last until a restart); `--probe` reuses it too. Default: " \
  "`ttwid.jsonl` in " \
  "the directory of `state_file` (docs/protocol.md, the direct path)") \
X(bridge, streamers_per_device, INT, streamers_per_device, "50", 1, 100000, 0,            NULL, \
  "streamers that share one direct-path device before another is minted")

#define CFG_KEYS_MQTT(X) \
X(mqtt, uri,           URI,      uri,           "tcp://127.0.0.1:1883", 0, 0,   CFG_REQUIRED, NULL, \
  "the broker: `tcp://`, `mqtt://`, `ssl://`, `mqtts://`, `ws://` or `wss://` + `host[:port]` " \
  "(`ws`/`wss` may add `/path`; IPv6 as `[::1]`); no credentials in the URI, use `username` " \
  "and `password_file`") \
X(mqtt, client_id,     CLIENTID, client_id,     NULL,       1, 128,             0,            NULL, \
  "printable ASCII without spaces; over 23 bytes gets a warning (MQTT 3.1.1 brokers need not " \
  "accept it). Default: `tiktok2mqtt-<host>-<hash>`, stable across restarts, 23 bytes at most") \
X(mqtt, username,      STR,      username,      "",         0, 0,               0,            NULL, \
  "the user name, valid UTF-8 without control characters (MQTT sends it as UTF-8); not " \
  "together with `username_file`") \
X(mqtt, username_file, SECRET,   username_file, "",         0, 0,               CFG_PRIVATE,  NULL, \
  "the user name from a file, as `username`") \
X(mqtt, password_file, SECRET,   password_file, "",         0, 0,               CFG_PRIVATE,  "TIKTOK2MQTT_MQTT_PASSWORD", \
  "the password from a file") \
X(mqtt, protocol,      ENUM,     protocol,      "5",        0, 0,               CFG_REQUIRED, "5|3.1.1", \
  "with `5` the bridge falls back to 3.1.1 when the broker refuses 5") \
X(mqtt, base_topic,    TOPIC,    base_topic,    "tiktok",   0, 0,               CFG_REQUIRED, NULL, \
  "the first level(s) of every topic: no `+`, `#`, empty level, leading or trailing `/`, " \
  "leading `$`, control character; valid UTF-8") \
X(mqtt, qos,           INT,      qos,           "1",        0, 2,               0,            NULL, \
  "of the event messages") \
X(mqtt, keepalive,     SEC,      keepalive,     "30",       1, 65535,           0,            NULL, \
  "MQTT keepalive; the broker publishes the last will about 1.5 times this after a loss") \
X(mqtt, max_buffered,  INT,      max_buffered,  "100000",   1, 10000000,        0,            NULL, \
  "messages held while the broker is away; past it the oldest events are dropped, and counted " \
  "(answers, statuses and retained topics go first and are dropped last)") \
X(mqtt, max_buffered_bytes, BYTES, max_buffered_bytes, "33554432", 0, 4294967295, 0,     NULL, \
  "the same cap in bytes (topics, payloads and a header of about 100 bytes each), so a " \
  "backlog of large events cannot grow the process past it: 32 MiB holds about 30,000 " \
  "events of 1 KB; 0: no cap") \
X(mqtt, max_payload_bytes, BYTES, max_payload_bytes, "0",  0, 268435455,       0,            NULL, \
  "a message with a larger payload is dropped and counted, not sent; 0: no limit. For brokers " \
  "of MQTT 3.1.1, which cannot announce their limit (MQTT 5 brokers announce theirs in CONNACK, " \
  "and it is always honoured)") \
X(mqtt, flush_timeout, SEC,      flush_timeout, "10",       0, 3600,            0,            NULL, \
  "on shutdown, how long the bridge waits for the broker to take every queued message (the " \
  "streamers' stopped statuses and `bridge/state` offline); 0: no wait, and the broker's will " \
  "says `bridge/state` offline") \
X(mqtt, event_expiry,  SEC,      event_expiry,  "0",        0, 4294967295LL,    0,            NULL, \
  "MQTT 5 message expiry of events; 0: none") \
X(mqtt, ca_file,       RPATH,    ca_file,       "",         0, 0,               0,            NULL, \
  "TLS only: the CA (PEM) of the broker's certificate; empty: the system's CAs") \
X(mqtt, cert_file,     RPATH,    cert_file,     "",         0, 0,               0,            NULL, \
  "TLS client certificate (PEM); with `key_file`") \
X(mqtt, key_file,      RPATH,    key_file,      "",         0, 0,               CFG_PRIVATE,  NULL, \
  "its key (PEM); warned when group or others can read it") \
X(mqtt, tls_insecure,  BOOL,     tls_insecure,  "false",    0, 0,               0,            NULL, \
  "`true` skips verification of the broker's certificate; never implied, logged as a warning")

#define CFG_KEYS_HOMEASSISTANT(X) \
X(homeassistant, enabled,          BOOL,  enabled,          "true",          0, 0, 0,            NULL, \
  "Home Assistant MQTT discovery: one device per streamer") \
X(homeassistant, discovery_prefix, TOPIC, discovery_prefix, "homeassistant", 0, 0, CFG_REQUIRED, NULL, \
  "as `base_topic`, and different from it")

/* enable_extended_gift_info: libtiktok keeps the seed's default (off); the bridge turns it on,
 * so that gifts carry extendedGiftInfo and giftEnd's totalDiamonds has a diamond count even
 * when the message lacks one. */
#define CFG_KEYS_TIKTOK(X) \
X(tiktok, process_initial_data,        BOOL,    process_initial_data,        "true",  0, 0,          CFG_TT, NULL, \
  "emit the messages of the first fetch") \
X(tiktok, fetch_room_info_on_connect,  BOOL,    fetch_room_info_on_connect,  "true",  0, 0,          CFG_TT, NULL, \
  "fetch room info first") \
X(tiktok, enable_extended_gift_info,   BOOL,    enable_extended_gift_info,   "true",  0, 0,          CFG_TT | CFG_OWN_DEFAULT, NULL, \
  "gift names and diamond values (on, unlike tiktok-live-connector, because automations need " \
  "them)") \
X(tiktok, enable_websocket_upgrade,    BOOL,    enable_websocket_upgrade,    "true",  0, 0,          CFG_TT, NULL, \
  "use the WebSocket when offered") \
X(tiktok, enable_request_polling,      BOOL,    enable_request_polling,      "true",  0, 0,          CFG_TT, NULL, \
  "poll `im/fetch` when there is no WebSocket") \
X(tiktok, request_polling_interval_ms, MS,      request_polling_interval_ms, "1000",  100, 600000,   CFG_TT, NULL, \
  "between polls") \
X(tiktok, client_params,               PARAMS,  client_params,               "",      0, 0,          CFG_TT, NULL, \
  "extra query parameters merged over the built-in ones: keys of `A-Z a-z 0-9 _ . -`, values " \
  "of printable ASCII without spaces (URL-encode them)") \
X(tiktok, request_headers,             HEADERS, request_headers,             "",      0, 0,          CFG_TT, NULL, \
  "extra HTTP headers `Name: value; Name: value`: names are HTTP tokens, a value cannot " \
  "contain `;`") \
X(tiktok, websocket_headers,           HEADERS, websocket_headers,           "",      0, 0,          CFG_TT, NULL, \
  "extra headers of the WebSocket handshake, as `request_headers`") \
X(tiktok, request_timeout_ms,          MS,      request_timeout_ms,          "10000", 100, 600000,   CFG_TT, NULL, \
  "of one HTTP request") \
X(tiktok, websocket_timeout_ms,        MS,      websocket_timeout_ms,        "10000", 100, 600000,   CFG_TT, NULL, \
  "of the WebSocket handshake and of silence on it") \
X(tiktok, proxy,                       PROXY,   proxy,                       "",      0, 0,          CFG_TT, NULL, \
  "`http://[user:pass@]host:port` for HTTP and the WebSocket; `https://`, `socks5://`, " \
  "`socks5h://` only with `enable_websocket_upgrade = false`; its password is masked when " \
  "printed") \
X(tiktok, sign_flow,                   ENUM,    sign_flow,                   "auto",  0, 0,          CFG_TT | CFG_REQUIRED, "euler|legacy|session|direct|auto", \
  "how a connection is made: `direct` (no sign server: a `ttwid` device token and TikTok's " \
  "push edge), `euler` (the sign server's `/webcast/rooms/{room_id}/connect`), `legacy` " \
  "(`/webcast/sign_url`), `session` (unsigned; needs a session id), `auto` (`direct`, then " \
  "`euler` when the direct path is refused); docs/protocol.md (the direct path) says when each " \
  "is used") \
X(tiktok, sign_api_url,                URL,     sign_api_url,                "https://api.eulerstream.com", 0, 0, CFG_TT | CFG_REQUIRED, NULL, \
  "the sign server: `https://` or `http://` host[:port], no path, no trailing slash") \
X(tiktok, sign_api_key_file,           SECRET,  sign_api_key_file,           "",      0, 0,          CFG_TT | CFG_PRIVATE, "TIKTOK2MQTT_SIGN_API_KEY", \
  "the sign server's API key from a file; without one its free quota applies") \
X(tiktok, session_id_file,             SECRET,  session_id_file,             "",      0, 0,          CFG_TT | CFG_PRIVATE, "TIKTOK2MQTT_SESSION_ID", \
  "a TikTok session id from a file, for 18+ rooms and `sign_flow = session`; never logged") \
X(tiktok, tt_target_idc,               STR,     tt_target_idc,               "",      0, 0,          CFG_TT | CFG_SECRET, NULL, \
  "goes with the session id; never logged, printed as `***`") \
X(tiktok, web_base,                    URL,     web_base,                    "https://www.tiktok.com", 0, 0, CFG_TT | CFG_REQUIRED, NULL, \
  "as `sign_api_url`; paths `/@{handle}/live`, `/api-live/user/room/`, and `/` (the direct " \
  "path's `ttwid`)") \
X(tiktok, webcast_base,                URL,     webcast_base,                "https://webcast.tiktok.com", 0, 0, CFG_TT | CFG_REQUIRED, NULL, \
  "as `sign_api_url`; paths `/webcast/room/info/`, `/webcast/room/check_alive/`, " \
  "`/webcast/gift/list/`, `/webcast/im/fetch/`") \
X(tiktok, ca_file,                     RPATH,   ca_file,                     "",      0, 0,          CFG_TT, NULL, \
  "an extra CA for TikTok and the sign server; empty: the system's CAs") \
X(tiktok, allow_insecure,              BOOL,    allow_insecure,              "false", 0, 0,          CFG_TT, NULL, \
  "plain http/ws, or unverified TLS, to a host that is not loopback (loopback is always allowed)") \
X(tiktok, max_frame_bytes,             BYTES,   max_frame_bytes,             "1048576", 1024, 67108864,  CFG_TT, NULL, \
  "cap on one WebSocket frame") \
X(tiktok, max_inflate_bytes,           BYTES,   max_inflate_bytes,           "8388608", 1024, 268435456, CFG_TT, NULL, \
  "cap on one frame once inflated") \
X(tiktok, wait_until_live,             BOOL,    wait_until_live,             "true",  0, 0,          CFG_TT | CFG_BRIDGE_ONLY, NULL, \
  "poll while the streamer is offline instead of giving up") \
X(tiktok, live_check_interval,         SEC,     live_check_interval,         "60",    1, 86400,      CFG_TT | CFG_BRIDGE_ONLY, NULL, \
  "between those polls; each is a request to TikTok, so keep it at 30 or more") \
X(tiktok, reconnect_min_s,             SEC,     reconnect_min_s,             "5",     1, 86400,      CFG_TT | CFG_BRIDGE_ONLY, NULL, \
  "reconnect backoff: a random wait from this up to twice it, the ceiling doubling with each failure; at most `reconnect_max_s`") \
X(tiktok, reconnect_max_s,             SEC,     reconnect_max_s,             "300",   1, 86400,      CFG_TT | CFG_BRIDGE_ONLY, NULL, \
  "the backoff's ceiling") \
X(tiktok, room_info_interval,          SEC,     room_info_interval,          "300",   0, 86400,      CFG_TT | CFG_BRIDGE_ONLY, NULL, \
  "between refreshes of `<base>/<user>/room`; 0: only on connect") \
X(tiktok, events,                      EVENTS,  events,                      "all",   0, 0,          CFG_TT | CFG_REQUIRED | CFG_BRIDGE_ONLY, NULL, \
  "which events are published: `all`, or a comma list of event names (see below)") \
X(tiktok, push_base,                   STR,     push_base,                   "wss://webcast-ws.tiktok.com", 0, 0, CFG_TT | CFG_REQUIRED, NULL, \
  "the direct path's push edge: `wss://` (or `ws://`, loopback or with `allow_insecure`) " \
  "host[:port], no path; regional hosts of the same backend: `wss://webcast-ws.eu.tiktok.com`, " \
  "`wss://webcast-ws.us.tiktok.com`") \
X(tiktok, ttwid_tries,                 INT,     ttwid_tries,                 "3",     1, 20,         CFG_TT, NULL, \
  "requests of `web_base`'s home page for a `ttwid` before the direct path gives up (`auto` " \
  "then falls back)") \
X(tiktok, stale_timeout_s,             SEC,     stale_timeout_s,             "60",    1, 86400,      CFG_TT, NULL, \
  "the watchdog, on every WebSocket whatever the flow: nothing at all received (events, " \
  "heartbeat answers) for this long closes the socket (heartbeats go at least twice in that " \
  "time, so a quiet room's answers keep it); the bridge reconnects and counts it " \
  "(`staleCloses` in `bridge/health`, `tiktok2mqtt_streamer_stale_closes_total`)") \
X(tiktok, direct_retry_s,              SEC,     direct_retry_s,              "3600",  0, 604800,     CFG_TT, NULL, \
  "`auto`: after a fallback to `euler`, the streamer's next connection this long later tries " \
  "`direct` again") \
X(tiktok, resolve,                     STR,     resolve,                     "",      0, 0,          CFG_TT, NULL, \
  "`host:port:address,...`: requests and WebSockets to `host:port` go to that numeric address " \
  "instead of what DNS says, as curl's `--resolve` (tests give the simulator TikTok's names on " \
  "loopback); TikTok's cookies go only to `tiktok.com`, its subdomains and the hosts of " \
  "`web_base`, `webcast_base` and `push_base`, whatever the address")

/* Keys only a [streamer:HANDLE] section has (besides the [tiktok] overrides). */
#define CFG_KEYS_STREAMER(X) \
X(streamer, topic,      NAME, topic,      NULL,   0, 0, CFG_RELOADABLE, NULL, \
  "the `<user>` level of its topics, normalised and checked like a handle. Default: the handle") \
X(streamer, enabled,    BOOL, enabled,    "true", 0, 0, CFG_RELOADABLE, NULL, \
  "`false` keeps the streamer configured but not followed") \
X(streamer, record_dir, PATH, record_dir, "",     0, 0, CFG_RELOADABLE, NULL, \
  "this streamer's recordings go here instead of `[bridge] record_dir`")
/* clang-format on */

/** The one table: every key of every section. */
#define CFG_TABLE(X)   \
    CFG_KEYS_BRIDGE(X) \
    CFG_KEYS_MQTT(X) CFG_KEYS_HOMEASSISTANT(X) CFG_KEYS_TIKTOK(X) CFG_KEYS_STREAMER(X)

#endif
