"""The rules Home Assistant applies to an MQTT discovery config, written down in our own words
from its source (home-assistant/core, homeassistant/components/mqtt/ unless said otherwise),
and a checker that holds configs against them.

Each rule names the file it comes from. A rule marked `project` is ours, not HA's (what
docs/mqtt.md §6 promises on top). HA drops keys it does not know (its discovery schemas remove
extras); we reject them, so that a misspelt key cannot silently do nothing.

`check(configs, samples)` returns problems as (rule id, topic, text):
- configs: {topic: payload text} of the retained discovery messages (empty ones left out);
- samples: {state topic: [payload text, ...]} seen on the topics the configs read, used by
  the rules that render templates (hatemplate.py).

SPDX-License-Identifier: MIT
"""
import json
import re

from hatemplate import render

# discovery.py: TOPIC_MATCHER, and const.py: SUPPORTED_COMPONENTS (the ones we may use)
TOPIC_RE = re.compile(r"^(?P<prefix>.+?)/(?P<component>\w+)/(?:(?P<node>[a-zA-Z0-9_-]+)/)?"
                      r"(?P<object>[a-zA-Z0-9_-]+)/config$")
SUPPORTED = {"binary_sensor", "sensor", "event", "device_automation", "button", "switch",
             "number", "select", "text", "tag", "update", "image", "notify"}

# schemas.py: MQTT_AVAILABILITY_SCHEMA + MQTT_ENTITY_COMMON_SCHEMA; config.py: MQTT_RO_SCHEMA
ENTITY_COMMON = {"availability", "availability_mode", "availability_template",
                 "availability_topic", "payload_available", "payload_not_available", "device",
                 "origin", "enabled_by_default", "entity_category", "entity_picture", "icon",
                 "json_attributes_topic", "json_attributes_template", "default_entity_id",
                 "unique_id", "name", "state_topic", "value_template", "qos", "encoding"}
# per platform: sensor.py, binary_sensor.py, event.py, device_trigger.py (TRIGGER_DISCOVERY_SCHEMA)
ACCEPTED = {
    "sensor": ENTITY_COMMON | {"device_class", "expire_after", "force_update",
                               "last_reset_value_template", "options",
                               "suggested_display_precision", "state_class",
                               "unit_of_measurement"},
    "binary_sensor": ENTITY_COMMON | {"device_class", "expire_after", "force_update",
                                      "off_delay", "payload_off", "payload_on"},
    "event": ENTITY_COMMON | {"device_class", "event_types"},
    "device_automation": {"automation_type", "device", "payload", "subtype", "topic", "type",
                          "value_template", "qos", "encoding", "origin"},
}
REQUIRED = {
    "sensor": {"state_topic"},  # config.py MQTT_RO_SCHEMA
    "binary_sensor": {"state_topic"},
    "event": {"state_topic", "event_types"},  # event.py
    "device_automation": {"automation_type", "device", "subtype", "topic", "type"},
}
# schemas.py MQTT_ENTITY_DEVICE_INFO_SCHEMA and MQTT_ORIGIN_INFO_SCHEMA
DEVICE_KEYS = {"identifiers", "connections", "manufacturer", "model", "model_id", "name",
               "hw_version", "serial_number", "sw_version", "via_device", "suggested_area",
               "configuration_url"}
ORIGIN_KEYS = {"name", "sw_version", "support_url"}
# components/sensor/const.py: SensorStateClass, and the device classes without numbers
STATE_CLASSES = {"measurement", "measurement_angle", "total", "total_increasing"}
NON_NUMERIC_SENSOR_CLASSES = {"date", "enum", "timestamp"}
SENSOR_DEVICE_CLASSES = NON_NUMERIC_SENSOR_CLASSES | {
    "apparent_power", "aqi", "area", "atmospheric_pressure", "battery",
    "blood_glucose_concentration", "carbon_monoxide", "carbon_dioxide", "conductivity",
    "current", "data_rate", "data_size", "distance", "duration", "energy", "energy_distance",
    "energy_storage", "frequency", "gas", "humidity", "illuminance", "irradiance", "moisture",
    "monetary", "nitrogen_dioxide", "nitrogen_monoxide", "nitrous_oxide", "ozone", "ph", "pm1",
    "pm10", "pm25", "power_factor", "power", "precipitation", "precipitation_intensity",
    "pressure", "reactive_power", "signal_strength", "sound_pressure", "speed",
    "sulphur_dioxide", "temperature", "volatile_organic_compounds",
    "volatile_organic_compounds_parts", "voltage", "volume", "volume_storage",
    "volume_flow_rate", "water", "weight", "wind_direction", "wind_speed"}
