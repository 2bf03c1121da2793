/** @file mqtt.c
 * paho.mqtt.c async client + our bounded, loss-accounted queue (why: mqtt.h).
 *
 * Message life: bridge_mqtt_publish() appends to `queue` (dropping the oldest past
 * max_buffered); pump() moves it to `inflight` and calls MQTTAsync_sendMessage with its
 * sequence number as context; on_success retires it; on_failure and connection loss put
 * in-flight messages back at the front of `queue`, in their order. Callbacks find messages by
 * sequence number, never by pointer, so a late callback for a message already put back is
 * harmless.
 *
 * SPDX-License-Identifier: MIT
 */
#include <MQTTAsync.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "clock.h"
#include "log.h"
#include "mqtt.h"
#include "xalloc.h"

/* Messages handed to paho and not yet acknowledged. Past the broker's Receive Maximum (20 on a
 * default mosquitto) paho keeps the extra ones in its command queue until a timer of its own,
 * up to a second later, and past 100 queued commands it refuses new ones: the output path
 * then idled at about 200 messages/s (docs/PERFORMANCE.md, the profile). So the window is the
 * smaller of this and the Receive Maximum the broker announces in its CONNACK. */
#define INFLIGHT_MAX 64

struct msg {
    struct msg *next, *prev;
    uint64_t seq, msg_id;
    char *topic;
    char *payload;
    size_t len;
    int qos;
    unsigned flags;
};

struct list {
    struct msg *head, *tail;
    size_t n;
};

struct inbound {
    struct inbound *next;
    char *topic, *payload;
    size_t len;
};

struct bridge_mqtt {
    MQTTAsync client;
    struct bridge_mqtt_opts o;
    int protocol; /* MQTTVERSION_5 or MQTTVERSION_3_1_1 */
    bridge_mqtt_msg_fn on_msg;
    void *ud;
    pthread_mutex_t lock;
    pthread_cond_t drained;
    struct list queue, inflight;
    struct inbound *in_head, *in_tail;
    uint64_t next_seq, published, dropped, reconnects;
    uint64_t refused;          /* PUBACKs with a reason >= 0x80: dropped, never resent */
    size_t window;             /* in-flight cap of this connection (CONNACK's Receive Maximum) */
    int64_t refused_logged_ms; /* the last "refused" log line: one a minute */
    char refused_why[200];     /* what the last refusal was, for that line */
    int connected, just_connected, fallback, connecting, stopping, lost;
    int64_t next_connect_ms;
    unsigned connect_failures;
    char **subs; /* copies of o.subscriptions */
    /* what went wrong, set by paho's callbacks and logged by pump() on the main thread */
    char why[320];
    char tls_err[160]; /* OpenSSL's first error of the current attempt (ssl_error_cb) */
    int why_new;
    int64_t why_retry_ms; /* when the attempt after the failure in `why` is due */
};

/* ---- lists ---- */

static void list_push_back(struct list *l, struct msg *m)
{
    m->next = NULL;
    m->prev = l->tail;
    if (l->tail) {
        l->tail->next = m;
    } else {
        l->head = m;
    }
    l->tail = m;
    l->n++;
}

static void list_push_front(struct list *l, struct msg *m)
{
    m->prev = NULL;
    m->next = l->head;
    if (l->head) {
        l->head->prev = m;
    } else {
        l->tail = m;
    }
    l->head = m;
    l->n++;
}

static void list_remove(struct list *l, struct msg *m)
{
    if (m->prev) {
        m->prev->next = m->next;
    } else {
        l->head = m->next;
    }
    if (m->next) {
        m->next->prev = m->prev;
    } else {
        l->tail = m->prev;
    }
    l->n--;
}

static void msg_free(struct msg *m)
{
    free(m->topic);
    free(m);
}

static struct msg *find_inflight(struct bridge_mqtt *b, uint64_t seq)
{
    for (struct msg *m = b->inflight.head; m; m = m->next) {
        if (m->seq == seq) {
            return m;
        }
    }
    return NULL;
}

/* Put a message that was handed to paho back into the queue, before every message never sent
 * and in the order it was first sent among those put back (paho reports the failures of a lost
 * connection one by one: pushing each to the front would reverse them). */
