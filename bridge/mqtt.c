/** @file mqtt.c
 * paho.mqtt.c async client + our bounded, loss-accounted queue (why: mqtt.h; the queue's
 * priorities and the retained store: mqtt_queue.h).
 *
 * Message life: bridge_mqtt_publish() queues it (mq_push); pump() moves it to `inflight` and
 * calls MQTTAsync_sendMessage with a token number as context; on_success retires it;
 * on_failure and connection loss put in-flight messages back at the front of their list, in
 * the order of their first sending (`seq`, kept on a resend: a resend that got a new one was
 * put back behind a message sent after it, a swapped pair across a broker restart). Callbacks
 * find messages by token number, never by pointer, so a late callback for a message already
 * put back is harmless.
 *
 * Connection life: every end of a connection sets `lost` (a fresh client, the in-flight ones
 * back in the queue) or, before CONNACK, schedules the next attempt. paho 1.3.12 reports a
 * DISCONNECT from the broker through the *connect* failure callback and not through
 * connectionLost (it clears its own `connected` first): handled as a loss here, or the bridge
 * would wait forever for a loss that never comes.
 *
 * SPDX-License-Identifier: MIT
 */
#include <MQTTAsync.h>
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "clock.h"
#include "log.h"
#include "mqtt.h"
#include "mqtt_queue.h"
#include "paho_nudge.h"
#include "paho_socket.h"
#include "tcp_nodelay.h"
#include "xalloc.h"

/* Messages handed to paho and not yet acknowledged. Past the broker's Receive Maximum (20 on a
 * default mosquitto) paho keeps the extra ones in its command queue until a timer of its own,
 * up to a second later: the output path then idled at about 200 messages/s (docs/PERFORMANCE.md,
 * the profile). So the window is the smaller of this and the Receive Maximum the broker
 * announces in its CONNACK, and paho is told to take as many (maxBufferedMessages, 100 by
 * default, refuses commands past it even while connected). Against a broker that allows more,
 * 256 rather than 64 lets a burst through without waiting for PUBACKs to refill the window:
 * bench-e2e (tuned mosquitto, QoS 1) p99 11-12 ms instead of 12.4-13.2 at 5,000 events/s, and
 * a sustained 16,000 events/s instead of 14,000, for the same CPU per event. */
#define INFLIGHT_MAX 256

/* The window once a broker has disconnected on a message too large without announcing its limit
 * (drop_too_large): the fewer in flight, the closer the largest of them, taken for the culprit,
 * is to the broker's real limit. With 256, tests/brokers' ejabberd case (max_payload_size 1500)
 * got 20 of 590 events through in 60 s, each reconnect lowering the learned limit a little. */
#define INFLIGHT_AFTER_TOO_LARGE 16

/* Rejected messages are logged once per topic per minute: this many topics remembered. */
#define REJECT_LOG_SLOTS 64

/* A message flag of this file's own, past mqtt.h's: the last word (bridge/state "offline"),
 * whose acknowledgement say_goodbye() needs to know of */
#define PUB_LAST_WORD 0x100

struct inbound {
    struct inbound *next;
    char *topic, *payload;
    size_t len;
    int retained;
};

struct reject_log {
    uint32_t hash;
    int64_t at_ms;
};

struct bridge_mqtt {
    MQTTAsync client;
    struct bridge_mqtt_opts o;
    int protocol;           /* MQTTVERSION_5 or MQTTVERSION_3_1_1 */
    char protocol_why[160]; /* why this protocol (the fallback's cause), for the log */
    bridge_mqtt_msg_fn on_msg;
    void *ud;
    pthread_mutex_t lock;
    pthread_cond_t progress; /* an acknowledgement, a connection change: flush() looks again */
    struct mq_queue q;
    struct mq_list inflight;
    struct inbound *in_head, *in_tail;
    uint64_t next_seq, published, reconnects;
    uint64_t refused; /* PUBACKs with a reason >= 0x80: dropped, never resent */
    uint64_t bad_topic, too_large;
    uint64_t nudges;           /* paho_nudge_send()s paho took */
    size_t window;             /* in-flight cap of this connection (CONNACK's Receive Maximum) */
    size_t max_packet;         /* CONNACK's Maximum Packet Size, 0: none */
    size_t learned_max;        /* a payload this large made the broker disconnect (0x95): 0 none */
    int64_t refused_logged_ms; /* the last "refused" log line: one a minute */
    int64_t big_logged_ms;     /* the last "incoming message too large" line: one a minute */
    unsigned long long big_in; /* incoming messages over max_inbound, dropped unread */
    char refused_why[200];     /* what the last refusal was, for that line */
    struct reject_log rejects[REJECT_LOG_SLOTS];
    int64_t last_ack_ms, up_ms; /* the last acknowledgement; when this connection came up */
    int64_t handoff_ms;         /* the last message handed to paho */
    int64_t done_ms;            /* the last one paho finished: written (QoS 0), acknowledged */
    struct paho_nudge nudge;    /* paho's send thread woken when it may have missed a wakeup */
    /* a twin with our client_id on a broker that closes without DISCONNECT (mosquitto 2.0.11):
     * connections that end young while the next one succeeds at once, in a row */
    int64_t closed_ms; /* the last connection closed by the peer, young (0: not so) */
    unsigned quick_losses;
    int connected, just_connected, fallback, connecting, stopping, lost, ever_v5;
    int sending;      /* a thread is in send_queued(): messages go to paho in queue order */
    int lost_reason;  /* the broker's DISCONNECT reason of the loss, 0: none */
    int disconnected; /* shutdown: our DISCONNECT went out */
    int word_acked;   /* the last word was acknowledged on this connection */
    struct bridge_broker_conn sock; /* paho's socket of this connection (tcp_nodelay.h) */
    struct token *spare;            /* tokens of finished sendings, for the next ones */
    size_t spares;
    int64_t next_connect_ms;
    unsigned connect_failures;
    char **subs; /* copies of o.subscriptions */
    /* what went wrong, set by paho's callbacks and logged by pump() on the main thread */
    char why[320];
    char tls_err[160]; /* OpenSSL's first error of the current attempt (ssl_error_cb) */
    int why_new;
    int64_t why_retry_ms; /* when the attempt after the failure in `why` is due */
};

static struct mq_msg *find_inflight(struct bridge_mqtt *b, uint64_t token)
{
    for (struct mq_msg *m = b->inflight.head; m; m = m->next) {
        if (m->token == token) {
            return m;
        }
    }
    return NULL;
}

/* A message handed to paho goes back into the queue (mq_requeue keeps the order). */
static void requeue(struct bridge_mqtt *b, struct mq_msg *m)
{
    mq_list_remove(&b->inflight, m);
    mq_requeue(&b->q, m);
}

/* paho's receive thread lets PUBACKs gather while enough are due (bridge/paho_socket.c): told
 * after each hand-over and acknowledgement (lock held). A failure, a refusal or a loss wakes
 * the pump, whose send_queued() tells. */
static void note_due(const struct bridge_mqtt *b)
{
    paho_socket_due(b->inflight.n);
}

/* The connection is gone and its client destroyed: everything in flight goes back in front of
 * the queue, in order (a clean session would have forgotten it). */
static void requeue_inflight(struct bridge_mqtt *b)
{
    while (b->inflight.head) {
        requeue(b, b->inflight.head);
    }
}

/* The most messages in flight this client allows itself (lock held). */
static size_t window_max(const struct bridge_mqtt *b)
{
    return b->learned_max ? INFLIGHT_AFTER_TOO_LARGE : INFLIGHT_MAX;
}

/* ---- paho callbacks: hand off only (never a blocking paho call: sendMessage only queues) ---- */

struct token {
    struct bridge_mqtt *b;
    uint64_t seq;
    struct token *next; /* among the spares */
};

/* Tokens are made in the thread that sends and finished in paho's receive thread: kept for the
 * next sending rather than freed, so that no block crosses threads through the C library for
 * them (lock held, both). As many are kept as can be in flight. */
static struct token *token_new(struct bridge_mqtt *b)
{
    struct token *t = b->spare;
    if (t) {
        b->spare = t->next;
        b->spares--;
    } else {
        t = xmalloc(sizeof *t);
    }
    t->b = b;
    return t;
}

