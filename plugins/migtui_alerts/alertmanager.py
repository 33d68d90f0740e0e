"""Alertmanager-shaped alerters: ``webhook`` POSTs an Alertmanager webhook (version 4) payload to
any receiver, ``alertmanager`` POSTs to Alertmanager's own ``/api/v2/alerts`` (a firing alert's
``endsAt`` is a lease renewed by repeats)."""

from __future__ import annotations

import time
from typing import Any, Callable, Mapping, Sequence

from migtui.api import Alert, BuildContext, DeliveryResult, Field, Level, Schema, validate
from migtui_alerts.delivery import HTTP_FIELDS, ZERO_TIME, HttpAlerter, fingerprint, iso


def alert_labels(alert: Alert) -> dict[str, str]:
    """Labels for Alertmanager-shaped payloads: alertname, severity, run, phase, plus the alert's."""
    labels = {"alertname": alert.annotations.get("trigger") or alert.key.rsplit("/", 1)[-1],
              "severity": Level(alert.level).value, "run": alert.run, "phase": str(getattr(alert.phase, "value", alert.phase)),
              "source": "migtui"}
    labels.update({str(k): str(v) for k, v in alert.labels.items()})
    if alert.test:
        labels["test"] = "true"
    return labels


def alert_annotations(alert: Alert) -> dict[str, str]:
    ann = {"summary": alert.summary}
    ann.update({str(k): str(v) for k, v in alert.annotations.items()})
    if alert.value is not None:
        ann.setdefault("value", f"{alert.value:g}")
    return ann


def webhook_payload(alerts: Sequence[Alert], *, receiver: str, external_url: str, group_key: str) -> dict[str, Any]:
    items = []
    for a in alerts:
        items.append({
            "status": a.status,
            "labels": alert_labels(a),
            "annotations": alert_annotations(a),
            "startsAt": iso(a.starts_at),
            "endsAt": iso(a.ends_at) if a.status == "resolved" else ZERO_TIME,
            "generatorURL": external_url,
            "fingerprint": fingerprint(a.key),
        })
    label_sets = [it["labels"] for it in items]
    common_labels = {k: v for k, v in label_sets[0].items() if all(ls.get(k) == v for ls in label_sets)} \
        if label_sets else {}
    ann_sets = [it["annotations"] for it in items]
    common_ann = {k: v for k, v in ann_sets[0].items() if all(a.get(k) == v for a in ann_sets)} if ann_sets else {}
    return {
        "version": "4",
        "groupKey": group_key,
        "truncatedAlerts": 0,
        "status": "firing" if any(a.status == "firing" for a in alerts) else "resolved",
        "receiver": receiver,
        "groupLabels": {"run": alerts[0].run} if alerts else {},
        "commonLabels": common_labels,
        "commonAnnotations": common_ann,
        "externalURL": external_url,
        "alerts": items,
    }


class WebhookAlerter(HttpAlerter):
    """POSTs an Alertmanager webhook (version 4) payload."""

    def __init__(self, name: str, opts: Mapping[str, Any]) -> None:
        super().__init__(name, opts)
        self.url = opts["url"]
        self.receiver = opts.get("receiver") or name
        self.external_url = opts.get("external_url") or ""

    def send(self, alerts: Sequence[Alert]) -> DeliveryResult:
        alerts = self.wanted(alerts)
        if not alerts:
            return DeliveryResult(True, f"{self.name}: nothing to send", 0)
        group_key = f'{{}}:{{run="{alerts[0].run}"}}'
        return self.post(self.url, json_body=webhook_payload(alerts, receiver=self.receiver,
                                                              external_url=self.external_url, group_key=group_key))


class AlertmanagerAlerter(HttpAlerter):
    """POST /api/v2/alerts; a firing alert's endsAt is a lease (now + ``lease``) renewed by repeats."""

    stateful = True

    def __init__(self, name: str, opts: Mapping[str, Any]) -> None:
        super().__init__(name, opts)
        self.url = opts["url"].rstrip("/")
        self.lease = float(opts.get("lease") or 300.0)
        self.external_url = opts.get("external_url") or ""
        self.clock: Callable[[], float] = time.time

    def payload(self, alerts: Sequence[Alert]) -> list[dict[str, Any]]:
        now = self.clock()
        out = []
        for a in alerts:
            ends = (a.ends_at or now) if a.status == "resolved" else now + self.lease
            out.append({"labels": alert_labels(a), "annotations": alert_annotations(a),
                        "startsAt": iso(a.starts_at or now), "endsAt": iso(ends),
                        "generatorURL": self.external_url})
        return out

    def send(self, alerts: Sequence[Alert]) -> DeliveryResult:
        alerts = self.wanted(alerts)
        if not alerts:
            return DeliveryResult(True, f"{self.name}: nothing to send", 0)
        url = self.url if self.url.endswith("/api/v2/alerts") else self.url + "/api/v2/alerts"
        return self.post(url, json_body=self.payload(alerts))


WEBHOOK_SCHEMA = Schema({
    **HTTP_FIELDS,
    "url": Field("str", required=True, secret=True, doc="receiver URL"),
    "receiver": Field("str", doc="receiver name in the payload (default: the alerter's name)"),
    "external_url": Field("str", default="", doc="externalURL / generatorURL"),
})


ALERTMANAGER_SCHEMA = Schema({
    **HTTP_FIELDS,
    "url": Field("str", required=True, doc="Alertmanager base URL, e.g. http://am:9093"),
    "lease": Field("duration", default=300.0, doc="endsAt = now + lease for firing alerts"),
    "external_url": Field("str", default="", doc="generatorURL"),
})


def make_webhook(ctx: BuildContext) -> WebhookAlerter:
    return WebhookAlerter(ctx.name, validate(WEBHOOK_SCHEMA, ctx.options, ctx.path))


def make_alertmanager(ctx: BuildContext) -> AlertmanagerAlerter:
    return AlertmanagerAlerter(ctx.name, validate(ALERTMANAGER_SCHEMA, ctx.options, ctx.path))
