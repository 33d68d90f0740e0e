"""The bundled alerters: log file, generic webhook (Alertmanager webhook v4), Alertmanager API,
Slack incoming webhook and PagerDuty Events v2.

Every HTTP alerter uses httpx with a per-request timeout and retries with exponential backoff on
429 and 5xx (and on connection errors / timeouts), honouring ``Retry-After`` (capped by
``max_retry_wait``). URLs and keys are registered as secrets and never appear in results.
"""

from __future__ import annotations

import email.utils
import hashlib
import json
import os
import socket
import threading
import time
from datetime import datetime, timezone
from typing import Any, Callable, Mapping, Sequence

import httpx

from migtui.api import (Alert, BuildContext, DeliveryResult, Field, Level, Schema, redact, register_secret, safetext,
                        validate)

LEVELS = ("info", "warn", "pause", "rollback")

COMMON_FIELDS = {
    "type": Field("str", required=True),
    "name": Field("str"),
    "min_level": Field("str", default="warn", choices=LEVELS,
                       doc="send only alerts at or above this level (test alerts always go)"),
    "send_resolved": Field("bool", default=True, doc="also send 'resolved' notifications"),
}

HTTP_FIELDS = {
    **COMMON_FIELDS,
    "timeout": Field("duration", default=10.0, doc="per request"),
    "retries": Field("int", default=3, minimum=0, doc="extra attempts on 429, 5xx, timeouts"),
    "backoff": Field("duration", default=1.0, doc="first retry wait; doubles each time"),
    "max_retry_wait": Field("duration", default=30.0, doc="cap for one wait, Retry-After included"),
    "headers": Field("dict", items="str", default=dict, doc="extra HTTP headers (values are secret)"),
}

ZERO_TIME = "0001-01-01T00:00:00Z"
SLACK_NO_RETRY = {400, 403, 404, 410}