# components/binary_sensor/__init__.py: BinarySensorDeviceClass
BINARY_DEVICE_CLASSES = {
    "battery", "battery_charging", "carbon_monoxide", "cold", "connectivity", "door",
    "garage_door", "gas", "heat", "light", "lock", "moisture", "motion", "moving", "occupancy",
    "opening", "plug", "power", "presence", "problem", "running", "safety", "smoke", "sound",
    "tamper", "update", "vibration", "window"}
EVENT_DEVICE_CLASSES = {"button", "doorbell", "motion"}  # components/event/__init__.py
# helpers/config_validation.py: valid_entity_id (HA's slug: no `_` at an end or twice)
SLUG = r"(?!_)(?!.*__)[a-z0-9_]+(?<!_)"
ENTITY_ID_RE = re.compile(r"^(?P<domain>%s)\.(?P<object>%s)$" % (SLUG, SLUG))
# our counts that start again with each live (docs/mqtt.md §6)
COUNTS_PER_LIVE = {"likes", "diamonds", "follows", "shares"}

RULES = []


def rule(rid, source, text):
    def add(fn):
        RULES.append((rid, source, text, fn))
        return fn
    return add


def _url(v):
    return isinstance(v, str) and re.match(r"^(https?|homeassistant)://[^\s/]+", v) is not None


class Config:
    def __init__(self, topic, text):
        self.topic, self.text = topic, text
        m = TOPIC_RE.match(topic)
        self.component = m.group("component") if m else None
        self.node = m.group("node") if m else None
        self.object = m.group("object") if m else None
        try:
            self.p = json.loads(text)
        except ValueError:
            self.p = None

    @property
    def ok(self):
        return self.component is not None and isinstance(self.p, dict)


# ---- the topic and the payload ----

@rule("topic", "discovery.py (TOPIC_MATCHER), const.py (SUPPORTED_COMPONENTS)",
      "<prefix>/<component>/[<node>/]<object>/config, ids of [a-zA-Z0-9_-], a known component")
def r_topic(c, ctx):
    if c.component is None:
        return ["not a discovery topic HA accepts"]
    if c.component not in SUPPORTED:
        return ["component %s is not one HA's MQTT integration supports" % c.component]
    return []


@rule("json", "discovery.py (json_loads_object)", "the payload is a JSON object")
def r_json(c, ctx):
    return [] if isinstance(c.p, dict) else ["payload is not a JSON object"]


# ---- keys ----

@rule("keys", "sensor.py, binary_sensor.py, event.py, device_trigger.py, schemas.py",
      "only keys the platform accepts (HA drops the others silently); object_id is gone")
def r_keys(c, ctx):
    acc = ACCEPTED.get(c.component)
    if acc is None:
        return []
    out = ["key %s is not one a %s takes" % (k, c.component) for k in c.p if k not in acc]
    if "object_id" in c.p:  # entity.py: deprecated since 2025.10, ignored from 2026.4
        out.append("object_id is no longer read: default_entity_id is")
    return out


@rule("required", "config.py (MQTT_RO_SCHEMA), event.py, device_trigger.py",
      "the keys a platform requires are there")
def r_required(c, ctx):
    return ["%s is required" % k for k in sorted(REQUIRED.get(c.component, ())) if k not in c.p]


@rule("types", "schemas.py, config.py (cv.string, valid_qos_schema, valid_subscribe_topic)",
      "strings are strings, topics have no wildcard where one is read, qos is 0..2")
