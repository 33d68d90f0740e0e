"""The ``pagerduty`` alerter: PagerDuty Events API v2, one event per alert, trigger / resolve with a
stable dedup_key."""

from __future__ import annotations

import socket
import time
from typing import Any, Mapping, Sequence

from migtui.api import Alert, BuildContext, DeliveryResult, Field, Level, Schema, validate
from migtui_alerts.delivery import HTTP_FIELDS, HttpAlerter, iso

PD_SEVERITY = {"rollback": "critical", "pause": "error", "warn": "warning", "info": "info", "error": "error"}


class PagerDutyAlerter(HttpAlerter):
    """PagerDuty Events API v2: one event per alert, trigger / resolve with a stable dedup_key."""

    stateful = True

    def __init__(self, name: str, opts: Mapping[str, Any]) -> None:
        super().__init__(name, opts)
        self.url = opts.get("url") or "https://events.pagerduty.com/v2/enqueue"
        self.routing_key = opts["routing_key"]
        self.source = opts.get("source") or socket.gethostname()
        self.component = opts.get("component") or ""
        self.group = opts.get("group") or ""
        self.klass = opts.get("class") or ""

    def event(self, a: Alert) -> dict[str, Any]:
        dedup = a.key[:255]
        if a.status == "resolved":
            return {"routing_key": self.routing_key, "event_action": "resolve", "dedup_key": dedup}
        payload: dict[str, Any] = {
            "summary": a.summary[:1024],
            "source": self.source,
            "severity": PD_SEVERITY.get(Level(a.level).value, "warning"),
            "timestamp": iso(a.starts_at or time.time()),
            "custom_details": {"run": a.run, "phase": str(getattr(a.phase, "value", a.phase)),
                               "value": a.value, "labels": dict(a.labels), **dict(a.annotations)},
        }
        for key, val in (("component", self.component), ("group", self.group), ("class", self.klass)):
            if val:
                payload[key] = val
        return {"routing_key": self.routing_key, "event_action": "trigger", "dedup_key": dedup, "payload": payload}

    def send(self, alerts: Sequence[Alert]) -> DeliveryResult:
        alerts = self.wanted(alerts)
        if not alerts:
            return DeliveryResult(True, f"{self.name}: nothing to send", 0)
        results = [self.post(self.url, json_body=self.event(a), no_retry=(400,)) for a in alerts]
        failed = [r for r in results if not r.ok]
        attempts = sum(r.attempts for r in results)
        status = results[-1].status
        if failed:
            return DeliveryResult(False, f"{len(failed)}/{len(results)} event(s) failed: " + failed[0].message,
                                  attempts, failed[0].status)
        return DeliveryResult(True, f"{self.name}: {len(results)} event(s) accepted", attempts, status)


PAGERDUTY_SCHEMA = Schema({
    **HTTP_FIELDS,
    "routing_key": Field("str", required=True, secret=True, doc="integration key"),
    "url": Field("str", default="https://events.pagerduty.com/v2/enqueue", doc="Events API v2 endpoint"),
    "source": Field("str", doc="payload.source (default: host name)"),
    "component": Field("str", default="", doc="payload.component"),
    "group": Field("str", default="", doc="payload.group"),
    "class": Field("str", default="", doc="payload.class"),
})


def make_pagerduty(ctx: BuildContext) -> PagerDutyAlerter:
    return PagerDutyAlerter(ctx.name, validate(PAGERDUTY_SCHEMA, ctx.options, ctx.path))
