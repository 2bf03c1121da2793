/** @file fake_paho.c
 * The scripted paho of test_mqtt (fake_paho.h): the functions bridge/mqtt.c and
 * bridge/paho_nudge.c call, one client at a time.
 *
 * SPDX-License-Identifier: MIT
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fake_paho.h"

struct fake_paho fake = { .lock = PTHREAD_MUTEX_INITIALIZER };

/* what mqtt.c registered on the current client */
static struct {
    void *ctx;
    MQTTAsync_connectionLost *lost;
    MQTTAsync_connected *connected;
    MQTTAsync_disconnected *disconnected;
    void *connect_ctx;
    MQTTAsync_onSuccess5 *connect_ok5;
    MQTTAsync_onFailure5 *connect_fail5;
} cur;

static int handle_token; /* the address handed out as the client handle */

void MQTTAsync_setTraceLevel(enum MQTTASYNC_TRACE_LEVELS level)
{
    fake.trace_level = (int)level;
}

int MQTTAsync_createWithOptions(MQTTAsync *handle, const char *uri, const char *client_id,
                                int persistence, void *pctx, MQTTAsync_createOptions *o)
{
    (void)uri, (void)client_id, (void)persistence, (void)pctx, (void)o;
    *handle = &handle_token;
    fake.creates++;
    fake.trace_level_at_create = fake.trace_level;
    return MQTTASYNC_SUCCESS;
}

int MQTTAsync_setCallbacks(MQTTAsync h, void *ctx, MQTTAsync_connectionLost *cl,
                           MQTTAsync_messageArrived *ma, MQTTAsync_deliveryComplete *dc)
{
    (void)h, (void)ma, (void)dc;
    cur.ctx = ctx;
    cur.lost = cl;
    return MQTTASYNC_SUCCESS;
}

int MQTTAsync_setConnected(MQTTAsync h, void *ctx, MQTTAsync_connected *co)
{
    (void)h, (void)ctx;
    cur.connected = co;
    return MQTTASYNC_SUCCESS;
}

int MQTTAsync_setDisconnected(MQTTAsync h, void *ctx, MQTTAsync_disconnected *co)
{
    (void)h, (void)ctx;
    cur.disconnected = co;
    return MQTTASYNC_SUCCESS;
}

int MQTTAsync_connect(MQTTAsync h, const MQTTAsync_connectOptions *o)
{
    (void)h;
    cur.connect_ctx = o->context;
    cur.connect_ok5 = o->onSuccess5;
    cur.connect_fail5 = o->onFailure5;
    fake.connects++;
    fake.version = o->MQTTVersion;
    return MQTTASYNC_SUCCESS;
}

/* Messages given and not yet answered (lock held). */
static int unanswered(void)
{
    int n = 0;
    for (int i = 0; i < fake.n_sent; i++) {
        n += !fake.sent[i].answered;
    }
    return n;
}

int fake_unanswered(void)
{
    pthread_mutex_lock(&fake.lock);
    int n = unanswered();
    pthread_mutex_unlock(&fake.lock);
    return n;
}

int MQTTAsync_sendMessage(MQTTAsync h, const char *topic, const MQTTAsync_message *msg,
                          MQTTAsync_responseOptions *ro)
{
    (void)h;
    pthread_mutex_lock(&fake.lock);
    fake.overlaps += fake.in_send++ > 0;
    int trapped = fake.trap && fake.trap_topic && !strcmp(topic, fake.trap_topic);
    pthread_mutex_unlock(&fake.lock);
    if (trapped) {
        fake.trap();
    }
    pthread_mutex_lock(&fake.lock);
    fake.in_send--;
    if (fake.n_sent == FAKE_MAX_SENT) {
        pthread_mutex_unlock(&fake.lock);
        return MQTTASYNC_MAX_BUFFERED_MESSAGES;
    }
    struct fake_sent *s = &fake.sent[fake.n_sent++];
    memset(s, 0, sizeof *s);
    snprintf(s->topic, sizeof s->topic, "%s", topic);
    s->len = msg->payloadlen;
    s->qos = msg->qos;
    s->retained = msg->retained;
    s->thread = pthread_self();
    s->ctx = ro->context;
    s->ok = ro->onSuccess;
    s->fail = ro->onFailure;
    s->ok5 = ro->onSuccess5;
    s->fail5 = ro->onFailure5;
    int open = unanswered();
    fake.most_unanswered = open > fake.most_unanswered ? open : fake.most_unanswered;
    pthread_mutex_unlock(&fake.lock);
    return MQTTASYNC_SUCCESS;
}

/* The i-th message's record, marked answered; NULL if it was answered already. */
static struct fake_sent *answer(int i)
{
    pthread_mutex_lock(&fake.lock);
    struct fake_sent *s =
            i >= 0 && i < fake.n_sent && !fake.sent[i].answered ? &fake.sent[i] : NULL;
    if (s) {
        s->answered = 1;
    }
    pthread_mutex_unlock(&fake.lock);
    return s;
}