static void token_done(struct bridge_mqtt *b, struct token *t)
{
    if (b->spares < INFLIGHT_MAX) {
        t->next = b->spare;
        b->spare = t;
        b->spares++;
    } else {
        free(t);
    }
}

static void send_queued(struct bridge_mqtt *b);

/* The main thread sleeps until told: every change pump() must act on says so. */
static void wake(struct bridge_mqtt *b)
{
    if (b->o.wake) {
        b->o.wake(b->o.wake_ud);
    }
}

static void sent_ok(void *ctx, MQTTAsync_successData *d)
{
    struct token *t = ctx;
    struct bridge_mqtt *b = t->b;
    (void)d;
    pthread_mutex_lock(&b->lock);
    struct mq_msg *m = find_inflight(b, t->seq);
    if (m) {
        b->done_ms = common_mono_ms();
        if (m->qos) { /* QoS 0 "succeeds" once written: no word from the broker */
            b->last_ack_ms = b->done_ms;
        }
        b->word_acked |= (m->flags & PUB_LAST_WORD) && m->qos;
        mq_list_remove(&b->inflight, m);
        mq_msg_free(m);
        b->published++;
    }
    pthread_cond_broadcast(&b->progress);
    /* A free slot and a message waiting: refilled now. Waiting for half the window to drain
     * idled the link for a round trip per half window: against a default mosquitto (window
     * 20) p50 went from 129 ms to 6.5 ms at 5,000 events/s with this. When the broker keeps
     * the window small (its Receive Maximum), from this paho thread (paho takes commands from
     * its callbacks: they run without its command lock): waking the main thread for it cost a
     * wakeup per message, a fifth of the CPU per event against a default mosquitto. A window
     * of our own size is refilled by the main thread, a batch per wakeup: one message per
     * callback cost more at 24,000 events/s on a tuned broker (docs/PERFORMANCE.md). */
    if (!b->just_connected && b->window < window_max(b)) {
        send_queued(b);
    }
    note_due(b);
    int more = mq_count(&b->q) > 0 && b->inflight.n < b->window && !b->sending;
    token_done(b, t);
    pthread_mutex_unlock(&b->lock);
    if (more) {
        wake(b);
    }
}

static void sent_failed(void *ctx, MQTTAsync_failureData *d)
{
    struct token *t = ctx;
    struct bridge_mqtt *b = t->b;
    (void)d;
    pthread_mutex_lock(&b->lock);
    struct mq_msg *m = find_inflight(b, t->seq);
    if (m) {
        requeue(b, m);
    }
    pthread_cond_broadcast(&b->progress);
    token_done(b, t);
    pthread_mutex_unlock(&b->lock);
    wake(b);
}

static void sent_ok5(void *ctx, MQTTAsync_successData5 *d)
{
    (void)d;
    sent_ok(ctx, NULL);
}

/* The broker refused the message itself (an ACL, a packet too large, a quota): sending it again
 * would be refused again, forever, with the messages behind it waiting. It is dropped and
 * counted; pump() logs the refusals at most once a minute. */
static void refused5(struct token *t, MQTTAsync_failureData5 *d)
{
    struct bridge_mqtt *b = t->b;
    pthread_mutex_lock(&b->lock);
    struct mq_msg *m = find_inflight(b, t->seq);
    if (m) {
        snprintf(b->refused_why, sizeof b->refused_why, "%s (reason 0x%02x) for %.120s",
                 MQTTReasonCode_toString((enum MQTTReasonCodes)d->reasonCode),
                 (unsigned)d->reasonCode, m->topic);
        mq_list_remove(&b->inflight, m);
        mq_msg_free(m);
        b->refused++;
        b->last_ack_ms = b->done_ms = common_mono_ms(); /* an answer all the same */
    }
    pthread_cond_broadcast(&b->progress);
    token_done(b, t);
    pthread_mutex_unlock(&b->lock);
    wake(b);
}

static void sent_failed5(void *ctx, MQTTAsync_failureData5 *d)
{
    if (d && d->reasonCode >= MQTTREASONCODE_UNSPECIFIED_ERROR) {
        refused5(ctx, d);
        return;
    }
    sent_failed(ctx, NULL);
}

/* A connection that was up has ended (lock held): pump() replaces the client. paho would
 * otherwise keep some unsent messages and send them first after an automatic reconnect, ahead
 * of older ones it forgot, which we must resend: the stream would come out of order. A fresh
 * client holds nothing; we resend all, in order. */
static void mark_lost(struct bridge_mqtt *b, int reason, const char *why)
{
    if (!b->connected && !b->just_connected) {
        return; /* already marked (paho reports some losses twice) */
    }
    int64_t now = common_mono_ms();
    b->connected = b->just_connected = 0;
    b->lost = 1;
    b->lost_reason = reason;
    b->closed_ms = !reason && now - b->up_ms < 60000 ? now : 0;
    snprintf(b->why, sizeof b->why, "%s", why);
    pthread_cond_broadcast(&b->progress);
}

/* CONNACK's properties: how many QoS 1 messages the broker takes in flight (absent: 65535) and
 * the largest packet it accepts (absent: no limit) */
static void connected5(void *ctx, MQTTAsync_successData5 *d)
{
    struct bridge_mqtt *b = ctx;
    int rm = d ? MQTTProperties_getNumericValue(&d->properties, MQTTPROPERTY_CODE_RECEIVE_MAXIMUM)
               : -999999;
    int mp = d ? MQTTProperties_getNumericValue(&d->properties,
                                                MQTTPROPERTY_CODE_MAXIMUM_PACKET_SIZE)
               : -999999;
    pthread_mutex_lock(&b->lock);
    size_t most = window_max(b);
    b->window = rm > 0 && (size_t)rm < most ? (size_t)rm : most;
    b->max_packet = mp > 0 ? (size_t)(unsigned)mp : 0;
    b->ever_v5 = 1;
    pthread_mutex_unlock(&b->lock);
    wake(b);
}

static void on_connected(void *ctx, char *cause)
{
    struct bridge_mqtt *b = ctx;
    struct bridge_broker_conn sock = { .fd = -1 };
    int port = bridge_mqtt_uri_port(b->o.uri);
    (void)cause;
    atomic_store(&b->nudge.pending, 0); /* one outstanding on an old client is never answered */
    /* before pump() publishes on the new connection */
    if (bridge_tcp_nodelay_to_port(port) < 0) {
        LOG_DEBUG(NULL, "mqtt: cannot list this process's sockets to turn Nagle off: %s",
                  strerror(errno));
    }
    bridge_broker_conn_find(port, paho_socket_owned, &sock); /* for say_goodbye() */
    pthread_mutex_lock(&b->lock);
    b->sock = sock;
    b->connected = 1;
    b->just_connected = 1; /* pump() sends the birth and subscribes: not from here */
    b->connecting = 0;
    b->connect_failures = 0;
    b->reconnects++;
    b->up_ms = common_mono_ms();
    /* closed young, and back within 3 s: the broker is up, it closed us for another reason */
    b->quick_losses = b->closed_ms && b->up_ms - b->closed_ms < 3000 ? b->quick_losses + 1 : 0;
    b->tls_err[0] = b->why[0] = '\0';
    pthread_cond_broadcast(&b->progress);
    pthread_mutex_unlock(&b->lock);
    wake(b);
}

/* The size of the PUBLISH packet that carried an incoming message, as MQTT 3.1.1 frames it:
 * the fixed header (1 byte, and the remaining length's 1 to 4), the topic and its 2-byte length,
 * the packet id at QoS 1 and 2, the payload. An MQTT 5 packet's properties come on top. */
static size_t publish_size(size_t tlen, size_t plen, int qos)
{
    size_t rest = 2 + tlen + (qos ? 2 : 0) + plen, len_bytes = 1;
    for (size_t r = rest; r >= 128; r >>= 7) {
        len_bytes++;
    }
    return 1 + len_bytes + rest;
}

/* Larger than the Maximum Packet Size the CONNECT asked for: over MQTT 5 the broker drops such a
 * packet itself; MQTT 3.1.1 has no such property, so paho has read it whole (the broker's own
 * max_packet_size is the only bound there), and it is dropped here, before a copy of ours:
 * the same messages reach the bridge over either protocol. */
