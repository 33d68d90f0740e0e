"""How ``migtui lint`` results are printed: text (through safetext), JSON lines, SARIF 2.1.0; and
which findings count towards ``--fail-on``. The analysis itself comes from a plugin
(``migtui_sql_linters``); this module knows only the result shape (docs/lint.md)."""

from __future__ import annotations

from typing import Any, Iterator

from migtui.safetext import one_line

SEVERITY = {"warn": 1, "error": 2}
SARIF_LEVEL = {"warn": "warning", "error": "error"}
SARIF_SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"


def active(result: dict[str, Any]) -> Iterator[dict[str, Any]]:
    """Every finding not silenced by ``-- migtui:ignore``, parse errors included (severity error)."""
    for st in result["statements"]:
        yield from (f for f in st["findings"] if not f.get("ignored"))
    for e in result["errors"]:
        yield {"rule": e.get("rule", "parse-error"), "severity": "error"}


def fails(result: dict[str, Any], fail_on: str) -> bool:
    if fail_on == "never":
        return False
    return any(SEVERITY.get(f["severity"], 2) >= SEVERITY[fail_on] for f in active(result))


def text_lines(result: dict[str, Any]) -> Iterator[str]:
    for st in result["statements"]:
        if not st["locks"] and not st["findings"]:
            continue
        yield f"{st['file']}:{st['line']}  {one_line(st['sql'], 110)}"
        locks = ", ".join(f"{lk['relation']} {lk['mode']}" for lk in st["locks"]) or "none"
        rewrites = {True: "yes", False: "no", None: "may rewrite"}[st["rewrites"]]
        scans = {True: "yes", False: "no", None: "may scan"}[st["scans"]]
        yield f"    locks: {locks} | rewrites: {rewrites} | scans: {scans}"
        for f in st["findings"]:
            if f.get("ignored"):
                yield f"    ignored {f['rule']} ({f.get('reason') or 'no reason given'})"
                continue
            yield f"    {f['severity'].upper():5} {f['rule']}: {f['message']}"
            yield f"          fix: {f['fix']}"
        live = st.get("live")
        if live:
            yield f"    live ({live['risk']} risk): {live['message'] or 'no strong lock'}"
            for rel in live["relations"]:
                for b in rel["blockers"]:
                    yield (f"      blocker pid {b['pid']} {b['state'] or '-'} xact {b['xact_age_s']}s "
                           f"holds {b['modes']} on {rel['relation']}: {one_line(b['query'], 80)}")
    for e in result["errors"]:
        yield f"{e['file']}:{e['line']}  ERROR {e.get('rule', 'parse-error')}: {e['message']}"
    counts = {"error": 0, "warn": 0}
    for f in active(result):
        counts[f["severity"]] = counts.get(f["severity"], 0) + 1
    ignored = sum(1 for st in result["statements"] for f in st["findings"] if f.get("ignored"))
    yield (f"lint: {len(result['statements'])} statements, {counts['error']} errors, {counts['warn']} warnings, "
           f"{ignored} ignored (server version {result['server_version']})")


def sarif(result: dict[str, Any], rules: dict[str, Any]) -> dict[str, Any]:
    """SARIF 2.1.0: one run, the rules that fired as ``tool.driver.rules``, one result per finding
    (ignored ones carry a ``suppressions`` entry with the reason)."""
    results = []
    used: dict[str, dict[str, Any]] = {}

    def add(rule: str, severity: str, message: str, file: str, line: int, suppression: str | None) -> None:
        info = rules.get(rule, {})
        used.setdefault(rule, {"id": rule, "shortDescription": {"text": info.get("what", rule)},
                               "help": {"text": info.get("fix", "")},
                               "defaultConfiguration": {"level": SARIF_LEVEL.get(info.get("severity", severity), "error")}})
        item: dict[str, Any] = {"ruleId": rule, "level": SARIF_LEVEL.get(severity, "error"), "message": {"text": message},
                                "locations": [{"physicalLocation": {"artifactLocation": {"uri": file},
                                                                    "region": {"startLine": max(1, line)}}}]}
        if suppression is not None:
            item["suppressions"] = [{"kind": "inSource", "justification": suppression}]
        results.append(item)

    for st in result["statements"]:
        for f in st["findings"]:
            msg = f["message"] + (f" Fix: {f['fix']}" if f.get("fix") else "")
            if st.get("live"):
                msg += f" Live: {st['live']['message']}"
            add(f["rule"], f["severity"], msg, st["file"], st["line"], f.get("reason", "") if f.get("ignored") else None)
    for e in result["errors"]:
        add(e.get("rule", "parse-error"), "error", e["message"], e["file"], e["line"], None)
    return {"$schema": SARIF_SCHEMA, "version": "2.1.0",
            "runs": [{"tool": {"driver": {"name": "migtui lint", "rules": list(used.values())}},
                      "results": results}]}