def iso(ts: float | None) -> str:
    if ts is None:
        return ZERO_TIME
    return datetime.fromtimestamp(ts, timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def fingerprint(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()[:16]


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


def _retry_after(resp: httpx.Response) -> float | None:
    raw = resp.headers.get("Retry-After")
    if not raw:
        return None
    raw = raw.strip()
    try:
        return max(0.0, float(raw))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(raw)
    except (TypeError, ValueError):
        return None
    if when is None:
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=timezone.utc)
    return max(0.0, when.timestamp() - time.time())


class HttpAlerter:
    """Shared HTTP plumbing: one httpx client, retries with backoff, redacted results."""

    kind = "http"
    stateful = False

    def __init__(self, name: str, opts: Mapping[str, Any]) -> None:
        self.name = name
        self.min_level = Level(opts.get("min_level") or "warn")
        self.send_resolved = bool(opts.get("send_resolved", True))
        self.timeout = float(opts.get("timeout") or 10.0)
        self.retries = int(opts.get("retries") if opts.get("retries") is not None else 3)
        self.backoff = float(opts.get("backoff") if opts.get("backoff") is not None else 1.0)
        self.max_retry_wait = float(opts.get("max_retry_wait") if opts.get("max_retry_wait") is not None else 30.0)
        self.headers = dict(opts.get("headers") or {})
        for v in self.headers.values():
            register_secret(v)
        self.sleep: Callable[[float], None] = time.sleep
        self._client = httpx.Client(timeout=self.timeout, follow_redirects=False,
                                    headers={"User-Agent": "migtui-alerts", **self.headers})
        self._lock = threading.Lock()

    def close(self) -> None:
        self._client.close()

    def _wait_for(self, attempt: int, resp: httpx.Response | None) -> float:
        wait = self.backoff * (2 ** (attempt - 1))
        if resp is not None:
            ra = _retry_after(resp)
            if ra is not None:
                wait = ra
        return min(wait, self.max_retry_wait)

    def post(self, url: str, *, json_body: Any = None, content: bytes | None = None,
             no_retry: Sequence[int] = ()) -> DeliveryResult:
        """POST with retries. Success is any 2xx."""
        if content is None:
            content = json.dumps(json_body, separators=(",", ":"), ensure_ascii=False).encode()
        headers = {"Content-Type": "application/json"}
        attempts = 0
        last = ""
        status: int | None = None
        with self._lock:
            while True:
                attempts += 1
                resp: httpx.Response | None = None
                try:
                    resp = self._client.post(url, content=content, headers=headers)
                    status = resp.status_code
                    if 200 <= status < 300:
                        return DeliveryResult(True, f"{self.name}: delivered (HTTP {status})", attempts, status)
                    body = resp.text[:200].strip()
                    last = f"HTTP {status}" + (f": {body}" if body else "")
                    retry = (status == 429 or status >= 500) and status not in no_retry
                except httpx.TimeoutException:
                    last, status, retry = f"timed out after {self.timeout:g}s", None, True
                except httpx.HTTPError as exc:
                    last, status, retry = f"{type(exc).__name__}: {exc}", None, True
                if not retry or attempts > self.retries:
                    tries = f" after {attempts} attempts" if attempts > 1 else ""
                    return DeliveryResult(False, redact(f"{self.name}: failed{tries}: {last}"), attempts, status)
                self.sleep(self._wait_for(attempts, resp))

    def wanted(self, alerts: Sequence[Alert]) -> list[Alert]:
        out = []
        for a in alerts:
            if a.test:
                out.append(a)
            elif a.status == "resolved" and not self.send_resolved:
                continue
            elif Level(a.level).rank >= self.min_level.rank:
                out.append(a)
        return out


# --------------------------------------------------------------------------- log


class LogAlerter:
    """Appends one JSON line per alert to a file."""

    stateful = False

    def __init__(self, name: str, path: str, opts: Mapping[str, Any]) -> None:
        self.name = name
        self.path = path
        self.min_level = Level(opts.get("min_level") or "info")
        self.send_resolved = bool(opts.get("send_resolved", True))
        self._lock = threading.Lock()

    def send(self, alerts: Sequence[Alert]) -> DeliveryResult:
        lines = []
        for a in alerts:
            if not a.test and Level(a.level).rank < self.min_level.rank:
                continue
            if a.status == "resolved" and not self.send_resolved and not a.test:
                continue
            lines.append(json.dumps({
                "ts": iso(time.time()), "status": a.status, "key": a.key, "level": Level(a.level).value,
                "summary": redact(a.summary), "run": a.run,
                "phase": str(getattr(a.phase, "value", a.phase)), "labels": a.labels,
                "annotations": {k: redact(v) for k, v in a.annotations.items()},
                "starts_at": iso(a.starts_at), "ends_at": iso(a.ends_at) if a.ends_at else None,
                "value": a.value, "test": a.test}, ensure_ascii=False))
        if not lines:
            return DeliveryResult(True, f"{self.name}: nothing at or above {self.min_level.value}", 0)
        try:
            os.makedirs(os.path.dirname(os.path.abspath(self.path)), exist_ok=True)
            with self._lock, open(self.path, "a", encoding="utf-8") as fh:
                fh.write("\n".join(lines) + "\n")
        except OSError as exc:
            return DeliveryResult(False, f"{self.name}: cannot write {self.path}: {exc.strerror or exc}")
        return DeliveryResult(True, f"{self.name}: wrote {len(lines)} alert(s) to {self.path}")

    def close(self) -> None:
        pass


# --------------------------------------------------------------------------- webhook (Alertmanager v4)


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


# --------------------------------------------------------------------------- Alertmanager API


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


# --------------------------------------------------------------------------- Slack


_EMOJI = {"info": ":information_source:", "warn": ":warning:", "pause": ":double_vertical_bar:",
          "rollback": ":rotating_light:"}


def slack_payload(alerts: Sequence[Alert], *, mention: str = "") -> dict[str, Any]:
    lines = []
    for a in alerts:
        lvl = Level(a.level).value
        mark = ":white_check_mark:" if a.status == "resolved" else _EMOJI.get(lvl, ":warning:")
        head = "RESOLVED" if a.status == "resolved" else lvl.upper()
        lines.append(f"{mark} *{head}* {safetext.slack(a.summary)}")
    worst = max((Level(a.level).rank for a in alerts if a.status == "firing"), default=-1)
    prefix = f"{mention} " if mention and worst >= Level.PAUSE.rank else ""
    text = prefix + "migtui: " + "; ".join(f"[{'resolved' if a.status == 'resolved' else Level(a.level).value}] "
                                            f"{safetext.slack(a.summary)}" for a in alerts)
    phase = str(getattr(alerts[0].phase, "value", alerts[0].phase))
    blocks: list[dict[str, Any]] = [
        {"type": "section", "text": {"type": "mrkdwn", "text": (prefix + "\n".join(lines))[:3000]}},
        {"type": "context", "elements": [{"type": "mrkdwn", "text": safetext.slack(f"migtui · run {alerts[0].run} · phase {phase}")}]},
    ]
    return {"text": text[:3000], "blocks": blocks}


class SlackAlerter(HttpAlerter):
    """Slack incoming webhook: {text, blocks}. 400/403/404/410 are not retried."""

    def __init__(self, name: str, opts: Mapping[str, Any]) -> None:
        super().__init__(name, opts)
        self.url = opts["url"]
        self.mention = opts.get("mention") or ""

    def send(self, alerts: Sequence[Alert]) -> DeliveryResult:
        alerts = self.wanted(alerts)
        if not alerts:
            return DeliveryResult(True, f"{self.name}: nothing to send", 0)
        return self.post(self.url, json_body=slack_payload(alerts, mention=self.mention), no_retry=SLACK_NO_RETRY)


# --------------------------------------------------------------------------- PagerDuty


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


# --------------------------------------------------------------------------- factories


LOG_SCHEMA = Schema({
    **COMMON_FIELDS,
    "min_level": Field("str", default="info", choices=LEVELS, doc="alerts below this level are not sent"),
    "path": Field("path", required=True, doc="JSON-lines file (relative to the config)"),
})
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
SLACK_SCHEMA = Schema({
    **HTTP_FIELDS,
    "url": Field("str", required=True, secret=True, doc="incoming webhook URL"),
    "mention": Field("str", default="", doc="e.g. <!here>, added for pause and rollback"),
})
PAGERDUTY_SCHEMA = Schema({
    **HTTP_FIELDS,
    "routing_key": Field("str", required=True, secret=True, doc="integration key"),
    "url": Field("str", default="https://events.pagerduty.com/v2/enqueue", doc="Events API v2 endpoint"),
    "source": Field("str", doc="payload.source (default: host name)"),
    "component": Field("str", default="", doc="payload.component"),
    "group": Field("str", default="", doc="payload.group"),
    "class": Field("str", default="", doc="payload.class"),
})


def make_log(ctx: BuildContext) -> LogAlerter:
    opts = validate(LOG_SCHEMA, ctx.options, ctx.path)
    return LogAlerter(ctx.name, str(ctx.config.resolve_path(opts["path"])), opts)


def make_webhook(ctx: BuildContext) -> WebhookAlerter:
    return WebhookAlerter(ctx.name, validate(WEBHOOK_SCHEMA, ctx.options, ctx.path))


def make_alertmanager(ctx: BuildContext) -> AlertmanagerAlerter:
    return AlertmanagerAlerter(ctx.name, validate(ALERTMANAGER_SCHEMA, ctx.options, ctx.path))


def make_slack(ctx: BuildContext) -> SlackAlerter:
    return SlackAlerter(ctx.name, validate(SLACK_SCHEMA, ctx.options, ctx.path))


def make_pagerduty(ctx: BuildContext) -> PagerDutyAlerter:
    return PagerDutyAlerter(ctx.name, validate(PAGERDUTY_SCHEMA, ctx.options, ctx.path))


# type -> (factory, doc, schema of its options)
FACTORIES = {
    "log": (make_log, "Append one JSON line per alert to a file.", LOG_SCHEMA),
    "webhook": (make_webhook, "POST an Alertmanager webhook (v4) payload to a URL.", WEBHOOK_SCHEMA),
    "alertmanager": (make_alertmanager, "POST /api/v2/alerts to Alertmanager (endsAt as a lease).",
                     ALERTMANAGER_SCHEMA),
    "slack": (make_slack, "Slack incoming webhook ({text, blocks}).", SLACK_SCHEMA),
    "pagerduty": (make_pagerduty, "PagerDuty Events API v2 (trigger / resolve, stable dedup_key).", PAGERDUTY_SCHEMA),
}
