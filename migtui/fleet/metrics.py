"""A watch's ``GET /metrics`` (OpenMetrics or Prometheus text) as panels for the detail screen.

Parsed by prometheus_client's own parser; series are grouped by their ``panel`` label when they have
one, else by their ``source`` label, else by the metric family. Names, labels and values are outside
text (render through :mod:`migtui.safetext`). A body that does not parse is a MetricsError.
"""

from __future__ import annotations

from dataclasses import dataclass

from prometheus_client.parser import text_string_to_metric_families


class MetricsError(Exception):
    pass


@dataclass(frozen=True)
class Series:
    name: str
    labels: tuple[tuple[str, str], ...]
    value: float

    def label_text(self) -> str:
        return ", ".join(f"{k}={v}" for k, v in self.labels)


HIDDEN_LABELS = frozenset({"run", "database"})
"""The same on every series of one watch: not repeated on each line."""


def parse_panels(text: str) -> dict[str, list[Series]]:
    """``{panel: [Series]}`` in the order the body has them."""
    if text.rstrip().endswith("# EOF"):
        from prometheus_client.openmetrics.parser import text_string_to_metric_families as om_parse
        parse = om_parse
    else:
        parse = text_string_to_metric_families
    panels: dict[str, list[Series]] = {}
    try:
        for family in parse(text):
            for s in family.samples:
                labels = dict(s.labels)
                panel = labels.get("panel") or labels.get("source") or family.name
                shown = tuple((k, v) for k, v in labels.items() if k not in HIDDEN_LABELS | {"panel"})
                panels.setdefault(panel, []).append(Series(s.name, shown, float(s.value)))
    except Exception as exc:  # noqa: BLE001 - the parser raises ValueError and others on bad bodies
        raise MetricsError(f"/metrics does not parse: {exc}") from None
    return panels