def r_types(c, ctx):
    out = []
    for k in ("name", "unique_id", "state_topic", "value_template", "availability_topic",
              "icon", "topic", "type", "subtype", "payload", "automation_type",
              "unit_of_measurement", "default_entity_id"):
        if k in c.p and not isinstance(c.p[k], str):
            out.append("%s must be a string" % k)
    for k in ("state_topic", "availability_topic"):
        if isinstance(c.p.get(k), str) and (not c.p[k] or "#" in c.p[k][:-1]):
            out.append("%s is not a valid topic" % k)
    if "qos" in c.p and c.p["qos"] not in (0, 1, 2):
        out.append("qos must be 0, 1 or 2")
    if "icon" in c.p and isinstance(c.p["icon"], str) and not re.match(r"^[\w-]+:[\w-]+$",
                                                                        c.p["icon"]):
        out.append("icon must be prefix:name")  # helpers/config_validation.py (icon)
    if c.component == "device_automation" and c.p.get("automation_type") != "trigger":
        out.append("automation_type must be trigger")
    return out


@rule("availability", "schemas.py (vol.Exclusive availability / availability_topic)",
      "availability_topic and an availability list are not both given")
def r_availability(c, ctx):
    return (["availability_topic and availability exclude each other"]
            if "availability" in c.p and "availability_topic" in c.p else [])


@rule("entity_category", "helpers/entity.py (ENTITY_CATEGORIES_SCHEMA), sensor/__init__.py",
      "entity_category is config or diagnostic; a read-only entity may not be config")
def r_category(c, ctx):
    cat = c.p.get("entity_category")
    if cat is None:
        return []
    if cat not in ("config", "diagnostic"):
        return ["entity_category %r is unknown" % cat]
    if cat == "config" and c.component in ("sensor", "binary_sensor"):
        return ["a %s cannot have entity_category config" % c.component]
    return []


@rule("default_entity_id", "schemas.py (CONF_DEFAULT_ENTITY_ID), entity.py (its deprecation of "
      "object_id), helpers/config_validation.py (valid_entity_id)",
      "default_entity_id is <component>.<slug>, the component the topic names")
def r_default_entity_id(c, ctx):
    if c.component == "device_automation":
        return []
    v = c.p.get("default_entity_id")
    if v is None:
        return ["default_entity_id is missing (project: every entity suggests its id)"]
    m = ENTITY_ID_RE.match(v) if isinstance(v, str) else None
    if not m:
        return ["default_entity_id %r is not a valid entity id" % (v,)]
    if m.group("domain") != c.component:
        return ["default_entity_id %r is not in domain %s" % (v, c.component)]
    return []


# ---- device and origin ----

@rule("device", "schemas.py (MQTT_ENTITY_DEVICE_INFO_SCHEMA, validate_device_has_at_least_one_"
      "identifier)", "a device has identifiers or connections, known keys, a URL as "
      "configuration_url; project: a name, a model and sw_version")
def r_device(c, ctx):
    d = c.p.get("device")
    if d is None:
        return ["no device block (project: every config belongs to a device)"]
    if not isinstance(d, dict):
        return ["device is not an object"]
    out = ["device key %s is unknown" % k for k in d if k not in DEVICE_KEYS]
    ids = d.get("identifiers")
    if isinstance(ids, str):
        ids = [ids]
    if not ids and not d.get("connections"):
        out.append("device has neither identifiers nor connections")
    if ids and not all(isinstance(i, str) and i for i in ids):
        out.append("device identifiers must be strings")
    if "configuration_url" in d and not _url(d["configuration_url"]):
        out.append("configuration_url %r is not a URL HA accepts" % d["configuration_url"])
    for k in ("name", "model", "sw_version"):
        if not isinstance(d.get(k), str) or not d.get(k):
            out.append("device has no %s (project)" % k)
    return out


@rule("origin", "schemas.py (MQTT_ORIGIN_INFO_SCHEMA), discovery.py (_valid_origin_info: a "
      "bad origin drops the whole config)", "origin has a name, known keys, a URL as "
      "support_url; project: present, with sw_version")
def r_origin(c, ctx):
    o = c.p.get("origin")
    if not isinstance(o, dict):
        return ["no origin block (project)"]
    out = ["origin key %s is unknown" % k for k in o if k not in ORIGIN_KEYS]
    if not isinstance(o.get("name"), str) or not o.get("name"):
        out.append("origin has no name")
    if not isinstance(o.get("sw_version"), str):
        out.append("origin has no sw_version (project)")
    if "support_url" in o and not _url(o["support_url"]):
        out.append("support_url %r is not a URL" % o["support_url"])
    return out