static void requeue(struct bridge_mqtt *b, struct msg *m)
{
    struct msg *at = b->queue.head;
    list_remove(&b->inflight, m);
    while (at && at->seq && at->seq < m->seq) {
        at = at->next;
    }
    if (!at) {
        list_push_back(&b->queue, m);
        return;
    }
    m->next = at;
    m->prev = at->prev;
    if (at->prev) {
        at->prev->next = m;
    } else {
        b->queue.head = m;
    }
    at->prev = m;
    b->queue.n++;
}

/* The connection is gone and its client destroyed: everything in flight goes back in front of
 * the queue, in order (a clean session would have forgotten it). */
static void requeue_inflight(struct bridge_mqtt *b)
{
    while (b->inflight.head) {
        requeue(b, b->inflight.head);
    }
}

/* ---- paho callbacks: hand off only (never a blocking paho call in here) ---- */

struct token {
    struct bridge_mqtt *b;
    uint64_t seq;
};

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
    struct msg *m = find_inflight(b, t->seq);
    if (m) {
        list_remove(&b->inflight, m);
        msg_free(m);
        b->published++;
    }
    if (!b->queue.n && !b->inflight.n) {
        pthread_cond_broadcast(&b->drained);
    }
    /* A free slot and a message waiting: the main thread refills now. Waiting for half the
     * window to drain idled the link for a round trip per half window: against a default
     * mosquitto (window 20) p50 went from 129 ms to 6.5 ms at 5,000 events/s with this. The
     * wake costs a write only when the main thread is not already due to run. */
    int more = b->queue.n > 0 && b->inflight.n < b->window;
    pthread_mutex_unlock(&b->lock);
    free(t);
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
    struct msg *m = find_inflight(b, t->seq);
    if (m) {
        requeue(b, m);
    }
    pthread_mutex_unlock(&b->lock);
    free(t);
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
    struct msg *m = find_inflight(b, t->seq);
    if (m) {
        snprintf(b->refused_why, sizeof b->refused_why, "%s (reason 0x%02x) for %.120s",
                 MQTTReasonCode_toString((enum MQTTReasonCodes)d->reasonCode),
                 (unsigned)d->reasonCode, m->topic);
        list_remove(&b->inflight, m);
        msg_free(m);
        b->refused++;
    }
    if (!b->queue.n && !b->inflight.n) {
        pthread_cond_broadcast(&b->drained);
    }
    pthread_mutex_unlock(&b->lock);
    free(t);
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

/* pump() replaces the client: paho would otherwise keep some unsent messages and send them
 * first after an automatic reconnect, ahead of older ones it forgot, which we must resend: the
 * stream would come out of order. A fresh client holds nothing; we resend all, in order. */
static void on_connection_lost(void *ctx, char *cause)
{
    struct bridge_mqtt *b = ctx;
    pthread_mutex_lock(&b->lock);
    b->connected = 0;
    b->lost = 1;
    snprintf(b->why, sizeof b->why, "%s", cause ? cause : "connection lost");
    pthread_mutex_unlock(&b->lock);
    wake(b);
}

/* CONNACK's properties: how many QoS 1 messages the broker takes in flight (absent: 65535) */
static void connected5(void *ctx, MQTTAsync_successData5 *d)
{
    struct bridge_mqtt *b = ctx;
    int rm = d ? MQTTProperties_getNumericValue(&d->properties, MQTTPROPERTY_CODE_RECEIVE_MAXIMUM)
               : -999999;
    pthread_mutex_lock(&b->lock);
    b->window = rm > 0 && rm < INFLIGHT_MAX ? (size_t)rm : INFLIGHT_MAX;
    pthread_mutex_unlock(&b->lock);
    wake(b);
}

static void on_connected(void *ctx, char *cause)
{
    struct bridge_mqtt *b = ctx;
    (void)cause;
    pthread_mutex_lock(&b->lock);
    b->connected = 1;
    b->just_connected = 1; /* pump() sends the birth and subscribes: not from here */
    b->connecting = 0;
    b->connect_failures = 0;
    b->reconnects++;
    b->tls_err[0] = b->why[0] = '\0';
    pthread_mutex_unlock(&b->lock);
    wake(b);
}

