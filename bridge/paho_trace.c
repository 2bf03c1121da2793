/** @file paho_trace.c
 * paho.mqtt.c's function-call trace, left out of the static link.
 *
 * Debian 12 builds paho.mqtt.c (1.3.12) without HIGH_PERFORMANCE, so every function of paho
 * starts with FUNC_ENTRY and ends with FUNC_EXIT, which call StackTrace_entry and
 * StackTrace_exit (its src/StackTrace.c). Each call takes one mutex shared by every thread of
 * the process that is inside paho, looks its thread up in a table, copies or compares the
 * function's name, and, at paho's default trace level, also writes a record into the in-memory
 * trace ring under a second global mutex (Log_stackTrace). A QoS 1 message passes through a few
 * dozen paho functions in our thread and in paho's send and receive threads, so the three
 * threads meet on those two mutexes several dozen times per message. What the trace is for,
 * paho's own debugging (MQTT_C_CLIENT_TRACE), the bridge does not use.
 *
 * The bridge links Debian's static libpaho-mqtt3as.a (bridge/daemon.mk) with this file, whose
 * two functions then stand where the archive's StackTrace.o would: the linker takes an archive
 * member only for a symbol nothing else defines, and no other member uses StackTrace.o's other
 * functions. Should a later paho need one of them, the linker pulls that member in too and fails
 * on the duplicate definitions: loudly, at build time. `make PAHO_LINK=shared` links the shared
 * library instead and leaves this file out.
 *
 * The other half of the cost, the trace ring that paho's Log() fills at TRACE_MINIMUM (each
 * call formats its text with vsnprintf under a global mutex), is switched off through paho's
 * public API, in either link: bridge/mqtt.c quiet_paho_trace().
 *
 * SPDX-License-Identifier: MIT
 */

/* paho's signatures (src/StackTrace.h), with int for its enum LOG_LEVELS: that enum has a
 * negative member (INVALID_LEVEL = -1), so the compiler gives it the type int */
void StackTrace_entry(const char *name, int line, int trace_level);
void StackTrace_exit(const char *name, int line, void *rc, int trace_level);

void StackTrace_entry(const char *name, int line, int trace_level)
{
    (void)name;
    (void)line;
    (void)trace_level;
}

void StackTrace_exit(const char *name, int line, void *rc, int trace_level)
{
    (void)name;
    (void)line;
    (void)rc;
    (void)trace_level;
}
