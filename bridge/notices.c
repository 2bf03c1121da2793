/** @file notices.c
 * Payloads the bridge writes itself: the retained room info of a streamer (docs/mqtt.md
 * §3.2, picked out of TikTok's room/info) and the notices on <base>/bridge/event.
 *
 * TikTok's JSON is read with cJSON, which holds numbers as doubles: ids are taken from their
 * *_str twins, never from numbers.
 *
 * SPDX-License-Identifier: MIT
 */
#include <cjson/cJSON.h>
#include <stdio.h>
#include <string.h>

#include "notices.h"

static const char *str_at(const cJSON *o, const char *key)
{
    const char *v = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(o, key));
    return v ? v : "";
}

static double num_at(const cJSON *o, const char *key)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
    return cJSON_IsNumber(v) ? v->valuedouble : 0;
}

static cJSON *owner_of(const cJSON *info)
{
    const cJSON *o = cJSON_GetObjectItemCaseSensitive(info, "owner");
    const cJSON *urls = cJSON_GetObjectItemCaseSensitive(
            cJSON_GetObjectItemCaseSensitive(o, "avatar_thumb"), "url_list");
    const cJSON *follow = cJSON_GetObjectItemCaseSensitive(o, "follow_info");
    cJSON *out = cJSON_CreateObject();
    cJSON_AddStringToObject(out, "userId", str_at(o, "id_str"));
    cJSON_AddStringToObject(out, "uniqueId", str_at(o, "display_id"));
    cJSON_AddStringToObject(out, "nickname", str_at(o, "nickname"));
    const char *pic = cJSON_GetStringValue(cJSON_GetArrayItem(urls, 0));
    if (pic) {
        cJSON_AddStringToObject(out, "profilePictureUrl", pic);
    } else {
        cJSON_AddNullToObject(out, "profilePictureUrl");
    }
    cJSON_AddStringToObject(out, "bioDescription", str_at(o, "bio_description"));
    cJSON_AddNumberToObject(out, "followerCount", num_at(follow, "follower_count"));
    return out;
}

static void add_stream_urls(cJSON *out, const cJSON *info)
{
    const cJSON *su = cJSON_GetObjectItemCaseSensitive(info, "stream_url");
    const char *hls = str_at(su, "hls_pull_url");
    const cJSON *flv = cJSON_GetObjectItemCaseSensitive(su, "flv_pull_url");
    cJSON *urls = cJSON_AddObjectToObject(out, "streamUrls");
    if (*hls) {
        cJSON_AddStringToObject(urls, "hls", hls);
    }
    const char *f = cJSON_IsString(flv) ? flv->valuestring : str_at(flv, "FULL_HD1");
    if (!*f) {
        f = str_at(su, "rtmp_pull_url");
    }
    if (*f) {
        cJSON_AddStringToObject(urls, "flv", f);
    }
}

void bridge_room_publish(struct streamer *s, const char *room_id, const char *room_info)
{
    cJSON *info = cJSON_Parse(room_info);
    cJSON *out = cJSON_CreateObject();
    const cJSON *stats = cJSON_GetObjectItemCaseSensitive(info, "stats");
    cJSON_AddStringToObject(out, "roomId", room_id);
    cJSON_AddStringToObject(out, "title", str_at(info, "title"));
    cJSON_AddNumberToObject(out, "status", num_at(info, "status"));
    cJSON_AddNumberToObject(out, "createTime", num_at(info, "create_time"));
    cJSON_AddItemToObject(out, "owner", owner_of(info));
    add_stream_urls(out, info);
    cJSON_AddNumberToObject(out, "viewerCount", num_at(info, "user_count"));
    cJSON_AddNumberToObject(out, "likeCount",
                            num_at(info, "like_count") ? num_at(info, "like_count")
                                                       : num_at(stats, "like_count"));
    bridge_out_retained_json(s->out, BRIDGE_TOPIC_ROOM, s->topic, out);
    cJSON_Delete(info);
}

static void publish_event(struct bridge_out *o, cJSON *j)
{
    bridge_out_notice_json(o, BRIDGE_TOPIC_NOTICE, NULL, j);
}

void bridge_event_rate_limited(struct streamer *s, unsigned retry_after)
{
    cJSON *j = cJSON_CreateObject();
    cJSON_AddStringToObject(j, "type", "rate_limited");
    cJSON_AddStringToObject(j, "user", s->topic);
    cJSON_AddNumberToObject(j, "retryAfter", retry_after);
    publish_event(s->out, j);
}

void bridge_event_error(struct streamer *s, enum tt_err e, const char *msg)
{
    cJSON *j = cJSON_CreateObject();
    cJSON_AddStringToObject(j, "type", "error");
    cJSON_AddStringToObject(j, "user", s->topic);
    cJSON_AddStringToObject(j, "code", tt_err_name(e));
    cJSON_AddStringToObject(j, "message", msg ? msg : "");
    publish_event(s->out, j);
}

void bridge_event_simple(struct bridge_out *o, const char *type, const char *user)
{
    cJSON *j = cJSON_CreateObject();
    cJSON_AddStringToObject(j, "type", type);
    if (user) {
        cJSON_AddStringToObject(j, "user", user);
    }
    publish_event(o, j);
}