static int too_big_in(struct bridge_mqtt *b, size_t tlen, const MQTTAsync_message *msg)
{
    size_t size = publish_size(tlen, (size_t)msg->payloadlen, msg->qos);
    if (!b->o.max_inbound || size <= b->o.max_inbound) {
        return 0;
    }
    pthread_mutex_lock(&b->lock);
    int64_t now = common_mono_ms();
    int say = !b->big_logged_ms || now - b->big_logged_ms >= 60000;
    unsigned long long n = ++b->big_in;
    b->big_logged_ms = say ? now : b->big_logged_ms;
    pthread_mutex_unlock(&b->lock);
    if (say) { /* the topic is anyone's who may publish to us: its length only */
        LOG_WARN(NULL,
                 "mqtt: dropped an incoming message of %zu bytes (a %zu-byte topic): over the "
                 "%zu bytes the bridge takes; %llu so far",
                 (size_t)msg->payloadlen, tlen, b->o.max_inbound, n);
    }
    return 1;
}

static int on_message(void *ctx, char *topic, int tlen, MQTTAsync_message *msg)
{
    struct bridge_mqtt *b = ctx;
    size_t topic_len = tlen > 0 ? (size_t)tlen : strlen(topic);
    if (too_big_in(b, topic_len, msg)) {
        MQTTAsync_freeMessage(&msg);
        MQTTAsync_free(topic);
        return 1;
    }
    struct inbound *in = xcalloc(1, sizeof *in);
    in->topic = xstrndup(topic, topic_len);
    in->payload = xstrndup(msg->payload, (size_t)msg->payloadlen);
    in->len = (size_t)msg->payloadlen;
    in->retained = msg->retained;
    pthread_mutex_lock(&b->lock);
    if (b->in_tail) {
        b->in_tail->next = in;
    } else {
        b->in_head = in;
    }
    b->in_tail = in;
    pthread_mutex_unlock(&b->lock);
    wake(b);
    MQTTAsync_freeMessage(&msg);
    MQTTAsync_free(topic);
    return 1;
}

/* The next attempt: 1 s doubling to 30 s while the broker stays away. */
static void retry_later(struct bridge_mqtt *b)
{
    unsigned f = b->connect_failures < 5 ? b->connect_failures : 5;
    b->connect_failures++;
    b->next_connect_ms = common_mono_ms() + (1000 << f > 30000 ? 30000 : 1000 << f);
}

static int is_tls(const char *uri)
{
    return !strncmp(uri, "ssl://", 6) || !strncmp(uri, "mqtts://", 8) || !strncmp(uri, "wss://", 6);
}

/* A refusal's text: the CONNACK return codes of 3.1.1, the reason codes of 5. */
static const char *refusal_text(int code)
{
    static const char *const v311[] = {
        "accepted",           "unacceptable protocol version", "identifier rejected",
        "server unavailable", "bad user name or password",     "not authorized"
    };
    if (code > 0 && code <= 5) {
        return v311[code];
    }
    const char *t = code >= 0x80 ? MQTTReasonCode_toString((enum MQTTReasonCodes)code) : NULL;
    return t ? t : "unknown return code";
}

/* Why an attempt failed, in words a user can act on (lock held). paho only says "TCP/TLS
 * connect failure"; OpenSSL's own text came through ssl_error_cb during the attempt. */
static void note_failure(struct bridge_mqtt *b, int code, const char *msg)
{
    /* without OpenSSL's text a TLS failure can be any of these (the host name check and a
     * client certificate refused after a TLS 1.3 handshake leave none) */
    const char *hint = is_tls(b->o.uri) ? " (TLS: is the broker up and speaking TLS there, does "
                                          "its certificate name the host, does it require a "
                                          "client certificate, cert_file and key_file?)"
                                        : "";
    if (msg && !strcmp(msg, "CONNACK return code")) {
        snprintf(b->why, sizeof b->why, "the broker refused the connection: %s (%d)",
                 refusal_text(code), code);
    } else if (b->tls_err[0]) {
        snprintf(b->why, sizeof b->why,
                 "TLS: %s (does ca_file hold the CA that signed the broker's certificate?)",
                 b->tls_err);
    } else if (msg && !strcmp(msg, "TCP connect completion failure")) {
        snprintf(b->why, sizeof b->why, "the broker closed the connection before its CONNACK%s",
                 hint);
    } else if (msg && !strcmp(msg, "TCP/TLS connect failure")) {
        snprintf(b->why, sizeof b->why, "cannot reach the broker%s", hint);
    } else {
        snprintf(b->why, sizeof b->why, "%s", msg ? msg : MQTTAsync_strerror(code));
    }
    b->tls_err[0] = '\0';
    b->why_new = 1;
    b->why_retry_ms = b->next_connect_ms;
}

/* paho hands us OpenSSL's error queue, one line per error: the first is the cause. A line reads
 * "pid:error:0A000086:SSL routines:func:certificate verify failed:file:line:": keep the reason. */
static int tls_error(const char *str, size_t len, void *ctx)
{
    struct bridge_mqtt *b = ctx;
    const char *p = str, *end = str + len;
    int colons = 0;
    while (p < end && colons < 5) {
        colons += *p++ == ':';
    }
    if (colons < 5) {
        p = str; /* not the usual shape: the whole line */
    }
    const char *stop = memchr(p, p == str ? '\n' : ':', (size_t)(end - p));
    int n = (int)((stop ? stop : end) - p);
    pthread_mutex_lock(&b->lock);
    if (!b->tls_err[0]) {
        snprintf(b->tls_err, sizeof b->tls_err, "%.*s", n, p);
    }
    pthread_mutex_unlock(&b->lock);
    return 0;
}


/* An attempt that never got its CONNACK (lock held): the next one after the backoff. */
static void attempt_failed(struct bridge_mqtt *b, int code, const char *msg)
{
    b->connecting = 0;
    retry_later(b);
    note_failure(b, code, msg);
    pthread_cond_broadcast(&b->progress);
}

static void connect_failed(void *ctx, MQTTAsync_failureData *d)
{
    struct bridge_mqtt *b = ctx;
    pthread_mutex_lock(&b->lock);
    if (b->lost) { /* paho reports a loss here too: one loss, already noted */
        pthread_mutex_unlock(&b->lock);
        return;
    }
    if (b->connected || b->just_connected) {
        mark_lost(b, 0, d && d->message ? d->message : "the connection was closed");
    } else {
        attempt_failed(b, d ? d->code : MQTTASYNC_FAILURE, d ? d->message : NULL);
    }
    pthread_mutex_unlock(&b->lock);
    wake(b); /* the retry time changed */
}

/* The broker ended a connection that was up with a DISCONNECT (paho: "Received disconnect",
 * the reason as the code): why, in the user's words, for the log (lock held). */
static void broker_disconnect(struct bridge_mqtt *b, int reason)
{
    char why[sizeof b->why];
    if (reason == MQTTREASONCODE_SESSION_TAKEN_OVER) {
        snprintf(why, sizeof why,
                 "another client took over client_id %s (two bridges with the same client_id?)",
                 b->o.client_id);
    } else {
        const char *t = MQTTReasonCode_toString((enum MQTTReasonCodes)reason);
        snprintf(why, sizeof why, "the broker sent DISCONNECT: %s (reason 0x%02x)",
                 t ? t : "unknown reason", (unsigned)reason);
    }
    mark_lost(b, reason, why);
}

/* MQTT 5: the broker's DISCONNECT, with its reason (paho calls this before it closes). */
static void on_disconnected(void *ctx, MQTTProperties *props, enum MQTTReasonCodes reason)
{
    struct bridge_mqtt *b = ctx;
    (void)props;
    pthread_mutex_lock(&b->lock);
    broker_disconnect(b, (int)reason);
    pthread_mutex_unlock(&b->lock);
    wake(b);
}

/* paho closed the connection, and tells no reason. The broker may have given one that paho did
 * not read: ejabberd, after a message over its limit, sends DISCONNECT 0x95 and closes, and
 * paho's send thread, its next write refused, closes first (bridge/paho_socket.c). Without it
 * the message was sent again, the socket closed again, and the backoff of a twin taking over
 * (doubling to 32 s) spent a minute of the stream (tests/brokers, ejabberd, on a busy CI). */
