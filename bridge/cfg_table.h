/** @file cfg_table.h
 * Every configuration key of docs/mqtt-contract.md §4, in one X-macro table: CFG_TABLE(X) is
 * the whole of it, written as one block per section so that cfg.h can build each section's
 * struct from its block. From this table come the struct fields (cfg.h), the defaults, the
 * parser's key lookup and typed parsing with bounds, the printer (secrets masked), the reload
 * diff, and test_cfg's check that etc/tiktok2mqtt.ini documents every key. Adding a key is
 * one line here, one in etc/tiktok2mqtt.ini and one in bridge/CONFIG.md.
 *
 * Columns: X(section, key, type, field, default, min, max, flags, aux)
 *   default  the value as it would be written in the file, parsed by the same code as the
 *            file; NULL where it is computed at load (client_id, state_file, topic)
 *   min/max  bounds of the integer types (INT, SEC, MS, BYTES; CLIENTID: length)
 *   aux      ENUM: the allowed values, '|'-separated, in the order of the C enum in cfg.h;
 *            SECRET: the environment variable that wins over the file; NULL otherwise
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
#define CFG_OWN_DEFAULT \
    0x40u /* the bridge's default differs from libtiktok's on purpose
                                 (test_cfg checks every other default equals the library's) */

/* Flags shared by every [tiktok] key: each may be overridden per streamer, and a change only
 * restarts the streamers it applies to. */
#define CFG_TT (CFG_STREAMER | CFG_RELOADABLE)

/* clang-format off */
#define CFG_KEYS_BRIDGE(X) \
X(bridge, log_level,       ENUM,   log_level,       "info",    0, 0,        CFG_REQUIRED | CFG_RELOADABLE, "error|warn|info|debug|trace") \
X(bridge, health_interval, SEC,    health_interval, "60",      1, 86400,    CFG_RELOADABLE, NULL) \
X(bridge, state_interval,  SEC,    state_interval,  "5",       1, 3600,     CFG_RELOADABLE, NULL) \
X(bridge, metrics,         ADDR,   metrics,         "",        0, 0,        0,              NULL) \
X(bridge, api,             BOOL,   api,             "true",    0, 0,        0,              NULL) \
X(bridge, state_file,      PATH,   state_file,      NULL,      0, 0,        0,              NULL) \
X(bridge, raw,             BOOL,   raw,             "false",   0, 0,        CFG_RELOADABLE, NULL) \
X(bridge, record_dir,      PATH,   record_dir,      "",        0, 0,        0,              NULL) \
X(bridge, shard,           SHARD,  shard,           "1/1",     0, 0,        0,              NULL)

#define CFG_KEYS_MQTT(X) \
X(mqtt, uri,           URI,      uri,           "tcp://127.0.0.1:1883", 0, 0,   CFG_REQUIRED, NULL) \
X(mqtt, client_id,     CLIENTID, client_id,     NULL,       1, 128,             0,            NULL) \
X(mqtt, username,      STR,      username,      "",         0, 0,               0,            NULL) \
X(mqtt, username_file, SECRET,   username_file, "",         0, 0,               CFG_PRIVATE,  NULL) \
X(mqtt, password_file, SECRET,   password_file, "",         0, 0,               CFG_PRIVATE,  "TIKTOK2MQTT_MQTT_PASSWORD") \
X(mqtt, protocol,      ENUM,     protocol,      "5",        0, 0,               CFG_REQUIRED, "5|3.1.1") \
X(mqtt, base_topic,    TOPIC,    base_topic,    "tiktok",   0, 0,               CFG_REQUIRED, NULL) \
X(mqtt, qos,           INT,      qos,           "1",        0, 2,               0,            NULL) \
X(mqtt, keepalive,     SEC,      keepalive,     "30",       1, 65535,           0,            NULL) \
X(mqtt, max_buffered,  INT,      max_buffered,  "100000",   1, 10000000,        0,            NULL) \
X(mqtt, event_expiry,  SEC,      event_expiry,  "0",        0, 4294967295LL,    0,            NULL) \
X(mqtt, ca_file,       RPATH,    ca_file,       "",         0, 0,               0,            NULL) \
X(mqtt, cert_file,     RPATH,    cert_file,     "",         0, 0,               0,            NULL) \
X(mqtt, key_file,      RPATH,    key_file,      "",         0, 0,               CFG_PRIVATE,  NULL) \
X(mqtt, tls_insecure,  BOOL,     tls_insecure,  "false",    0, 0,               0,            NULL)

#define CFG_KEYS_HOMEASSISTANT(X) \
X(homeassistant, enabled,          BOOL,  enabled,          "true",          0, 0, 0,            NULL) \
X(homeassistant, discovery_prefix, TOPIC, discovery_prefix, "homeassistant", 0, 0, CFG_REQUIRED, NULL)

/* enable_extended_gift_info: libtiktok keeps the seed's default (off); the bridge turns it on,
 * so that gifts carry extendedGiftInfo and giftEnd's totalDiamonds has a diamond count even
 * when the message lacks one. */