@rule("via_device", "entity.py (ensure_via_device_exists: an unknown one becomes a nameless "
      "placeholder device)", "via_device names a device some published config describes")
def r_via(c, ctx):
    d = c.p.get("device")
    via = d.get("via_device") if isinstance(d, dict) else None
    if via is None or via in ctx["devices"]:
        return []
    return ["via_device %r is no published device" % via]


@rule("device_agree", "helpers/device_registry.py (the last config updates the device)",
      "project: configs of one device describe it alike (name, model, sw_version, via_device)")
def r_device_agree(c, ctx):
    d = c.p.get("device")
    if not isinstance(d, dict):
        return []
    out = []
    for ident in d.get("identifiers") or []:
        first = ctx["devices"].get(ident)
        for k in ("name", "model", "manufacturer", "sw_version", "via_device"):
            if first and first.get(k) != d.get(k):
                out.append("device %s: %s %r here, %r elsewhere" % (ident, k, d.get(k),
                                                                   first.get(k)))
    return out


# ---- sensors, binary sensors, events, triggers ----

@rule("state_class", "sensor.py (validate_sensor_state_and_device_class_config), "
      "components/sensor/const.py (SensorStateClass, STATE_CLASS_UNITS)",
      "a known state_class; measurement_angle in degrees; last_reset only with total; options "
      "only for device class enum, without state_class or unit; a non-numeric device class "
      "takes neither")
def r_state_class(c, ctx):
    if c.component != "sensor":
        return []
    out = []
    sc, unit, dc = c.p.get("state_class"), c.p.get("unit_of_measurement"), c.p.get("device_class")
    if sc is not None and sc not in STATE_CLASSES:
        out.append("state_class %r is unknown" % sc)
    if sc == "measurement_angle" and unit != "°":
        out.append("measurement_angle needs unit °")
    if "last_reset_value_template" in c.p and sc != "total":
        out.append("last_reset_value_template needs state_class total")
    if "options" in c.p and (dc != "enum" or sc or unit):
        out.append("options need device class enum and no state_class or unit")
    if dc is not None and dc not in SENSOR_DEVICE_CLASSES:
        out.append("device_class %r is unknown" % dc)
    if dc in NON_NUMERIC_SENSOR_CLASSES and (sc or unit):
        out.append("device class %s takes no state_class or unit" % dc)
    return out


@rule("counts_per_live", "project (docs/mqtt.md §6); sensor const.py: total_increasing reads a "
      "drop as a new cycle", "likes, diamonds, follows and shares are total_increasing")
def r_counts(c, ctx):
    if c.component == "sensor" and c.object in COUNTS_PER_LIVE and \
            c.p.get("state_class") != "total_increasing":
        return ["%s counts per live: state_class must be total_increasing" % c.object]
    return []


@rule("device_class", "binary_sensor/__init__.py, event/__init__.py (device class enums)",
      "a binary sensor's or event's device_class is one HA knows")
def r_device_class(c, ctx):
    dc = c.p.get("device_class")
    known = {"binary_sensor": BINARY_DEVICE_CLASSES, "event": EVENT_DEVICE_CLASSES}.get(c.component)
    if dc is None or known is None or dc in known:
        return []
    return ["device_class %r is no %s class" % (dc, c.component)]


@rule("event_types", "event.py (event_types list; _event_received: the rendered payload is a "
      "JSON object whose event_type is one of them, the rest become attributes)",
      "event_types is a non-empty list of strings, and every real payload renders to an "
      "object whose event_type is listed, with the event's fields beside it")
def r_event_types(c, ctx):
    if c.component != "event":
        return []
    et = c.p.get("event_types")
    if not isinstance(et, list) or not et or not all(isinstance(t, str) for t in et):
        return ["event_types must be a non-empty list of strings"]
    out = []
    for payload in ctx["samples"].get(c.p.get("state_topic"), []):
        try:
            text = render(c.p["value_template"], payload) if "value_template" in c.p else payload
            obj = json.loads(text)
        except Exception as e:  # noqa: BLE001 (a template error is the finding)
            out.append("payload does not render to JSON: %s" % e)
            continue
        if not isinstance(obj, dict) or obj.get("event_type") not in et:
            out.append("rendered event_type %r is not in %r" % (
                obj.get("event_type") if isinstance(obj, dict) else obj, et))
            continue
        src = json.loads(payload)
        lost = [k for k in src if k not in obj]
        if lost:
            out.append("the event's fields %s do not reach the attributes" % lost[:5])
    return out