static void on_connection_lost(void *ctx, char *cause)
{
    struct bridge_mqtt *b = ctx;
    pthread_mutex_lock(&b->lock);
    int word = paho_socket_last_word(b->sock.fd); /* -1: none, or no socket known */
    if (word >= MQTTREASONCODE_UNSPECIFIED_ERROR) {
        broker_disconnect(b, word);
    } else {
        mark_lost(b, 0, cause ? cause : "the connection was closed");
    }
    pthread_mutex_unlock(&b->lock);
    wake(b);
}

static void connect_failed5(void *ctx, MQTTAsync_failureData5 *d)
{
    struct bridge_mqtt *b = ctx;
    const char *msg = d ? d->message : NULL;
    pthread_mutex_lock(&b->lock);
    if (b->lost) { /* on_disconnected or connectionLost came first: one loss */
        pthread_mutex_unlock(&b->lock);
        return;
    }
    if (b->connected || b->just_connected) {
        if (msg && !strcmp(msg, "Received disconnect")) {
            broker_disconnect(b, d->code);
        } else {
            mark_lost(b, 0, msg ? msg : "the connection was closed");
        }
        pthread_mutex_unlock(&b->lock);
        wake(b);
        return;
    }
    attempt_failed(b, d ? d->code : MQTTASYNC_FAILURE, msg);
    /* a 3.1.1 broker answers a CONNECT of level 5 with its CONNACK code 1, unacceptable
     * protocol version (paho reports a CONNACK's code as d->code); a 5 broker would say 0x84 */
    if (msg && !strcmp(msg, "CONNACK return code") &&
        (d->code == 1 || d->code == MQTTREASONCODE_UNSUPPORTED_PROTOCOL_VERSION)) {
        b->fallback = 1;
        snprintf(b->protocol_why, sizeof b->protocol_why,
                 "the broker refused MQTT 5 (CONNACK code %d)", d->code);
    }
    /* RabbitMQ 3.10 closes the socket on a CONNECT of level 5 instead of answering: paho's
     * "TCP connect completion failure" is exactly that (CONNECT sent, the socket read failed
     * while waiting for CONNACK). Not once MQTT 5 has worked with this broker: then it is a
     * broker going down. */
    if (msg && !strcmp(msg, "TCP connect completion failure") && !b->ever_v5 && !b->tls_err[0]) {
        b->fallback = 1;
        snprintf(b->protocol_why, sizeof b->protocol_why,
                 "the broker closed the connection on an MQTT 5 CONNECT without a CONNACK, "
                 "as RabbitMQ 3.10 does");
    }
    pthread_mutex_unlock(&b->lock);
    wake(b); /* the retry time changed */
}

/* ---- connect ---- */

/* paho keeps an in-memory ring of trace records, at TRACE_MINIMUM unless built for speed (Debian
 * 12's is not): each of its internal Log() calls, several per message, formats its text with
 * vsnprintf and stores it under one mutex shared by all of paho's threads, for nobody to read
 * unless MQTT_C_CLIENT_TRACE names a destination. Down to errors, unless that variable asks for
 * paho's trace (paho then takes its level from MQTT_C_CLIENT_TRACE_LEVEL). Process-wide, and
 * the same at every call. */
static void quiet_paho_trace(void)
{
    if (!getenv("MQTT_C_CLIENT_TRACE")) {
        MQTTAsync_setTraceLevel(MQTTASYNC_TRACE_ERROR);
    }
}

static int create_client(struct bridge_mqtt *b, char *err, size_t errlen)
{
    MQTTAsync_createOptions co = MQTTAsync_createOptions_initializer;
    co.MQTTVersion = b->protocol;
    co.sendWhileDisconnected = 0; /* our queue holds messages while the broker is away */
    co.maxBufferedMessages = INFLIGHT_MAX + 1; /* PUBLISH commands queued in paho: a window */
    quiet_paho_trace();
    int rc = MQTTAsync_createWithOptions(&b->client, b->o.uri, b->o.client_id,
                                         MQTTCLIENT_PERSISTENCE_NONE, NULL, &co);
    if (rc != MQTTASYNC_SUCCESS) {
        snprintf(err, errlen, "mqtt: cannot create a client for %s: %s", b->o.uri,
                 MQTTAsync_strerror(rc));
        b->client = NULL;
        return -1;
    }
    MQTTAsync_setCallbacks(b->client, b, on_connection_lost, on_message, NULL);
    MQTTAsync_setConnected(b->client, b, on_connected);
    if (b->protocol == MQTTVERSION_5) {
        MQTTAsync_setDisconnected(b->client, b, on_disconnected);
    }
    return 0;
}

static int start_connect(struct bridge_mqtt *b)
{
    MQTTAsync_connectOptions co = MQTTAsync_connectOptions_initializer;
    MQTTAsync_connectOptions co5 = MQTTAsync_connectOptions_initializer5;
    MQTTAsync_willOptions will = MQTTAsync_willOptions_initializer;
    MQTTAsync_SSLOptions ssl = MQTTAsync_SSLOptions_initializer;
    MQTTAsync_connectOptions *c = b->protocol == MQTTVERSION_5 ? &co5 : &co;
    c->keepAliveInterval = b->o.keepalive;
    MQTTProperty max_packet = { .identifier = MQTTPROPERTY_CODE_MAXIMUM_PACKET_SIZE };
    MQTTProperties props = MQTTProperties_initializer; /* paho copies them in connect */
    if (b->protocol == MQTTVERSION_5) {
        c->cleanstart = 1;
        c->onSuccess5 = connected5;
        c->onFailure5 = connect_failed5;
        if (b->o.max_inbound) {
            max_packet.value.integer4 = (unsigned)b->o.max_inbound;
            props = (MQTTProperties){
                .count = 1, .max_count = 1, .length = 1 + 4, .array = &max_packet
            };
            c->connectProperties = &props;
        }
    } else {
        c->cleansession = 1;
        c->onFailure = connect_failed;
        /* 3.1.1 only: left at its default, paho tries 3.1 after a failed 3.1.1 attempt, a
         * protocol we do not speak of (the fallback test saw levels 5, then 3) */
        c->MQTTVersion = MQTTVERSION_3_1_1;
    }
    c->context = b;
    c->automaticReconnect = 0; /* pump() reconnects with a fresh client (on_connection_lost) */
    c->connectTimeout = 10;
    will.topicName = b->o.state_topic;
    will.message = "offline";
    will.retained = 1;
    will.qos = 1;
    c->will = &will;
    c->username = b->o.username && *b->o.username ? b->o.username : NULL;
    c->password = b->o.password && *b->o.password ? b->o.password : NULL;
    if (is_tls(b->o.uri)) {
        ssl.trustStore = b->o.ca_file && *b->o.ca_file ? b->o.ca_file : NULL;
        ssl.keyStore = b->o.cert_file && *b->o.cert_file ? b->o.cert_file : NULL;
        ssl.privateKey = b->o.key_file && *b->o.key_file ? b->o.key_file : NULL;
        ssl.enableServerCertAuth = !b->o.tls_insecure;
        ssl.verify = !b->o.tls_insecure; /* the certificate must name the host */
        ssl.ssl_error_cb = tls_error;
        ssl.ssl_error_context = b;
        c->ssl = &ssl;
    }
    pthread_mutex_lock(&b->lock);
    b->connecting = 1;
    b->window = window_max(b); /* until a v5 CONNACK says less */
    b->max_packet = 0;
    pthread_mutex_unlock(&b->lock);
    int rc = MQTTAsync_connect(b->client, c);
    if (rc != MQTTASYNC_SUCCESS) {
        pthread_mutex_lock(&b->lock);
        b->connecting = 0;
        retry_later(b);
        snprintf(b->why, sizeof b->why, "%s", MQTTAsync_strerror(rc));
        b->why_new = 1;
        b->why_retry_ms = b->next_connect_ms;
        pthread_mutex_unlock(&b->lock);
        return -1;
    }
    return 0;
}

static const char *dup_opt(const char *s)
{
    return s ? xstrdup(s) : NULL;
}

/* The strings of the options are the configuration's, which a reload frees while this
 * connection lives on: every one is copied (a reconnect after a SIGHUP read freed memory). */
static void copy_opts(struct bridge_mqtt *b, const struct bridge_mqtt_opts *o)
{
    b->o = *o;
    b->o.uri = xstrdup(o->uri);
    b->o.client_id = xstrdup(o->client_id);
    b->o.state_topic = xstrdup(o->state_topic);
    b->o.username = dup_opt(o->username);
    b->o.password = dup_opt(o->password);
    b->o.ca_file = dup_opt(o->ca_file);
    b->o.cert_file = dup_opt(o->cert_file);
    b->o.key_file = dup_opt(o->key_file);
}