static int on_message(void *ctx, char *topic, int tlen, MQTTAsync_message *msg)
{
    struct bridge_mqtt *b = ctx;
    struct inbound *in = xcalloc(1, sizeof *in);
    in->topic = xstrndup(topic, tlen > 0 ? (size_t)tlen : strlen(topic));
    in->payload = xstrndup(msg->payload, (size_t)msg->payloadlen);
    in->len = (size_t)msg->payloadlen;
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

static void connect_failed(void *ctx, MQTTAsync_failureData *d)
{
    struct bridge_mqtt *b = ctx;
    pthread_mutex_lock(&b->lock);
    b->connecting = 0;
    retry_later(b);
    note_failure(b, d ? d->code : MQTTASYNC_FAILURE, d ? d->message : NULL);
    pthread_mutex_unlock(&b->lock);
    wake(b); /* the retry time changed */
}

static void connect_failed5(void *ctx, MQTTAsync_failureData5 *d)
{
    struct bridge_mqtt *b = ctx;
    pthread_mutex_lock(&b->lock);
    b->connecting = 0;
    retry_later(b);
    note_failure(b, d ? d->code : MQTTASYNC_FAILURE, d ? d->message : NULL);
    /* a 3.1.1 broker answers a CONNECT of level 5 with its CONNACK code 1, unacceptable
     * protocol version (paho reports a CONNACK's code as d->code); a 5 broker would say 0x84 */
    if (d && d->message && !strcmp(d->message, "CONNACK return code") &&
        (d->code == 1 || d->code == MQTTREASONCODE_UNSUPPORTED_PROTOCOL_VERSION)) {
        b->fallback = 1;
    }
    pthread_mutex_unlock(&b->lock);
    wake(b); /* the retry time changed */
}

/* ---- connect ---- */

static int create_client(struct bridge_mqtt *b, char *err, size_t errlen)
{
    MQTTAsync_createOptions co = MQTTAsync_createOptions_initializer;
    co.MQTTVersion = b->protocol;
    co.sendWhileDisconnected = 0; /* our queue holds messages while the broker is away */
    int rc = MQTTAsync_createWithOptions(&b->client, b->o.uri, b->o.client_id,
                                         MQTTCLIENT_PERSISTENCE_NONE, NULL, &co);
    if (rc != MQTTASYNC_SUCCESS) {
        snprintf(err, errlen, "mqtt: cannot create a client for %s: %s", b->o.uri,
                 MQTTAsync_strerror(rc));
        return -1;
    }
    MQTTAsync_setCallbacks(b->client, b, on_connection_lost, on_message, NULL);
    MQTTAsync_setConnected(b->client, b, on_connected);
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
    if (b->protocol == MQTTVERSION_5) {
        c->cleanstart = 1;
        c->onSuccess5 = connected5;
        c->onFailure5 = connect_failed5;
    } else {
        c->cleansession = 1;
        c->onFailure = connect_failed;
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
    b->connecting = 1;
    b->window = INFLIGHT_MAX; /* until a v5 CONNACK says less */
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

int bridge_mqtt_new(struct bridge_mqtt **out, const struct bridge_mqtt_opts *o,
                    bridge_mqtt_msg_fn on_msg, void *ud, char *err, size_t errlen)
{
    struct bridge_mqtt *b = xcalloc(1, sizeof *b);
    b->o = *o;
    b->refused_logged_ms = -60000; /* the first refusal is logged at once */
    b->o.uri = xstrdup(o->uri);
    b->o.client_id = xstrdup(o->client_id);
    b->o.state_topic = xstrdup(o->state_topic);
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
    pthread_mutex_init(&b->lock, NULL);
    pthread_cond_init(&b->drained, NULL);
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
    size_t tl = strlen(topic);
    struct msg *m = xcalloc(1, sizeof *m);
    m->topic = xmalloc(tl + 1 + len + 1); /* topic and payload in one block */
    memcpy(m->topic, topic, tl + 1);
    m->payload = m->topic + tl + 1;
    memcpy(m->payload, payload, len);
    m->payload[len] = '\0';
    m->len = len;
    m->qos = qos;
    m->flags = flags;
    m->msg_id = msg_id;
    pthread_mutex_lock(&b->lock);
    if (b->queue.n >= b->o.max_buffered && b->queue.head) { /* drop the oldest, count it */
        struct msg *old = b->queue.head;
        list_remove(&b->queue, old);
        msg_free(old);
        b->dropped++;
    }
    list_push_back(&b->queue, m);
    pthread_mutex_unlock(&b->lock);
    wake(b);
}

static void add_props(MQTTAsync_message *pm, const struct bridge_mqtt *b, const struct msg *m,
                      char *idbuf, size_t idlen)
{
    MQTTProperty p;
    if (m->flags & BRIDGE_PUB_JSON) {
        p.identifier = MQTTPROPERTY_CODE_CONTENT_TYPE;
        p.value.data.data = (char *)(uintptr_t) "application/json";
        p.value.data.len = 16;
        MQTTProperties_add(&pm->properties, &p);
    }
    if ((m->flags & BRIDGE_PUB_EVENT) && b->o.event_expiry) {
        p.identifier = MQTTPROPERTY_CODE_MESSAGE_EXPIRY_INTERVAL;
        p.value.integer4 = b->o.event_expiry;
        MQTTProperties_add(&pm->properties, &p);
    }
    if (m->msg_id) {
        snprintf(idbuf, idlen, "%llu", (unsigned long long)m->msg_id);
        p.identifier = MQTTPROPERTY_CODE_USER_PROPERTY;
        p.value.data.data = (char *)(uintptr_t) "msgId";
        p.value.data.len = 5;
        p.value.value.data = idbuf;
        p.value.value.len = (int)strlen(idbuf);
        MQTTProperties_add(&pm->properties, &p);
    }
}

/* Hand one message to paho (lock held on entry and exit, released around the call). */
static int send_one(struct bridge_mqtt *b, struct msg *m)
{
    MQTTAsync_message pm = MQTTAsync_message_initializer;
    MQTTAsync_responseOptions ro = MQTTAsync_responseOptions_initializer;
    struct token *t = xmalloc(sizeof *t);
    char idbuf[24];
    t->b = b;
    t->seq = m->seq = b->next_seq++;
    list_remove(&b->queue, m);
    list_push_back(&b->inflight, m);
    pm.payload = m->payload;
    pm.payloadlen = (int)m->len;
    pm.qos = m->qos;
    pm.retained = (m->flags & BRIDGE_PUB_RETAIN) != 0;
    if (b->protocol == MQTTVERSION_5) {
        add_props(&pm, b, m, idbuf, sizeof idbuf);
        ro.onSuccess5 = sent_ok5;
        ro.onFailure5 = sent_failed5;
    } else {
        ro.onSuccess = sent_ok;
        ro.onFailure = sent_failed;
    }
    ro.context = t;
    char *topic = m->topic;
    uint64_t seq = t->seq; /* t belongs to paho's callback once sent: not read after */
    pthread_mutex_unlock(&b->lock);
    int rc = MQTTAsync_sendMessage(b->client, topic, &pm, &ro);
    MQTTProperties_free(&pm.properties);
    pthread_mutex_lock(&b->lock);
    if (rc != MQTTASYNC_SUCCESS) {
        free(t); /* paho will not call back: put it back ourselves */
        if (find_inflight(b, seq) == m) {
            requeue(b, m);
        }
        return -1;
    }
    return 0;
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
    LOG_WARN(NULL, "mqtt: %s refused MQTT 5: falling back to MQTT 3.1.1", b->o.uri);
    MQTTAsync_destroy(&b->client);
    b->protocol = MQTTVERSION_3_1_1;
    b->fallback = 0;
    if (create_client(b, err, sizeof err)) {
        LOG_ERR(NULL, "%s", err);
        return;
    }
    start_connect(b);
}

/* The connection dropped: a fresh client, everything in flight back in the queue. */
static void replace_client(struct bridge_mqtt *b)
{
    char err[256];
    LOG_WARN(NULL, "mqtt: lost the connection to %s: reconnecting", b->o.uri);
    MQTTAsync_destroy(&b->client); /* no callback of the old client runs after this */
    pthread_mutex_lock(&b->lock);
    b->lost = 0;
    requeue_inflight(b);
    b->next_connect_ms = common_mono_ms();
    pthread_mutex_unlock(&b->lock);
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

/* Birth first, on every (re)connect, then the subscriptions (lock held on entry and exit). */
static void on_birth(struct bridge_mqtt *b)
{
    b->just_connected = 0;
    struct msg *birth = xcalloc(1, sizeof *birth);
    birth->topic = xmalloc(strlen(b->o.state_topic) + 1 + 7);
    strcpy(birth->topic, b->o.state_topic);
    birth->payload = birth->topic + strlen(birth->topic) + 1;
    strcpy(birth->payload, "online");
    birth->len = 6;
    birth->qos = 1;
    birth->flags = BRIDGE_PUB_RETAIN;
    list_push_front(&b->queue, birth);
    int v5 = b->protocol == MQTTVERSION_5;
    size_t window = b->window;
    pthread_mutex_unlock(&b->lock);
    LOG_INFO(NULL, "mqtt: connected to %s (MQTT %s, %zu in flight at most)", b->o.uri,
             v5 ? "5" : "3.1.1", window);
    subscribe_all(b);
    pthread_mutex_lock(&b->lock);
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
    while (b->connected && b->queue.head && b->inflight.n < b->window) {
        if (send_one(b, b->queue.head)) {
            break;
        }
    }
    pthread_mutex_unlock(&b->lock);
    while ((in = take_inbound(b))) {
        if (b->on_msg) {
            b->on_msg(in->topic, in->payload, in->len, b->ud);
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
    int64_t at = b->next_connect_ms;
    pthread_mutex_unlock(&b->lock);
    if (!waiting) {
        return -1;
    }
    int64_t d = at - common_mono_ms();
    return d <= 0 ? 0 : d > INT32_MAX ? INT32_MAX : (int)d;
}

int bridge_mqtt_flush(struct bridge_mqtt *b, int timeout_ms)
{
    int64_t deadline = common_mono_ms() + timeout_ms;
    for (;;) {
        bridge_mqtt_pump(b);
        pthread_mutex_lock(&b->lock);
        int empty = !b->queue.n && !b->inflight.n, up = b->connected;
        pthread_mutex_unlock(&b->lock);
        int64_t now = common_mono_ms();
        if (empty || now >= deadline || (!up && now + 0 >= deadline)) {
            return empty ? 0 : -1;
        }
        struct timespec ts = { 0, 10 * 1000000L };
        nanosleep(&ts, NULL);
    }
}

void bridge_mqtt_stats(struct bridge_mqtt *b, struct bridge_mqtt_stats *out)
{
    pthread_mutex_lock(&b->lock);
    out->connected = b->connected;
    out->protocol = b->protocol == MQTTVERSION_5 ? 5 : 4;
    out->queued = b->queue.n;
    out->in_flight = b->inflight.n;
    out->published = b->published;
    out->dropped = b->dropped;
    out->refused = b->refused;
    out->reconnects = b->reconnects ? b->reconnects - 1 : 0;
    snprintf(out->error, sizeof out->error, "%s", b->why);
    pthread_mutex_unlock(&b->lock);
}

static void free_list(struct list *l)
{
    while (l->head) {
        struct msg *m = l->head;
        list_remove(l, m);
        msg_free(m);
    }
}

void bridge_mqtt_free(struct bridge_mqtt *b, int timeout_ms)
{
    if (!b) {
        return;
    }
    if (b->client) {
        if (timeout_ms > 0) { /* a clean shutdown says offline itself: no need for the will */
            bridge_mqtt_publish(b, b->o.state_topic, "offline", 7, 1, BRIDGE_PUB_RETAIN, 0);
            bridge_mqtt_flush(b, timeout_ms);
            MQTTAsync_disconnectOptions d = MQTTAsync_disconnectOptions_initializer;
            d.timeout = 1000;
            MQTTAsync_disconnect(b->client, &d);
            struct timespec ts = { 0, 200 * 1000000L }; /* let the DISCONNECT go out */
            nanosleep(&ts, NULL);
        }
        MQTTAsync_destroy(&b->client);
    }
    free_list(&b->queue);
    free_list(&b->inflight);
    for (struct inbound *in = b->in_head, *next; in; in = next) {
        next = in->next;
        free(in->topic);
        free(in->payload);
        free(in);
    }
    free((void *)(uintptr_t)b->o.uri);
    free((void *)(uintptr_t)b->o.client_id);
    free((void *)(uintptr_t)b->o.state_topic);
    for (char **p = b->subs; p && *p; p++) {
        free(*p);
    }
    free(b->subs);
    pthread_mutex_destroy(&b->lock);
    pthread_cond_destroy(&b->drained);
    free(b);
}