@rule("renders", "sensor.py (_update_state; sensor/__init__.py: a state_class or unit needs a "
      "number), binary_sensor.py (payload_on / payload_off, ON / OFF by default)",
      "every value_template renders on every real state payload: a number for a sensor with "
      "state_class or unit, payload_on or payload_off for a binary sensor")
def r_renders(c, ctx):
    if c.component not in ("sensor", "binary_sensor") or "value_template" not in c.p:
        return []
    out = []
    for payload in ctx["samples"].get(c.p.get("state_topic"), []):
        if payload == "":
            continue  # a cleared topic: not delivered as a state
        try:
            v = render(c.p["value_template"], payload)
        except Exception as e:  # noqa: BLE001
            out.append("template fails on %r: %s" % (payload[:80], e))
            continue
        if c.component == "binary_sensor":
            on, off = c.p.get("payload_on", "ON"), c.p.get("payload_off", "OFF")
            if v not in (on, off):
                out.append("renders %r, neither %r nor %r" % (v, on, off))
        elif c.p.get("state_class") or c.p.get("unit_of_measurement"):
            try:
                float(v)
            except ValueError:
                out.append("renders %r, not a number" % v)
    return out


@rule("trigger", "device_trigger.py (type and subtype per device are unique; the trigger "
      "fires when value_template's result equals payload)", "a trigger's (device, type, "
      "subtype) is unique, and its template picks its own payloads out of the real ones")
def r_trigger(c, ctx):
    if c.component != "device_automation":
        return []
    ids = tuple((c.p.get("device") or {}).get("identifiers") or [])
    key = (ids, c.p.get("type"), c.p.get("subtype"))
    out = []
    if ctx["triggers"].get(key, c.topic) != c.topic:
        out.append("type/subtype %r/%r already used by %s" % (key[1], key[2], ctx["triggers"][key]))
    samples = ctx["samples"].get(c.p.get("topic"), [])
    fired = 0
    for payload in samples:
        try:
            v = render(c.p["value_template"], payload) if c.p.get("value_template") else payload
        except Exception as e:  # noqa: BLE001
            out.append("template fails: %s" % e)
            break
        fired += v == c.p.get("payload")
    if samples and not fired:
        out.append("fires on none of the %d payloads of %s" % (len(samples), c.p.get("topic")))
    return out


@rule("unique_id", "helpers/entity_platform.py (a second entity with a unique_id is refused)",
      "unique_id is there and unique across every entity config")
def r_unique(c, ctx):
    if c.component == "device_automation":
        return []
    u = c.p.get("unique_id")
    if not isinstance(u, str) or not u:
        return ["no unique_id (project: required for the device registry)"]
    if ctx["unique_ids"].get(u, c.topic) != c.topic:
        return ["unique_id %s also in %s" % (u, ctx["unique_ids"][u])]
    return []


def _context(cfgs, samples):
    ctx = {"devices": {}, "unique_ids": {}, "triggers": {}, "samples": samples}
    for c in cfgs:
        if not c.ok:
            continue
        d = c.p.get("device")
        if isinstance(d, dict):
            for ident in d.get("identifiers") or []:
                ctx["devices"].setdefault(ident, d)
        if c.component == "device_automation":
            ids = tuple((d or {}).get("identifiers") or []) if isinstance(d, dict) else ()
            ctx["triggers"].setdefault((ids, c.p.get("type"), c.p.get("subtype")), c.topic)
        elif isinstance(c.p.get("unique_id"), str):
            ctx["unique_ids"].setdefault(c.p["unique_id"], c.topic)
    return ctx


def check(configs, samples=None):
    cfgs = [Config(t, p) for t, p in sorted(configs.items())]
    ctx = _context(cfgs, samples or {})
    problems = []
    for c in cfgs:
        for rid, _src, _text, fn in RULES:
            if rid not in ("topic", "json") and not c.ok:
                continue
            problems += [(rid, c.topic, p) for p in fn(c, ctx)]
    return problems