static void free_opts(struct bridge_mqtt *b)
{
    if (b->o.password) { /* a secret: not left behind in freed memory */
        explicit_bzero((void *)(uintptr_t)b->o.password, strlen(b->o.password));
    }
    const char *own[] = { b->o.uri,      b->o.client_id, b->o.state_topic, b->o.username,
                          b->o.password, b->o.ca_file,   b->o.cert_file,   b->o.key_file };
    for (size_t i = 0; i < sizeof own / sizeof own[0]; i++) {
        free((void *)(uintptr_t)own[i]);
    }
}

int bridge_mqtt_new(struct bridge_mqtt **out, const struct bridge_mqtt_opts *o,
                    bridge_mqtt_msg_fn on_msg, void *ud, char *err, size_t errlen)
{
    struct bridge_mqtt *b = xcalloc(1, sizeof *b);
    copy_opts(b, o);
    b->refused_logged_ms = -60000; /* the first refusal is logged at once */
    b->nudge.wake = b->o.wake;
    b->nudge.wake_ud = b->o.wake_ud;
    size_t ns = 0;
    while (o->subscriptions && o->subscriptions[ns]) {
        ns++;
    }
    b->subs = xcalloc(ns + 1, sizeof *b->subs);
    for (size_t i = 0; i < ns; i++) {
        b->subs[i] = xstrdup(o->subscriptions[i]);
    }
    b->o.subscriptions = (const char *const *)b->subs;
    b->protocol = o->protocol5 ? MQTTVERSION_5 : MQTTVERSION_3_1_1;
    b->on_msg = on_msg;
    b->ud = ud;
    b->next_seq = 1;
    b->sock.fd = -1;
    pthread_mutex_init(&b->lock, NULL);
    pthread_cond_init(&b->progress, NULL);
    mq_init(&b->q, o->max_buffered, o->max_buffered_bytes);
    if (create_client(b, err, errlen)) {
        bridge_mqtt_free(b, 0);
        return -1;
    }
    *out = b;
    return 0;
}

int bridge_mqtt_start(struct bridge_mqtt *m)
{
    start_connect(m); /* a failure is retried by pump() */
    return 0;
}

/* ---- publishing ---- */

void bridge_mqtt_publish(struct bridge_mqtt *b, const char *topic, const char *payload, size_t len,
                         int qos, unsigned flags, uint64_t msg_id)
{
    struct mq_msg *m = mq_msg_new(topic, payload, len, qos, flags, msg_id);
    pthread_mutex_lock(&b->lock);
    mq_push(&b->q, m);
    pthread_mutex_unlock(&b->lock);
    wake(b);
}

/* A PUBLISH's properties, built in the caller's storage: paho copies them in
 * MQTTAsync_sendMessage. MQTTProperties_add would allocate the array and a copy of each value,
 * and every allocation in Debian's paho goes through its heap tracking (a global mutex and a
 * tree); 2.5-3 us of the 38-41 a message bench-paho measures. */
struct pub_props {
    MQTTProperty p[3];
    char id[24];
};

/* The properties' encoded length (identifier, then a 2-byte length before each string). */
static int props_len(const MQTTProperties *props)
{
    int len = 0;
    for (int i = 0; i < props->count; i++) {
        const MQTTProperty *p = &props->array[i];
        len += p->identifier == MQTTPROPERTY_CODE_MESSAGE_EXPIRY_INTERVAL ? 1 + 4
               : p->identifier == MQTTPROPERTY_CODE_USER_PROPERTY
                       ? 1 + 2 + p->value.data.len + 2 + p->value.value.len
                       : 1 + 2 + p->value.data.len;
    }
    return len;
}

static void set_props(MQTTProperties *out, struct pub_props *s, const struct bridge_mqtt *b,
                      const struct mq_msg *m)
{
    int n = 0;
    memset(s->p, 0, sizeof s->p);
    if (m->flags & BRIDGE_PUB_JSON) {
        s->p[n].identifier = MQTTPROPERTY_CODE_CONTENT_TYPE;
        s->p[n].value.data.data = (char *)(uintptr_t) "application/json";
        s->p[n++].value.data.len = 16;
    }
    if ((m->flags & BRIDGE_PUB_EVENT) && b->o.event_expiry) {
        s->p[n].identifier = MQTTPROPERTY_CODE_MESSAGE_EXPIRY_INTERVAL;
        s->p[n++].value.integer4 = b->o.event_expiry;
    }
    if (m->msg_id) {
        s->p[n].identifier = MQTTPROPERTY_CODE_USER_PROPERTY;
        s->p[n].value.data.data = (char *)(uintptr_t) "msgId";
        s->p[n].value.data.len = 5;
        s->p[n].value.value.data = s->id;
        s->p[n++].value.value.len =
                snprintf(s->id, sizeof s->id, "%llu", (unsigned long long)m->msg_id);
    }
    out->count = out->max_count = n;
    out->array = n ? s->p : NULL;
    out->length = props_len(out);
}

/* Once per topic per minute (lock held): a message rejected again and again (a raw method
 * with a '#', once per frame) must not flood the log. True when this one may be logged. */
static int reject_log_due(struct bridge_mqtt *b, const char *topic)
{
    uint32_t h = 2166136261u;
    for (const char *p = topic; *p; p++) {
        h = (h ^ (unsigned char)*p) * 16777619u;
    }
    struct reject_log *r = &b->rejects[h % REJECT_LOG_SLOTS];
    int64_t now = common_mono_ms();
    if (r->hash == h && r->at_ms && now - r->at_ms < 60000) {
        return 0;
    }
    r->hash = h;
    r->at_ms = now;
    return 1;
}

/* A message MQTT would refuse: dropped and counted (lock held), logged now and then; it never
 * reaches paho, so it cannot block the queue nor make the broker disconnect. */
static void reject(struct bridge_mqtt *b, struct mq_msg *m, uint64_t *counter, const char *why)
{
    (*counter)++;
    if (reject_log_due(b, m->topic)) {
        LOG_WARN(NULL, "mqtt: dropped a message of %zu bytes: %s (topic %.200s); %llu so far",
                 m->len, why, m->topic, (unsigned long long)*counter);
    }
    mq_msg_free(m);
}

static size_t varint_len(size_t n)
{
    return n < 128 ? 1 : n < 16384 ? 2 : n < 2097152 ? 3 : 4;
}

/* The PUBLISH packet's size as paho will build it with `props` (set_props; empty before MQTT
 * 5). Maximum Packet Size counts the whole packet: fixed header, topic, packet id, properties,
 * payload. */
static size_t packet_size(const struct bridge_mqtt *b, const struct mq_msg *m,
                          const MQTTProperties *props)
{
    size_t rest = 2 + strlen(m->topic) + (m->qos ? 2 : 0) + m->len;
    if (b->protocol == MQTTVERSION_5) {
        rest += varint_len((size_t)props->length) + (size_t)props->length;
    }
    return 1 + varint_len(rest) + rest;
}

/* Whether `m`, with `props`, can go out on this connection (lock held); if not it is
 * rejected. */
static int sendable(struct bridge_mqtt *b, struct mq_msg *m, const MQTTProperties *props)
{
    char why[96];
    const char *fault = mq_topic_fault(m->topic);
    size_t size = packet_size(b, m, props);
    if (fault) {
        reject(b, m, &b->bad_topic, fault);
        return 0;
    }
    if (b->max_packet && size > b->max_packet) {
        snprintf(why, sizeof why, "over the broker's Maximum Packet Size of %zu bytes",
                 b->max_packet);
        reject(b, m, &b->too_large, why);
        return 0;
    }
    if (b->o.max_payload && m->len > b->o.max_payload) {
        snprintf(why, sizeof why, "over max_payload_bytes (%zu)", b->o.max_payload);
        reject(b, m, &b->too_large, why);
        return 0;
    }
    if (b->learned_max && m->len >= b->learned_max) {
        snprintf(why, sizeof why, "as large as one the broker disconnected on (%zu bytes)",
                 b->learned_max);
        reject(b, m, &b->too_large, why);
        return 0;
    }
    return 1;
}