#define CFG_KEYS_TIKTOK(X) \
X(tiktok, process_initial_data,        BOOL,    process_initial_data,        "true",  0, 0,          CFG_TT, NULL) \
X(tiktok, fetch_room_info_on_connect,  BOOL,    fetch_room_info_on_connect,  "true",  0, 0,          CFG_TT, NULL) \
X(tiktok, enable_extended_gift_info,   BOOL,    enable_extended_gift_info,   "true",  0, 0,          CFG_TT | CFG_OWN_DEFAULT, NULL) \
X(tiktok, enable_websocket_upgrade,    BOOL,    enable_websocket_upgrade,    "true",  0, 0,          CFG_TT, NULL) \
X(tiktok, enable_request_polling,      BOOL,    enable_request_polling,      "true",  0, 0,          CFG_TT, NULL) \
X(tiktok, request_polling_interval_ms, MS,      request_polling_interval_ms, "1000",  100, 600000,   CFG_TT, NULL) \
X(tiktok, client_params,               PARAMS,  client_params,               "",      0, 0,          CFG_TT, NULL) \
X(tiktok, request_headers,             HEADERS, request_headers,             "",      0, 0,          CFG_TT, NULL) \
X(tiktok, websocket_headers,           HEADERS, websocket_headers,           "",      0, 0,          CFG_TT, NULL) \
X(tiktok, request_timeout_ms,          MS,      request_timeout_ms,          "10000", 100, 600000,   CFG_TT, NULL) \
X(tiktok, websocket_timeout_ms,        MS,      websocket_timeout_ms,        "10000", 100, 600000,   CFG_TT, NULL) \
X(tiktok, proxy,                       PROXY,   proxy,                       "",      0, 0,          CFG_TT, NULL) \
X(tiktok, sign_flow,                   ENUM,    sign_flow,                   "euler", 0, 0,          CFG_TT | CFG_REQUIRED, "euler|legacy|session") \
X(tiktok, sign_api_url,                URL,     sign_api_url,                "https://api.eulerstream.com", 0, 0, CFG_TT | CFG_REQUIRED, NULL) \
X(tiktok, sign_api_key_file,           SECRET,  sign_api_key_file,           "",      0, 0,          CFG_TT | CFG_PRIVATE, "TIKTOK2MQTT_SIGN_API_KEY") \
X(tiktok, session_id_file,             SECRET,  session_id_file,             "",      0, 0,          CFG_TT | CFG_PRIVATE, "TIKTOK2MQTT_SESSION_ID") \
X(tiktok, tt_target_idc,               STR,     tt_target_idc,               "",      0, 0,          CFG_TT | CFG_SECRET, NULL) \
X(tiktok, web_base,                    URL,     web_base,                    "https://www.tiktok.com", 0, 0, CFG_TT | CFG_REQUIRED, NULL) \
X(tiktok, webcast_base,                URL,     webcast_base,                "https://webcast.tiktok.com", 0, 0, CFG_TT | CFG_REQUIRED, NULL) \
X(tiktok, ca_file,                     RPATH,   ca_file,                     "",      0, 0,          CFG_TT, NULL) \
X(tiktok, allow_insecure,              BOOL,    allow_insecure,              "false", 0, 0,          CFG_TT, NULL) \
X(tiktok, max_frame_bytes,             BYTES,   max_frame_bytes,             "1048576", 1024, 67108864,  CFG_TT, NULL) \
X(tiktok, max_inflate_bytes,           BYTES,   max_inflate_bytes,           "8388608", 1024, 268435456, CFG_TT, NULL) \
X(tiktok, wait_until_live,             BOOL,    wait_until_live,             "true",  0, 0,          CFG_TT | CFG_BRIDGE_ONLY, NULL) \
X(tiktok, live_check_interval,         SEC,     live_check_interval,         "60",    1, 86400,      CFG_TT | CFG_BRIDGE_ONLY, NULL) \
X(tiktok, reconnect_min_s,             SEC,     reconnect_min_s,             "5",     1, 86400,      CFG_TT | CFG_BRIDGE_ONLY, NULL) \
X(tiktok, reconnect_max_s,             SEC,     reconnect_max_s,             "300",   1, 86400,      CFG_TT | CFG_BRIDGE_ONLY, NULL) \
X(tiktok, room_info_interval,          SEC,     room_info_interval,          "300",   0, 86400,      CFG_TT | CFG_BRIDGE_ONLY, NULL) \
X(tiktok, events,                      EVENTS,  events,                      "all",   0, 0,          CFG_TT | CFG_REQUIRED | CFG_BRIDGE_ONLY, NULL)

/* Keys only a [streamer:HANDLE] section has (besides the [tiktok] overrides). */
#define CFG_KEYS_STREAMER(X) \
X(streamer, topic,      NAME, topic,      NULL,   0, 0, CFG_RELOADABLE, NULL) \
X(streamer, enabled,    BOOL, enabled,    "true", 0, 0, CFG_RELOADABLE, NULL) \
X(streamer, record_dir, PATH, record_dir, "",     0, 0, CFG_RELOADABLE, NULL)
/* clang-format on */

/** The one table: every key of every section. */
#define CFG_TABLE(X)   \
    CFG_KEYS_BRIDGE(X) \
    CFG_KEYS_MQTT(X) CFG_KEYS_HOMEASSISTANT(X) CFG_KEYS_TIKTOK(X) CFG_KEYS_STREAMER(X)

#endif
