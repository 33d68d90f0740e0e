"""The bundled alerter types: ``log`` (:mod:`~migtui_alerts.logfile`), ``webhook`` and
``alertmanager`` (:mod:`~migtui_alerts.alertmanager`), ``slack`` (:mod:`~migtui_alerts.slack`) and
``pagerduty`` (:mod:`~migtui_alerts.pagerduty`); the HTTP delivery they share (timeouts, retries,
``Retry-After``) is :mod:`~migtui_alerts.delivery`.
"""

from __future__ import annotations

from migtui_alerts.alertmanager import ALERTMANAGER_SCHEMA, WEBHOOK_SCHEMA, make_alertmanager, make_webhook
from migtui_alerts.logfile import LOG_SCHEMA, make_log
from migtui_alerts.pagerduty import PAGERDUTY_SCHEMA, make_pagerduty
from migtui_alerts.slack import SLACK_SCHEMA, make_slack

# type -> (factory, doc, schema of its options)
FACTORIES = {
    "log": (make_log, "Append one JSON line per alert to a file.", LOG_SCHEMA),
    "webhook": (make_webhook, "POST an Alertmanager webhook (v4) payload to a URL.", WEBHOOK_SCHEMA),
    "alertmanager": (make_alertmanager, "POST /api/v2/alerts to Alertmanager (endsAt as a lease).",
                     ALERTMANAGER_SCHEMA),
    "slack": (make_slack, "Slack incoming webhook ({text, blocks}).", SLACK_SCHEMA),
    "pagerduty": (make_pagerduty, "PagerDuty Events API v2 (trigger / resolve, stable dedup_key).", PAGERDUTY_SCHEMA),
}