/* Hand the next queued message to paho (lock held on entry and exit, released around the
 * call). Returns -1 when paho took nothing and the loop must stop (not connected). */
static int send_next(struct bridge_mqtt *b)
{
    MQTTAsync_message pm = MQTTAsync_message_initializer;
    MQTTAsync_responseOptions ro = MQTTAsync_responseOptions_initializer;
    struct mq_msg *m = mq_peek(&b->q);
    struct pub_props props;
    mq_take(&b->q, m);
    if (b->protocol == MQTTVERSION_5) { /* built once: the size check and paho read them */
        set_props(&pm.properties, &props, b, m);
    }
    if (!sendable(b, m, &pm.properties)) {
        return 0;
    }
    struct token *t = token_new(b);
    m->seq = m->seq ? m->seq : b->next_seq; /* the first sending's place, kept on a resend */
    t->seq = m->token = b->next_seq++;
    mq_list_push_back(&b->inflight, m);
    pm.payload = m->payload;
    pm.payloadlen = (int)m->len;
    pm.qos = m->qos;
    pm.retained = (m->flags & BRIDGE_PUB_RETAIN) != 0;
    if (b->protocol == MQTTVERSION_5) {
        ro.onSuccess5 = sent_ok5;
        ro.onFailure5 = sent_failed5;
    } else {
        ro.onSuccess = sent_ok;
        ro.onFailure = sent_failed;
    }
    ro.context = t;
    char *topic = m->topic;
    uint64_t seq = t->seq;        /* t belongs to paho's callback once sent: not read after */
    MQTTAsync client = b->client; /* paho's threads send too: read while the lock is held */
    pthread_mutex_unlock(&b->lock);
    int rc = MQTTAsync_sendMessage(client, topic, &pm, &ro);
    pthread_mutex_lock(&b->lock);
    if (rc == MQTTASYNC_SUCCESS) {
        b->handoff_ms = common_mono_ms();
        return 0;
    }
    token_done(b, t); /* paho will not call back */
    if (find_inflight(b, seq) != m) {
        return -1;
    }
    if (rc == MQTTASYNC_DISCONNECTED || rc == MQTTASYNC_MAX_BUFFERED_MESSAGES ||
        rc == MQTTASYNC_NO_MORE_MSGIDS || rc == MQTTASYNC_FAILURE) {
        requeue(b, m); /* the connection, not the message: it goes again later */
        return -1;
    }
    mq_list_remove(&b->inflight, m); /* paho refuses this message: it always would */
    reject(b, m, &b->bad_topic, MQTTAsync_strerror(rc));
    return 0;
}

/* Hand paho what the window allows, in queue order (lock held). Called from the main thread's
 * pump() and from paho's threads in sent_ok(); one at a time, since send_next() releases the
 * lock around paho's call and two senders could hand paho their messages out of order. The one
 * sending looks at the queue again after each message, under the lock: what another thread
 * queued meanwhile is its to send. */
static void send_queued(struct bridge_mqtt *b)
{
    if (b->sending) {
        return;
    }
    b->sending = 1;
    while (b->connected && !b->lost && mq_peek(&b->q) && b->inflight.n < b->window) {
        if (send_next(b)) {
            break;
        }
    }
    note_due(b);
    b->sending = 0;
}

/* A message taken off the inbound list, delivered outside the lock. */
static struct inbound *take_inbound(struct bridge_mqtt *b)
{
    pthread_mutex_lock(&b->lock);
    struct inbound *in = b->in_head;
    if (in) {
        b->in_head = in->next;
        if (!b->in_head) {
            b->in_tail = NULL;
        }
    }
    pthread_mutex_unlock(&b->lock);
    return in;
}

static void subscribe_all(struct bridge_mqtt *b)
{
    for (const char *const *s = b->o.subscriptions; s && *s; s++) {
        MQTTAsync_responseOptions ro = MQTTAsync_responseOptions_initializer;
        MQTTAsync_subscribe(b->client, *s, 1, &ro);
    }
}

/* MQTT 5 refused: a new client speaking 3.1.1 (the version is fixed when a client is made) */
static void fall_back(struct bridge_mqtt *b)
{
    char err[256];
    LOG_WARN(NULL, "mqtt: %s refused MQTT 5: falling back to MQTT 3.1.1 (%s)", b->o.uri,
             b->protocol_why);
    MQTTAsync_destroy(&b->client);
    b->protocol = MQTTVERSION_3_1_1;
    b->fallback = 0;
    if (create_client(b, err, sizeof err)) {
        LOG_ERR(NULL, "%s", err);
        return;
    }
    start_connect(b);
}

/* The broker disconnected us for a packet too large (0x95) without having announced its limit
 * (ejabberd's max_payload_size): the largest message in flight is the culprit; sent again it
 * would end every new connection the same way (lock held). Its size becomes a limit: every
 * message at least as large is over the broker's limit too, and dropping them one per
 * reconnect let 4 of 582 events through in 40 s (tests/brokers, ejabberd). 1 when the limit
 * came down. */
static int drop_too_large(struct bridge_mqtt *b)
{
    int lower = 0;
    struct mq_msg *big = NULL;
    int queued = 0;
    for (struct mq_msg *m = b->inflight.head; m; m = m->next) {
        big = !big || m->len > big->len ? m : big;
    }
    /* paho's failure callbacks may have put them back in the queue already: the sent ones
     * there (seq set) were in flight too */
    struct mq_list *lists[] = { &b->q.hi, &b->q.lo };
    for (size_t i = 0; i < 2; i++) {
        for (struct mq_msg *m = lists[i]->head; m; m = m->next) {
            if (m->seq && (!big || m->len > big->len)) {
                big = m;
                queued = 1;
            }
        }
    }
    if (big) {
        if (!b->learned_max || big->len < b->learned_max) {
            b->learned_max = big->len;
            lower = 1;
            LOG_WARN(NULL,
                     "mqtt: %s disconnected on a %zu-byte message (packet too large) "
                     "without announcing a limit: messages of %zu bytes or more are "
                     "dropped (set [mqtt] max_payload_bytes to its limit)",
                     b->o.uri, big->len, big->len);
        }
        if (queued) {
            mq_take(&b->q, big);
        } else {
            mq_list_remove(&b->inflight, big);
        }
        reject(b, big, &b->too_large, "the broker disconnected on it: packet too large");
    }
    return lower;
}

/* The connection ended: a fresh client, everything in flight back in the queue. After a
 * DISCONNECT of the broker's the next attempt waits the backoff (a takeover by a twin would
 * otherwise be a busy ping-pong); after a lost socket it starts at once, and so it does after
 * a packet too large that lowered the learned limit: each such reconnect is a smaller limit, so
 * there is no ping-pong, and the backoff cost ejabberd's test stream a second per step (6 to
 * 11 steps a run, once 40). */
static void replace_client(struct bridge_mqtt *b)
{
    char err[256], why[sizeof b->why], when[32] = " now";
    MQTTAsync_destroy(&b->client); /* no callback of the old client runs after this */
    pthread_mutex_lock(&b->lock);
    int reason = b->lost_reason;
    b->lost = b->lost_reason = 0;
    b->connecting = 0;
    int lower = reason == MQTTREASONCODE_PACKET_TOO_LARGE && drop_too_large(b);
    requeue_inflight(b);
    if (!reason && b->closed_ms && b->quick_losses) { /* twice in a row: a twin, probably */
        size_t n = strlen(b->why);
        snprintf(b->why + n, sizeof b->why - n,
                 " again, soon after a connection it accepted at once: another client probably "
                 "took over client_id %s (two bridges with the same client_id?)",
                 b->o.client_id);
        unsigned f = b->quick_losses < 6 ? b->quick_losses - 1 : 5;
        b->next_connect_ms = common_mono_ms() + (1000 << f);
    } else if (reason && !lower) {
        retry_later(b);
    } else {
        b->next_connect_ms = common_mono_ms();
    }
    int64_t wait = b->next_connect_ms - common_mono_ms();
    memcpy(why, b->why, sizeof why);
    pthread_mutex_unlock(&b->lock);
    if (wait > 0) {
        snprintf(when, sizeof when, " in %lld s", (long long)(wait + 999) / 1000);
    }
    LOG_WARN(NULL, "mqtt: lost the connection to %s: %s; reconnecting%s", b->o.uri, why, when);
    if (create_client(b, err, sizeof err)) {
        LOG_ERR(NULL, "%s", err);
    }
}

