"""Home Assistant's MQTT value templates, as far as our discovery configs use them, rendered with
Jinja2 (Debian's python3-jinja2).

What is emulated (home-assistant/core: homeassistant/components/mqtt/models.py, MqttValueTemplate
and helpers/template.py, Template.async_render_with_possible_json_value):
- the template sees `value` (the payload as text) and, when the payload parses as JSON,
  `value_json`; a payload that is not JSON leaves `value_json` undefined;
- the result is text with surrounding white space stripped;
- the sandbox is Jinja2's immutable one (HA's TemplateEnvironment derives from it), with the
  filters our templates use: `to_json` (HA's JSON dump) and `from_json`.
Undefined names are errors here (HA logs a warning and renders an empty string): a template
that needs one is broken either way.

SPDX-License-Identifier: MIT
"""
import json

from jinja2 import StrictUndefined
from jinja2.sandbox import ImmutableSandboxedEnvironment

_env = ImmutableSandboxedEnvironment(undefined=StrictUndefined)
_env.filters["to_json"] = lambda v: json.dumps(v, ensure_ascii=False)
_env.filters["from_json"] = json.loads


def render_with(template, **variables):
    """`template` with the given variables (an automation's `trigger`, for instance)"""
    return _env.from_string(template).render(**variables).strip()


def render(template, payload):
    """`template` on MQTT payload text `payload`: the text HA would get (raises on errors)."""
    variables = {"value": payload}
    try:
        variables["value_json"] = json.loads(payload)
    except ValueError:
        pass
    return _env.from_string(template).render(**variables).strip()
