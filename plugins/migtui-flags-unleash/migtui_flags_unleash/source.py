"""Source type ``unleash_flags``: flag state and per-variant exposure, through OpenFeature."""

from __future__ import annotations

import collections
import time
from typing import Any, Iterator

from migtui.api import Event, Field, Level, MetricSpec, PanelSpec, Sample, Schema, validate

from migtui_flags_unleash.web import check_url
from migtui_flags_unleash.provider import DISABLED_VARIANT, UnleashProvider

SCHEMA = Schema({
    "type": Field("str", required=True),
    "name": Field("str"),
    "url": Field("str", required=True, check=check_url, doc="Unleash API base, e.g. https://unleash.example.com/api"),
    "token": Field("str", required=True, secret=True, doc="Client (backend) token, e.g. ${UNLEASH_CLIENT_TOKEN}."),
    "app_name": Field("str", default="migtui", doc="Sent as UNLEASH-APPNAME."),
    "flags": Field("list", items="str", default=list, doc="Flags to watch (default: every flag the token sees)."),
    "sample_size": Field("int", default=1000, minimum=1, doc="Synthetic users evaluated per poll for exposure."),
    "interval": Field("duration", default=10.0, minimum=0.1),
    "timeout": Field("duration", default=5.0, minimum=0.1, doc="Timeout of each HTTP request."),
    "title": Field("str", default="Feature flags", doc="Panel title."),
})


class UnleashFlagsSource:
    def __init__(self, name: str, opts: dict[str, Any]) -> None:
        from openfeature import api

        self.name = name
        self.opts = opts
        self.interval = float(opts["interval"])
        self.timeout = float(opts["timeout"]) * 2 + 1
        self.provider = UnleashProvider(opts["url"], opts["token"], app_name=opts["app_name"],
                                        timeout=float(opts["timeout"]))
        self.domain = f"migtui:{name}:{id(self)}"
        api.set_provider(self.provider, domain=self.domain)
        self.client = api.get_client(domain=self.domain)
        self._missing: set[str] = set()

    def collect(self, ctx: Any) -> Iterator[Sample | Event]:
        from openfeature.evaluation_context import EvaluationContext
        from openfeature.exception import ErrorCode

        now = ctx.now if ctx is not None else time.time()
        known = self.provider.refresh()
        flags = list(self.opts["flags"]) or known
        n = int(self.opts["sample_size"])
        users = [EvaluationContext(targeting_key=f"migtui-sample-{i}") for i in range(n)]
        for flag in flags:
            state = self.client.get_boolean_details(flag, False)
            if state.error_code == ErrorCode.FLAG_NOT_FOUND:
                yield Sample(now, self.name, "flag.enabled", float("nan"), {"flag": flag})
                if flag not in self._missing:
                    self._missing.add(flag)
                    yield Event("error", f"{self.name}/{flag}", f"flag {flag!r} does not exist in Unleash "
                                f"(or the token cannot see it)", Level.WARN, {"source": self.name, "flag": flag})
                continue
            self._missing.discard(flag)
            yield Sample(now, self.name, "flag.enabled", 1.0 if state.value else 0.0, {"flag": flag})
            on = 0
            variants: collections.Counter[str] = collections.Counter()
            for user in users:
                if self.client.get_boolean_value(flag, False, user):
                    on += 1
                variants[self.client.get_string_value(flag, DISABLED_VARIANT, user)] += 1
            yield Sample(now, self.name, "flag.exposure", on / n, {"flag": flag})
            for variant, count in sorted(variants.items()):
                yield Sample(now, self.name, "flag.variant_exposure", count / n, {"flag": flag, "variant": variant})

    def panels(self) -> list[PanelSpec]:
        return [PanelSpec("flags", self.opts["title"], metrics=(
            MetricSpec("flag.enabled", "enabled", kind="state"),
            MetricSpec("flag.exposure", "exposed", "%", kind="state"),
            MetricSpec("flag.variant_exposure", "variant exposure", "%", kind="state"),
        ), source=self.name)]

    def close(self) -> None:
        from openfeature import api
        from openfeature.provider.no_op_provider import NoOpProvider

        try:
            api.set_provider(NoOpProvider(), domain=self.domain)
        except Exception:  # noqa: BLE001
            pass


def build(ctx: Any) -> UnleashFlagsSource:
    return UnleashFlagsSource(ctx.name, validate(SCHEMA, ctx.options, ctx.path))