/* A failed attempt, logged from the main thread (lock held on entry and exit). Every attempt
 * is logged: they are at most two a minute once the backoff reaches its 30 s. */
static void log_failure(struct bridge_mqtt *b)
{
    char why[sizeof b->why];
    int64_t wait = b->why_retry_ms - common_mono_ms();
    int fallback = b->fallback;
    memcpy(why, b->why, sizeof why);
    b->why_new = 0;
    pthread_mutex_unlock(&b->lock);
    if (fallback) {
        LOG_INFO(NULL, "mqtt: cannot connect to %s with MQTT 5: %s", b->o.uri, why);
    } else {
        LOG_WARN(NULL, "mqtt: cannot connect to %s: %s; retrying in %lld s", b->o.uri, why,
                 (long long)(wait > 0 ? (wait + 999) / 1000 : 0));
    }
    pthread_mutex_lock(&b->lock);
}

/* A new connection (lock held on entry and exit): the birth first, then every retained topic's
 * latest value that is not queued already (a broker restarted without persistence forgot them),
 * then the subscriptions. */
static void on_birth(struct bridge_mqtt *b)
{
    b->just_connected = 0;
    b->word_acked = 0; /* said again after the birth, or not said on this connection */
    size_t replayed = mq_replay(&b->q);
    mq_push_front(&b->q, mq_msg_new(b->o.state_topic, "online", 6, 1, BRIDGE_PUB_RETAIN, 0));
    int v5 = b->protocol == MQTTVERSION_5;
    char why[sizeof b->protocol_why + 16] = "", limit[48] = "";
    if (!v5) {
        snprintf(why, sizeof why, ", %s%s", b->protocol_why[0] ? "because " : "as configured",
                 b->protocol_why);
    }
    if (b->max_packet) {
        snprintf(limit, sizeof limit, ", packets up to %zu bytes", b->max_packet);
    }
    size_t window = b->window;
    pthread_mutex_unlock(&b->lock);
    LOG_INFO(NULL,
             "mqtt: connected to %s (MQTT %s%s, %zu in flight at most%s, %zu retained topics "
             "published again)",
             b->o.uri, v5 ? "5" : "3.1.1", why, window, limit, replayed);
    subscribe_all(b);
    pthread_mutex_lock(&b->lock);
}

/* Messages in paho's hands and no word for PAHO_NUDGE_MS: its send thread may be asleep on a
 * missed wakeup (paho_nudge.c). Lock held on entry and exit, released around the call. */
static void nudge_if_due(struct bridge_mqtt *b)
{
    int64_t now = common_mono_ms();
    if (!b->connected || b->lost ||
        paho_nudge_wait_ms(&b->nudge, b->inflight.n, b->handoff_ms, b->done_ms, now) != 0) {
        return;
    }
    int v5 = b->protocol == MQTTVERSION_5;
    int64_t done = b->done_ms; /* paho's threads write it: read under the lock */
    pthread_mutex_unlock(&b->lock);
    int sent = paho_nudge_send(&b->nudge, b->client, b->o.state_topic, v5, done, now);
    pthread_mutex_lock(&b->lock);
    b->nudges += (uint64_t)sent;
}

void bridge_mqtt_pump(struct bridge_mqtt *b)
{
    struct inbound *in;
    pthread_mutex_lock(&b->lock);
    int lost = b->lost, retry = !b->connected && !b->connecting && b->client &&
                                common_mono_ms() >= b->next_connect_ms && !b->stopping;
    pthread_mutex_unlock(&b->lock);
    if (lost) {
        replace_client(b);
    } else if (retry) {
        start_connect(b);
    }
    pthread_mutex_lock(&b->lock);
    if (b->why_new) {
        log_failure(b);
    }
    if (b->fallback) {
        pthread_mutex_unlock(&b->lock);
        fall_back(b);
        pthread_mutex_lock(&b->lock);
    }
    if (b->just_connected) {
        on_birth(b);
    }
    if (b->refused && common_mono_ms() - b->refused_logged_ms >= 60000) {
        LOG_WARN(NULL, "mqtt: the broker refused %llu message(s) so far, dropped; the last: %s",
                 (unsigned long long)b->refused, b->refused_why);
        b->refused_logged_ms = common_mono_ms();
    }
    send_queued(b);
    nudge_if_due(b);
    pthread_mutex_unlock(&b->lock);
    while ((in = take_inbound(b))) {
        if (b->on_msg) {
            b->on_msg(in->topic, in->payload, in->len, in->retained, b->ud);
        }
        free(in->topic);
        free(in->payload);
        free(in);
    }
}

int bridge_mqtt_next_ms(struct bridge_mqtt *b)
{
    pthread_mutex_lock(&b->lock);
    int waiting = !b->connected && !b->connecting && b->client && !b->stopping;
    int64_t at = b->next_connect_ms, now = common_mono_ms();
    int nudge = b->connected && !b->lost ? paho_nudge_wait_ms(&b->nudge, b->inflight.n,
                                                              b->handoff_ms, b->done_ms, now)
                                         : -1;
    pthread_mutex_unlock(&b->lock);
    if (!waiting) {
        return nudge;
    }
    int64_t d = at - now;
    return d <= 0 ? 0 : d > INT32_MAX ? INT32_MAX : (int)d;
}

/* Wait on `progress` until `deadline` (monotonic ms) at the latest (lock held). */
static void wait_progress(struct bridge_mqtt *b, int64_t deadline)
{
    struct timespec ts;
    int64_t ms = deadline - common_mono_ms();
    ms = ms > 100 ? 100 : ms < 1 ? 1 : ms; /* and pump() again: a reconnect may be due */
    clock_gettime(CLOCK_REALTIME, &ts);
    ts.tv_sec += (time_t)(ms / 1000);
    ts.tv_nsec += (long)(ms % 1000) * 1000000L;
    if (ts.tv_nsec >= 1000000000L) {
        ts.tv_sec++;
        ts.tv_nsec -= 1000000000L;
    }
    pthread_cond_timedwait(&b->progress, &b->lock, &ts);
}

int bridge_mqtt_flush(struct bridge_mqtt *b, int timeout_ms)
{
    int64_t deadline = common_mono_ms() + timeout_ms;
    for (;;) {
        bridge_mqtt_pump(b);
        pthread_mutex_lock(&b->lock);
        int empty = !mq_count(&b->q) && !b->inflight.n;
        /* the broker is away and the next attempt comes too late: no use waiting */
        int hopeless = !b->connected && !b->connecting && !b->lost && !b->fallback &&
                       b->next_connect_ms > deadline;
        if (empty || hopeless || common_mono_ms() >= deadline) {
            pthread_mutex_unlock(&b->lock);
            return empty ? 0 : -1;
        }
        /* the window is full or the broker is away: an acknowledgement or a connection
         * change ends the wait, not a fixed tick */
        wait_progress(b, deadline);
        pthread_mutex_unlock(&b->lock);
    }
}

/* Connected, messages waiting, and no acknowledgement for twice the keepalive (at least 10 s)
 * since the connection came up: the broker answers our pings (else paho would have declared the
 * connection lost) but takes no message (lock held). */
static void note_stall(struct bridge_mqtt *b, struct bridge_mqtt_stats *out, int64_t now)
{
    int64_t since = b->last_ack_ms > b->up_ms ? b->last_ack_ms : b->up_ms;
    int64_t stall_ms = b->o.keepalive > 5 ? (int64_t)b->o.keepalive * 2000 : 10000;
    out->stalled = b->connected && out->oldest_ms >= stall_ms && now - since >= stall_ms;
    if (out->stalled) {
        snprintf(out->error, sizeof out->error,
                 "stalled: %zu message(s) waiting, the oldest for %lld s, nothing acknowledged "
                 "for %lld s",
                 out->queued + out->in_flight, (long long)out->oldest_ms / 1000,
                 (long long)(now - since) / 1000);
    }
}

