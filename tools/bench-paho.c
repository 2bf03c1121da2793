/** @file bench-paho.c
 * paho.mqtt.c alone (`make bench-paho`): N messages of SIZE bytes at QoS 1 to a broker, and
 * nothing else, so that the CPU the library itself needs per message is known.
 *
 *   bench-paho URI N SIZE async|async-buf|sync [WINDOW]
 *
 * async: MQTTAsync the way bridge/mqtt.c drives it: MQTT 5, persistence none, clean start,
 *   each message with the content type application/json and a user property msgId (built
 *   without allocating, as the bridge builds them), MQTTAsync_sendMessage from one thread with an
 *   onSuccess5 callback, at most WINDOW unacknowledged, the sender waiting on a condition
 *   variable when the window is full; but paho's default command queue: paho refuses a
 *   message while 100 (its default maxBufferedMessages) are queued in it, in flight or not:
 *   such a message waits for one acknowledgement and goes again (`rejected` counts them).
 * async-buf: the same with maxBufferedMessages = WINDOW + 1, so nothing is refused: as the
 *   bridge does (its window: 256, the broker's Receive Maximum when less).
 * sync: MQTTClient (the synchronous client) driven from this one thread: no callbacks, so no
 *   thread of its own; MQTTClient_publishMessage5 until WINDOW are in flight, then
 *   MQTTClient_waitForCompletion() on the oldest reads the acknowledgements (it idles: each
 *   call runs MQTTClient_yield, which returns only after 100 ms).
 * sync-cb: MQTTClient with callbacks, so paho runs one receive thread that reads the
 *   acknowledgements; this thread publishes while fewer than WINDOW are unacknowledged.
 * sync-poll: MQTTClient with no thread of its own, driven from this one thread: it publishes
 *   while fewer than WINDOW are unacknowledged, else waits in poll() on the broker's socket and
 *   has MQTTClient_receive(timeout 0) read the acknowledgements, which it counts through
 *   MQTTClient_setPublished's callback. paho does not expose its socket: the bench finds it by
 *   the broker's port.
 * The two clients are two libraries (libpaho-mqtt3as, libpaho-mqtt3c) that export the same
 * internal symbols: a program must link only one of them, so this file builds twice,
 * bench-paho (async) and bench-paho-sync (-DBENCH_PAHO_SYNC).
 * glibc's fastbins are off, as in tiktok2mqtt (GLIBC_TUNABLES=glibc.malloc.mxfast=N overrides),
 * and so is paho's trace ring (bridge/mqtt.c quiet_paho_trace; MQTT_C_CLIENT_TRACE keeps it).
 * The asynchronous client's reads are batched as the bridge's are (bridge/paho_socket.c, in
 * the static link); the synchronous client's are paho's own.
 * Prints one JSON line: mode, n, size, wall_s, cpu_s (user + system of this process, every
 * thread), cpu_us_per_msg, msgs_per_s. Exit 1 when the broker cannot be reached or a message
 * fails, 64 on a usage error.
 *
 * SPDX-License-Identifier: MIT
 */
#ifdef BENCH_PAHO_SYNC
#include <MQTTClient.h>
#else
#include <MQTTAsync.h>

#include "paho_socket.h"
#endif
#include <malloc.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#define TOPIC "tiktok/bench_paho/chat"

static double cpu_s(void)
{
    struct rusage ru;

    getrusage(RUSAGE_SELF, &ru);
    return (double)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) +
           (double)(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
}

