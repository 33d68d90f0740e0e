"""The ``slack`` alerter: a Slack incoming webhook ({text, blocks}); alert text is escaped for Slack."""

from __future__ import annotations

from typing import Any, Mapping, Sequence

from migtui.api import Alert, BuildContext, DeliveryResult, Field, Level, Schema, safetext, validate
from migtui_alerts.delivery import HTTP_FIELDS, HttpAlerter

SLACK_NO_RETRY = {400, 403, 404, 410}

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


SLACK_SCHEMA = Schema({
    **HTTP_FIELDS,
    "url": Field("str", required=True, secret=True, doc="incoming webhook URL"),
    "mention": Field("str", default="", doc="e.g. <!here>, added for pause and rollback"),
})


def make_slack(ctx: BuildContext) -> SlackAlerter:
    return SlackAlerter(ctx.name, validate(SLACK_SCHEMA, ctx.options, ctx.path))