void bridge_mqtt_stats(struct bridge_mqtt *b, struct bridge_mqtt_stats *out)
{
    pthread_mutex_lock(&b->lock);
    int64_t now = common_mono_ms(), oldest = mq_oldest_ms(&b->q);
    if (b->inflight.head && (!oldest || b->inflight.head->t_ms < oldest)) {
        oldest = b->inflight.head->t_ms;
    }
    out->connected = b->connected;
    out->protocol = b->protocol == MQTTVERSION_5 ? 5 : 4;
    out->queued = mq_count(&b->q);
    out->queued_bytes = b->q.bytes;
    out->in_flight = b->inflight.n;
    out->published = b->published;
    out->dropped = b->q.dropped;
    out->refused = b->refused;
    out->bad_topic = b->bad_topic;
    out->too_large = b->too_large;
    out->nudges = b->nudges;
    out->superseded = b->q.superseded;
    out->last_ack_ms = b->last_ack_ms ? now - b->last_ack_ms : -1;
    out->oldest_ms = oldest ? now - oldest : 0;
    out->max_packet = b->max_packet;
    out->reconnects = b->reconnects ? b->reconnects - 1 : 0;
    snprintf(out->error, sizeof out->error, "%s", b->why);
    note_stall(b, out, now);
    pthread_mutex_unlock(&b->lock);
}

static void disconnect_done(void *ctx, MQTTAsync_successData *d)
{
    struct bridge_mqtt *b = ctx;
    (void)d;
    pthread_mutex_lock(&b->lock);
    b->disconnected = 1;
    pthread_cond_broadcast(&b->progress);
    pthread_mutex_unlock(&b->lock);
}

static void disconnect_done5(void *ctx, MQTTAsync_successData5 *d)
{
    (void)d;
    disconnect_done(ctx, NULL);
}

static void disconnect_failed5(void *ctx, MQTTAsync_failureData5 *d)
{
    (void)d;
    disconnect_done(ctx, NULL);
}

static void disconnect_failed(void *ctx, MQTTAsync_failureData *d)
{
    (void)d;
    disconnect_done(ctx, NULL);
}

/* The last word, said once, and the queue flushed within timeout_ms; -1 when it ran out of
 * time. Over MQTT 5 the word is the will ("offline"): say_goodbye's DISCONNECT of reason 0x04
 * asks the broker to publish it after everything before, even when the flush ran out of time;
 * publishing "offline" ourselves as well said it twice. MQTT 3.1.1's DISCONNECT discards the
 * will, so there it is published, queued behind every stopped status (the priorities); a
 * fallback to 3.1.1 during the flush leaves it still to say. */
static int flush_last_word(struct bridge_mqtt *b, int timeout_ms)
{
    int64_t until = common_mono_ms() + timeout_ms;
    int said = b->protocol != MQTTVERSION_5, late;
    unsigned flags = BRIDGE_PUB_RETAIN | PUB_LAST_WORD;
    if (said) {
        bridge_mqtt_publish(b, b->o.state_topic, "offline", 7, 1, flags, 0);
    }
    late = bridge_mqtt_flush(b, timeout_ms);
    if (!said && b->protocol != MQTTVERSION_5) { /* fell back to 3.1.1 while flushing */
        int64_t left = until - common_mono_ms();
        bridge_mqtt_publish(b, b->o.state_topic, "offline", 7, 1, flags, 0);
        late = bridge_mqtt_flush(b, left > 0 ? (int)left : 0);
    }
    return late;
}

/* The connection ended without paho's DISCONNECT, which would make the broker discard the will
 * (paho sends one on disconnect and destroy alike: MQTTAsync_closeOnly, 1.3.12): the socket is
 * shut down under paho (tcp_nodelay.c found it), the broker reads what was written, then the
 * end of a connection lost, and publishes the will "offline". paho's DISCONNECT afterwards fails
 * on the shut socket (SIGPIPE is ignored, by paho and by main.c). `why` starts the log line,
 * logged as a warning when `warn`. 0 when done; -1 when paho's socket is not known (see
 * bridge_broker_conn_find), and the usual DISCONNECT follows. */
static int close_for_will(struct bridge_mqtt *b, const struct bridge_broker_conn *sock,
                          const char *why, int warn)
{
    if (bridge_broker_conn_shutdown(sock)) {
        LOG_WARN(NULL,
                 "mqtt: %s, and paho's socket cannot be told apart from the process's others: "
                 "the broker may keep %s online",
                 why, b->o.state_topic);
        return -1;
    }
    if (warn) {
        LOG_WARN(NULL, "mqtt: %s: closing without DISCONNECT so the broker publishes the will",
                 why);
    } else {
        LOG_INFO(NULL, "mqtt: %s: closing without DISCONNECT so the broker publishes the will",
                 why);
    }
    return 0;
}

/* MQTT 3.1.1, and the broker did not acknowledge the last word in time: it may never have
 * reached the broker (a full window, a stalled broker), and a DISCONNECT would leave
 * bridge/state "online" for good. */
static int close_unsaid(struct bridge_mqtt *b, const struct bridge_broker_conn *sock,
                        int timeout_ms)
{
    char why[320];
    snprintf(why, sizeof why, "%s offline not acknowledged within flush_timeout (%d s)",
             b->o.state_topic, timeout_ms / 1000);
    return close_for_will(b, sock, why, 1);
}

static void say_goodbye(struct bridge_mqtt *b, int timeout_ms)
{
    MQTTAsync_disconnectOptions d3 = MQTTAsync_disconnectOptions_initializer;
    MQTTAsync_disconnectOptions d5 = MQTTAsync_disconnectOptions_initializer5;
    int late = flush_last_word(b, timeout_ms);
    int v5 = b->protocol == MQTTVERSION_5;
    MQTTAsync_disconnectOptions *d = v5 ? &d5 : &d3;
    if (late) {
        struct bridge_mqtt_stats st;
        bridge_mqtt_stats(b, &st);
        LOG_WARN(NULL, "mqtt: %zu message(s) not delivered within flush_timeout (%d s)%s",
                 st.queued + st.in_flight, timeout_ms / 1000,
                 v5 ? "; the broker publishes the will (offline)" : "");
    }
    pthread_mutex_lock(&b->lock);
    b->stopping = 1;
    int up = b->connected, unsaid = !v5 && !b->word_acked;
    struct bridge_broker_conn sock = b->sock;
    pthread_mutex_unlock(&b->lock);
    if (!up || (unsaid && !close_unsaid(b, &sock, timeout_ms))) {
        return;
    }
    if (v5) {
        d->reasonCode = MQTTREASONCODE_DISCONNECT_WITH_WILL_MESSAGE;
        d->onSuccess5 = disconnect_done5;
        d->onFailure5 = disconnect_failed5;
    } else {
        d->onSuccess = disconnect_done;
        d->onFailure = disconnect_failed;
    }
    d->context = b;
    d->timeout = 1000;
    if (MQTTAsync_disconnect(b->client, d) == MQTTASYNC_SUCCESS) {
        int64_t deadline = common_mono_ms() + 2000;
        pthread_mutex_lock(&b->lock);
        while (!b->disconnected && common_mono_ms() < deadline) {
            wait_progress(b, deadline);
        }
        pthread_mutex_unlock(&b->lock);
    }
}

/* flush_timeout 0: no goodbye, and no DISCONNECT either (paho's destroy sends one, of reason 0
 * over MQTT 5): the will says "offline". */
static void leave_to_will(struct bridge_mqtt *b)
{
    pthread_mutex_lock(&b->lock);
    int up = b->connected;
    struct bridge_broker_conn sock = b->sock;
    pthread_mutex_unlock(&b->lock);
    if (up) {
        close_for_will(b, &sock, "flush_timeout 0", 0);
    }
}

void bridge_mqtt_free(struct bridge_mqtt *b, int timeout_ms)
{
    if (!b) {
        return;
    }
    if (b->client) {
        if (timeout_ms > 0) {
            say_goodbye(b, timeout_ms);
        } else {
            leave_to_will(b);
        }
        MQTTAsync_destroy(&b->client);
    }
    mq_free(&b->q);
    mq_list_free(&b->inflight);
    for (struct token *t = b->spare, *next; t; t = next) {
        next = t->next;
        free(t);
    }
    for (struct inbound *in = b->in_head, *next; in; in = next) {
        next = in->next;
        free(in->topic);
        free(in->payload);
        free(in);
    }
    free_opts(b);
    for (char **p = b->subs; p && *p; p++) {
        free(*p);
    }
    free(b->subs);
    pthread_mutex_destroy(&b->lock);
    pthread_cond_destroy(&b->progress);
    free(b);
}