void fake_ack(int i)
{
    struct fake_sent *s = answer(i);
    if (s && s->ok5) {
        MQTTAsync_successData5 d = MQTTAsync_successData5_initializer;
        s->ok5(s->ctx, &d);
    } else if (s && s->ok) {
        MQTTAsync_successData d = { 0 };
        s->ok(s->ctx, &d);
    }
}

static void *ack_thread(void *arg)
{
    fake_ack((int)(intptr_t)arg);
    return NULL;
}

void fake_ack_elsewhere(int i)
{
    pthread_t t;
    if (pthread_create(&t, NULL, ack_thread, (void *)(intptr_t)i) == 0) {
        pthread_join(t, NULL);
    }
}

void fake_refuse(int i, int reason)
{
    struct fake_sent *s = answer(i);
    if (s && s->fail5) {
        MQTTAsync_failureData5 d = MQTTAsync_failureData5_initializer;
        d.reasonCode = (enum MQTTReasonCodes)reason;
        s->fail5(s->ctx, &d);
    }
}

void fake_connect_refused(int code, const char *message)
{
    MQTTAsync_failureData5 d = MQTTAsync_failureData5_initializer;
    d.code = code;
    d.message = message;
    if (cur.connect_fail5) {
        cur.connect_fail5(cur.connect_ctx, &d);
    }
}

void fake_broker_disconnect(int reason)
{
    if (cur.disconnected) {
        cur.disconnected(cur.ctx, NULL, (enum MQTTReasonCodes)reason);
    }
}

void fake_lose(const char *cause)
{
    if (cur.lost) {
        cur.lost(cur.ctx, (char *)(uintptr_t)cause);
    }
}

void fake_connect_ok(int receive_max)
{
    MQTTProperty p = { .identifier = MQTTPROPERTY_CODE_RECEIVE_MAXIMUM };
    MQTTAsync_successData5 d = MQTTAsync_successData5_initializer;
    p.value.integer4 = (unsigned)receive_max;
    if (receive_max > 0) {
        d.properties.count = d.properties.max_count = 1;
        d.properties.array = &p;
    }
    if (cur.connect_ok5) {
        cur.connect_ok5(cur.connect_ctx, &d);
    }
    if (cur.connected) {
        cur.connected(cur.ctx, NULL);
    }
}

int fake_find(const char *topic, int from)
{
    pthread_mutex_lock(&fake.lock);
    int found = -1;
    for (int i = from < 0 ? 0 : from; i < fake.n_sent && found < 0; i++) {
        found = strcmp(fake.sent[i].topic, topic) ? -1 : i;
    }
    pthread_mutex_unlock(&fake.lock);
    return found;
}

/* As paho 1.3's destroy: every command still pending fails, in the order they were given. */
void MQTTAsync_destroy(MQTTAsync *handle)
{
    for (int i = 0; i < fake.n_sent; i++) {
        struct fake_sent *s = answer(i);
        if (s && s->fail5) {
            MQTTAsync_failureData5 d = MQTTAsync_failureData5_initializer;
            d.code = MQTTASYNC_OPERATION_INCOMPLETE;
            s->fail5(s->ctx, &d);
        } else if (s && s->fail) {
            MQTTAsync_failureData d = { .code = MQTTASYNC_OPERATION_INCOMPLETE };
            s->fail(s->ctx, &d);
        }
    }
    memset(&cur, 0, sizeof cur);
    *handle = NULL;
    fake.destroys++;
}

int MQTTAsync_disconnect(MQTTAsync h, const MQTTAsync_disconnectOptions *o)
{
    (void)h;
    if (o->onSuccess5) {
        o->onSuccess5(o->context, NULL);
    } else if (o->onSuccess) {
        o->onSuccess(o->context, NULL);
    }
    return MQTTASYNC_SUCCESS;
}

int MQTTAsync_subscribe(MQTTAsync h, const char *topic, int qos, MQTTAsync_responseOptions *ro)
{
    (void)h, (void)topic, (void)qos, (void)ro;
    fake.subscribes++;
    return MQTTASYNC_SUCCESS;
}

int MQTTAsync_unsubscribe(MQTTAsync h, const char *topic, MQTTAsync_responseOptions *ro)
{
    (void)h, (void)topic, (void)ro;
    return MQTTASYNC_SUCCESS;
}

void MQTTAsync_freeMessage(MQTTAsync_message **msg)
{
    *msg = NULL;
}

void MQTTAsync_free(void *p)
{
    free(p);
}

const char *MQTTAsync_strerror(int code)
{
    (void)code;
    return "fake paho error";
}

int MQTTProperties_getNumericValue(MQTTProperties *props, enum MQTTPropertyCodes id)
{
    for (int i = 0; props && i < props->count; i++) {
        if (props->array[i].identifier == id) {
            return (int)props->array[i].value.integer4;
        }
    }
    return -999999; /* paho's "not found" */
}

const char *MQTTReasonCode_toString(enum MQTTReasonCodes value)
{
    return value == MQTTREASONCODE_NOT_AUTHORIZED ? "Not authorized" : "fake reason";
}
