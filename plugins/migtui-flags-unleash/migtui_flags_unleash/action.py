"""Action type ``unleash_flag_off``: turn a flag off (rollback, pause) or on (resume) in one environment."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from migtui.api import ActionResult, Field, Schema, common_fields, validate

from migtui_flags_unleash.web import ActionError, check_url, request, snippet


def options_schema(verb: str) -> Schema:
    return Schema({
        **common_fields(verb, timeout=10.0),
        "url": Field("str", required=True, check=check_url, doc="Unleash API base, e.g. https://unleash.example.com/api"),
        "token": Field("str", required=True, secret=True, doc="Admin or personal access token, e.g. ${UNLEASH_ADMIN_TOKEN}."),
        "project": Field("str", default="default", doc="Unleash project of the flag."),
        "flag": Field("str", required=True, doc="The feature flag to turn off (on again on resume)."),
        "environment": Field("str", default="production", doc="Unleash environment whose flag is switched."),
    })


class UnleashFlagOff:
    undoes_pause = True  # configured under pause only, resume turns the flag back on

    def __init__(self, name: str, verb: str, opts: dict[str, Any]) -> None:
        self.name, self.verb = name, verb
        self.confirm, self.dry_run, self.timeout = opts["confirm"], opts["dry_run"], float(opts["timeout"])
        self.opts = opts
        self.state = "on" if verb == "resume" else "off"

    def url(self) -> str:
        o = self.opts
        return (f"{o['url']}/admin/projects/{quote(o['project'], safe='')}/features/{quote(o['flag'], safe='')}"
                f"/environments/{quote(o['environment'], safe='')}/{self.state}")

    def describe(self, request_: Any) -> str:
        return f"turn Unleash flag {self.opts['flag']!r} {self.state} in {self.opts['environment']} (POST {self.url()})"

    def run(self, request_: Any) -> ActionResult:
        url = self.url()
        try:
            status, body = request("POST", url, timeout=self.timeout, what="unleash", error=ActionError,
                                   headers={"Authorization": self.opts["token"], "Accept": "application/json"})
        except ActionError as exc:
            return ActionResult(False, str(exc))
        flag, env = self.opts["flag"], self.opts["environment"]
        if 200 <= status < 300:
            return ActionResult(True, f"flag {flag!r} is {self.state} in {env}", output=snippet(body),
                                data={"status": status, "flag": flag, "environment": env, "state": self.state})
        hint = {401: "the token was refused", 403: "the token may not change this flag",
                404: "no such project, flag or environment"}.get(status, "")
        return ActionResult(False, f"Unleash answered HTTP {status} turning {flag!r} {self.state} in {env}"
                            + (f": {hint}" if hint else ""), output=snippet(body), data={"status": status})


def build(ctx: Any, verb: str = "rollback") -> UnleashFlagOff:
    return UnleashFlagOff(ctx.name, verb, validate(options_schema(verb), ctx.options, ctx.path))