static double wall_s(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* The content type and the msgId user property, built in the caller's storage as bridge/mqtt.c
   builds them (paho copies them; MQTTProperties_add would allocate) */
struct props {
    MQTTProperty p[2];
    char id[24];
};

static void msgid_prop(MQTTProperties *props, struct props *s, long i)
{
    memset(s->p, 0, sizeof s->p);
    s->p[0].identifier = MQTTPROPERTY_CODE_CONTENT_TYPE;
    s->p[0].value.data.data = (char *)(uintptr_t) "application/json";
    s->p[0].value.data.len = 16;
    s->p[1].identifier = MQTTPROPERTY_CODE_USER_PROPERTY;
    s->p[1].value.data.data = (char *)(uintptr_t) "msgId";
    s->p[1].value.data.len = 5;
    s->p[1].value.value.data = s->id;
    s->p[1].value.value.len = snprintf(s->id, sizeof s->id, "%ld", 7300000000000000000L + i);
    props->count = props->max_count = 2;
    props->length = 1 + 2 + 16 + 1 + 2 + 5 + 2 + s->p[1].value.value.len;
    props->array = s->p;
}

#ifndef BENCH_PAHO_SYNC
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cond = PTHREAD_COND_INITIALIZER;
static long inflight, acked, failed, rejected;
static int connected = -1; /* -1 waiting, 0 failed, 1 connected */

/* paho's reads wait for PUBACKs to gather as the bridge's do (bridge/paho_socket.c; with the
 * static link, which renames paho's recv and poll to that file's; lock held) */
static void note_due(void)
{
    paho_socket_due((size_t)inflight);
}

static void settle(int ok)
{
    pthread_mutex_lock(&lock);
    inflight--;
    note_due();
    acked += ok;
    failed += !ok;
    pthread_cond_signal(&cond);
    pthread_mutex_unlock(&lock);
}

/* The connect's outcome, for main(), which waits on `cond`. */
static void set_connected(int v)
{
    pthread_mutex_lock(&lock);
    connected = v;
    pthread_cond_signal(&cond);
    pthread_mutex_unlock(&lock);
}

/* paho's answer to a request: the context says whose (a publish's settle, the connect's
   set_connected) */
struct outcome {
    void (*done)(int ok);
};
static struct outcome publish_outcome = { settle }, connect_outcome = { set_connected };

static void succeeded(void *ctx, MQTTAsync_successData5 *d)
{
    (void)d;
    ((struct outcome *)ctx)->done(1);
}

static void failed_request(void *ctx, MQTTAsync_failureData5 *d)
{
    (void)d;
    ((struct outcome *)ctx)->done(0);
}

static int run_async(const char *uri, long n, char *payload, int size, long window, int buf)
{
    MQTTAsync c;
    MQTTAsync_createOptions cr = MQTTAsync_createOptions_initializer;
    MQTTAsync_connectOptions co = MQTTAsync_connectOptions_initializer5;

    cr.MQTTVersion = MQTTVERSION_5;
    cr.sendWhileDisconnected = 0;
    if (buf)
        cr.maxBufferedMessages = (int)window + 1;
    if (MQTTAsync_createWithOptions(&c, uri, "bench-paho-async", MQTTCLIENT_PERSISTENCE_NONE, NULL,
                                    &cr) != MQTTASYNC_SUCCESS)
        return -1;
    co.cleanstart = 1;
    co.keepAliveInterval = 30;
    co.onSuccess5 = succeeded;
    co.onFailure5 = failed_request;
    co.context = &connect_outcome;
    if (MQTTAsync_connect(c, &co) != MQTTASYNC_SUCCESS)
        return -1;
    pthread_mutex_lock(&lock);
    while (connected < 0)
        pthread_cond_wait(&cond, &lock);
    pthread_mutex_unlock(&lock);
    if (connected != 1)
        return -1;
    for (long i = 0; i < n; i++) {
        MQTTAsync_message m = MQTTAsync_message_initializer;
        MQTTAsync_responseOptions ro = MQTTAsync_responseOptions_initializer;
        struct props pp;

        pthread_mutex_lock(&lock);
        while (inflight >= window)
            pthread_cond_wait(&cond, &lock);
        inflight++;
        note_due();
        pthread_mutex_unlock(&lock);
        m.payload = payload;
        m.payloadlen = size;
        m.qos = 1;
        msgid_prop(&m.properties, &pp, i);
        ro.onSuccess5 = succeeded;
        ro.onFailure5 = failed_request;
        ro.context = &publish_outcome;
        int rc = MQTTAsync_sendMessage(c, TOPIC, &m, &ro);
        if (rc == MQTTASYNC_MAX_BUFFERED_MESSAGES) {
            /* paho's command queue holds 100 by default, in flight or not: wait for an
               acknowledgement and send this one again, as the bridge requeues it */
            pthread_mutex_lock(&lock);
            rejected++;
            long was = inflight--;
            while (inflight >= was - 1 && inflight > 0)
                pthread_cond_wait(&cond, &lock);
            pthread_mutex_unlock(&lock);
            i--;
        } else if (rc != MQTTASYNC_SUCCESS) {
            fprintf(stderr, "bench-paho: sendMessage: %s\n", MQTTAsync_strerror(rc));
            settle(0);
        }
    }
    pthread_mutex_lock(&lock);
    while (inflight > 0)
        pthread_cond_wait(&cond, &lock);
    pthread_mutex_unlock(&lock);
    MQTTAsync_disconnectOptions d = MQTTAsync_disconnectOptions_initializer;
    MQTTAsync_disconnect(c, &d);
    MQTTAsync_destroy(&c);
    return failed == 0 ? 0 : -1;
}

#else
/* sync-cb: paho's receive thread reads the acknowledgements and calls cb_delivered; this thread
   publishes (paho writes the socket in this thread) while fewer than WINDOW are unacknowledged */
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cond = PTHREAD_COND_INITIALIZER;
static long cb_inflight;

static void cb_delivered(void *ctx, MQTTClient_deliveryToken t)
{
    (void)ctx;
    (void)t;
    pthread_mutex_lock(&lock);
    cb_inflight--;
    pthread_cond_signal(&cond);
    pthread_mutex_unlock(&lock);
}

static int cb_arrived(void *ctx, char *topic, int len, MQTTClient_message *m)
{
    (void)ctx;
    (void)len;
    MQTTClient_freeMessage(&m);
    MQTTClient_free(topic);
    return 1;
}

/* sync-poll: no paho thread at all. MQTTClient_setPublished's callback runs inside
   MQTTClient_receive, in this thread, for each acknowledgement it reads. */
static long poll_inflight;

static void poll_published(void *ctx, int dt, int type, MQTTProperties *pr, enum MQTTReasonCodes rc)
{
    (void)ctx;
    (void)dt;
    (void)type;
    (void)pr;
    (void)rc;
    poll_inflight--;
}

/* How a synchronous client learns of acknowledgements: waitForCompletion (no callback),
   paho's receive thread (messageArrived and deliveryComplete set, which makes paho start it),
   or MQTTClient_setPublished's callback inside MQTTClient_receive (no thread). */
enum sync_acks { SYNC_WAIT, SYNC_THREAD, SYNC_POLL };

/* Connects a synchronous client with the bench's options. */
static MQTTClient sync_connect(const char *uri, long window, enum sync_acks acks)
{
    MQTTClient c;
    MQTTClient_createOptions cr = MQTTClient_createOptions_initializer;
    MQTTClient_connectOptions co = MQTTClient_connectOptions_initializer5;
    MQTTProperties none = MQTTProperties_initializer;

    cr.MQTTVersion = MQTTVERSION_5;
    if (MQTTClient_createWithOptions(&c, uri, "bench-paho-sync", MQTTCLIENT_PERSISTENCE_NONE, NULL,
                                     &cr) != MQTTCLIENT_SUCCESS)
        return NULL;
    if (acks == SYNC_THREAD)
        MQTTClient_setCallbacks(c, NULL, NULL, cb_arrived, cb_delivered);
    else if (acks == SYNC_POLL)
        MQTTClient_setPublished(c, NULL, poll_published);
    co.cleanstart = 1;
    co.keepAliveInterval = 30;
    co.reliable = 0;                          /* more than one message in flight */
    co.maxInflightMessages = (int)window + 1; /* our window is the limit, not paho's */
    MQTTResponse r = MQTTClient_connect5(c, &co, &none, NULL);
    if ((int)r.reasonCode != MQTTCLIENT_SUCCESS) {
        MQTTClient_destroy(&c);
        return NULL;
    }
    MQTTResponse_free(r);
    return c;
}

static int sync_publish(MQTTClient c, char *payload, int size, long i,
                        MQTTClient_deliveryToken *tok)
{
    MQTTClient_message m = MQTTClient_message_initializer;
    struct props pp;

    m.payload = payload;
    m.payloadlen = size;
    m.qos = 1;
    msgid_prop(&m.properties, &pp, i);
    MQTTResponse r = MQTTClient_publishMessage5(c, TOPIC, &m, tok);
    int ok = (int)r.reasonCode == MQTTCLIENT_SUCCESS;
    MQTTResponse_free(r);
    return ok ? 0 : -1;
}

static int run_sync_cb(const char *uri, long n, char *payload, int size, long window)
{
    MQTTClient c = sync_connect(uri, window, SYNC_THREAD);
    MQTTClient_deliveryToken tok;
    if (c == NULL)
        return -1;
    for (long i = 0; i < n; i++) {
        pthread_mutex_lock(&lock);
        while (cb_inflight >= window)
            pthread_cond_wait(&cond, &lock);
        cb_inflight++;
        pthread_mutex_unlock(&lock);
        if (sync_publish(c, payload, size, i, &tok))
            return -1;
    }
    pthread_mutex_lock(&lock);
    while (cb_inflight > 0)
        pthread_cond_wait(&cond, &lock);
    pthread_mutex_unlock(&lock);
    MQTTClient_disconnect5(c, 1000, MQTTREASONCODE_SUCCESS, NULL);
    MQTTClient_destroy(&c);
    return 0;
}

/* paho has no call that returns its socket: the one whose peer is the broker's port (the only
   connection this process has) */
static int broker_fd(const char *uri)
{
    const char *colon = strrchr(uri, ':');
    int port = colon ? atoi(colon + 1) : 0;

    for (int fd = 3; fd < 1024; fd++) {
        struct sockaddr_storage sa;
        socklen_t sl = sizeof sa;
        if (getpeername(fd, (struct sockaddr *)&sa, &sl) != 0)
            continue;
        if ((sa.ss_family == AF_INET && ntohs(((struct sockaddr_in *)&sa)->sin_port) == port) ||
            (sa.ss_family == AF_INET6 && ntohs(((struct sockaddr_in6 *)&sa)->sin6_port) == port))
            return fd;
    }
    return -1;
}

/* Read what the broker sent: wait for the socket (at most 1 s), then let paho read packets for
   as long as each read settles an acknowledgement. */
static int poll_acks(MQTTClient c, int fd)
{
    struct pollfd pf = { fd, POLLIN, 0 };
    long before;

    if (poll(&pf, 1, 1000) < 0)
        return -1;
    do {
        char *topic = NULL;
        int tl = 0;
        MQTTClient_message *msg = NULL;
        before = poll_inflight;
        if (MQTTClient_receive(c, &topic, &tl, &msg, 0) == MQTTCLIENT_DISCONNECTED)
            return -1;
        if (msg) {
            MQTTClient_freeMessage(&msg);
            MQTTClient_free(topic);
        }
    } while (poll_inflight < before);
    return 0;
}

static int run_sync_poll(const char *uri, long n, char *payload, int size, long window)
{
    MQTTClient c = sync_connect(uri, window, SYNC_POLL);
    MQTTClient_deliveryToken tok;
    if (c == NULL)
        return -1;
    int fd = broker_fd(uri);
    if (fd < 0) {
        MQTTClient_destroy(&c);
        return -1;
    }
    for (long i = 0; i < n || poll_inflight > 0;) {
        if (i < n && poll_inflight < window) {
            if (sync_publish(c, payload, size, i++, &tok))
                return -1;
            poll_inflight++;
        } else if (poll_acks(c, fd)) {
            return -1;
        }
    }
    MQTTClient_disconnect5(c, 1000, MQTTREASONCODE_SUCCESS, NULL);
    MQTTClient_destroy(&c);
    return 0;
}

static int run_sync(const char *uri, long n, char *payload, int size, long window)
{
    MQTTClient c = sync_connect(uri, window, SYNC_WAIT);
    if (c == NULL)
        return -1;
    /* a ring of the tokens in flight: when full, wait for the oldest (waitForCompletion reads
       the broker's packets on this thread until that one is acknowledged) */
    MQTTClient_deliveryToken *ring = calloc((size_t)window, sizeof *ring);
    if (ring == NULL)
        return -1;
    for (long i = 0; i < n; i++) {
        if (i >= window &&
            MQTTClient_waitForCompletion(c, ring[i % window], 10000) != MQTTCLIENT_SUCCESS)
            return -1;
        if (sync_publish(c, payload, size, i, &ring[i % window]))
            return -1;
    }
    for (long i = n > window ? n - window : 0; i < n; i++)
        if (MQTTClient_waitForCompletion(c, ring[i % window], 10000) != MQTTCLIENT_SUCCESS)
            return -1;
    free(ring);
    MQTTClient_disconnect5(c, 1000, MQTTREASONCODE_SUCCESS, NULL);
    MQTTClient_destroy(&c);
    return 0;
}

#endif

int main(int argc, char **argv)
{
    /* glibc's fastbins off, as tiktok2mqtt runs (bridge/main.c tune_malloc) */
    const char *tun = getenv("GLIBC_TUNABLES");
    if (!tun || !strstr(tun, "mxfast"))
        mallopt(M_MXFAST, 0);
    /* paho's trace ring down to errors, as tiktok2mqtt runs (bridge/mqtt.c quiet_paho_trace) */
    if (!getenv("MQTT_C_CLIENT_TRACE"))
#ifdef BENCH_PAHO_SYNC
        MQTTClient_setTraceLevel(MQTTCLIENT_TRACE_ERROR);
#else
        MQTTAsync_setTraceLevel(MQTTASYNC_TRACE_ERROR);
#endif
    if (argc < 5 || (strcmp(argv[4], "async") != 0 && strcmp(argv[4], "async-buf") != 0 &&
                     strcmp(argv[4], "sync") != 0 && strcmp(argv[4], "sync-cb") != 0 &&
                     strcmp(argv[4], "sync-poll") != 0)) {
        fprintf(stderr,
                "usage: bench-paho URI N SIZE async|async-buf|sync|sync-cb|sync-poll [WINDOW]\n");
        return 64;
    }
    long n = atol(argv[2]), window = argc > 5 ? atol(argv[5]) : 512;
    int size = atoi(argv[3]);
    if (n <= 0 || size <= 0 || size > (1 << 20) || window <= 0 || window > 65535) {
        fprintf(stderr, "bench-paho: N > 0, SIZE 1..1048576, WINDOW 1..65535\n");
        return 64;
    }
    char *payload = malloc((size_t)size);
    if (payload == NULL)
        return 1;
    /* a JSON-looking payload of the asked size */
    memset(payload, 'x', (size_t)size);
    memcpy(payload, "{\"x\":\"", size > 6 ? 6 : (size_t)size);
    payload[size - 1] = '}';
    double c0 = cpu_s(), w0 = wall_s();
#ifdef BENCH_PAHO_SYNC
    long rejected_n = 0;
    int rc = strcmp(argv[4], "sync") == 0        ? run_sync(argv[1], n, payload, size, window)
             : strcmp(argv[4], "sync-cb") == 0   ? run_sync_cb(argv[1], n, payload, size, window)
             : strcmp(argv[4], "sync-poll") == 0 ? run_sync_poll(argv[1], n, payload, size, window)
                                                 : -2;
#else
    int rc = strncmp(argv[4], "sync", 4) != 0
                     ? run_async(argv[1], n, payload, size, window, argv[4][5] == '-')
                     : -2;
    long rejected_n = rejected;
#endif
    if (rc == -2) {
        fprintf(stderr,
                "bench-paho: %s is the other binary's (bench-paho: async, async-buf; "
                "bench-paho-sync: sync, sync-cb, sync-poll)\n",
                argv[4]);
        free(payload);
        return 64;
    }
    double cpu = cpu_s() - c0, wall = wall_s() - w0;
    free(payload);
    if (rc != 0) {
        fprintf(stderr, "bench-paho: %s run failed (broker at %s?)\n", argv[4], argv[1]);
        return 1;
    }
    printf("{\"mode\":\"%s\",\"n\":%ld,\"size\":%d,\"window\":%ld,\"wall_s\":%.4f,\"cpu_s\":%.4f,"
           "\"cpu_us_per_msg\":%.3f,\"msgs_per_s\":%.0f,\"rejected\":%ld}\n",
           argv[4], n, size, window, wall, cpu, cpu / (double)n * 1e6, (double)n / wall,
           rejected_n);
    return 0;
}
