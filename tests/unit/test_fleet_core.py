"""The fleet view's core without a terminal: the targets file (YAML or text, one clear error with
file and line) and /status read tolerantly (missing or mistyped fields are '-', never a crash)."""

from __future__ import annotations

from pathlib import Path

import pytest

from migtui.errors import ConfigError
from migtui.fleet.poller import TargetState
from migtui.fleet.rows import arrange, row_of
from migtui.fleet.status import parse_status
from migtui.fleet.targets import Target, load_targets


def test_targets_yaml_and_text(tmp_path: Path) -> None:
    y = tmp_path / "fleet.yaml"
    y.write_text("token_env: FLEET_TOKEN\ntargets:\n  - url: http://10.0.0.7:9465/status\n    name: t7\n"
                 "  - http://10.0.0.8:9465/status\n")
    t7, t8 = load_targets(y)
    assert (t7.name, t7.metrics_url, t7.token_env) == ("t7", "http://10.0.0.7:9465/metrics", "FLEET_TOKEN")
    assert t8.name == "10.0.0.8:9465"
    assert t7.headers({"FLEET_TOKEN": "s3cret"}) == {"Authorization": "Bearer s3cret"}
    txt = tmp_path / "fleet.txt"
    txt.write_text("# tenants\nhttp://a:1/status\nb http://b:2/x/status  # second\n")
    assert [(t.name, t.metrics_url) for t in load_targets(txt)] == [("a:1", "http://a:1/metrics"),
                                                                    ("b", "http://b:2/x/metrics")]


@pytest.mark.parametrize("text, line, words", [
    ("targets:\n  - url: http://a/status\n  - url: ftp://b/status\n", 3, "not an http(s) URL"),
    ("targets:\n  - url: http://a/status\n    nmae: x\n", 3, "unknown key 'nmae'"),
    ("http://a/status\nb c http://d/status\n", 2, "expected 'URL' or 'NAME URL'"),
    ("targets:\n  - {url: http://a/status, name: x}\n  - {url: http://b/status, name: x}\n", None, "two targets"),
])
def test_targets_errors_name_file_and_line(tmp_path: Path, text: str, line: int | None, words: str) -> None:
    f = tmp_path / "fleet.yaml"
    f.write_text(text)
    with pytest.raises(ConfigError) as exc:
        load_targets(f)
    assert words in str(exc.value) and str(f) in str(exc.value)
    if line:
        assert exc.value.line == line


@pytest.mark.parametrize("doc", [None, [], 3, "x", {"phase": {"nested": 1}, "progress": "half", "throttle": 7,
                                                      "triggers": "lots", "verdict": 5, "lag_seconds": "nan"}])
def test_status_tolerates_anything(doc: object) -> None:
    row = row_of(TargetState(Target("t", "http://t/status", "http://t/metrics"), parse_status(doc), None, 1.0), 2.0)
    assert row.cells[0] == "t" and row.cells[2] == "-" and row.cells[7] == "-"


def test_status_shape_and_frame_fallbacks() -> None:
    s = parse_status({"phase": "migration", "verdict": "PAUSE", "throttle": True,
                      "trigger_states": [{"name": "a", "state": "pending"}, {"name": "b", "state": "firing",
                                                                              "value": 9, "threshold": 5}],
                      "components": {"migration": {"progress": {"percent": 12.5, "eta_seconds": 90}}},
                      "sources": [{"name": "db", "state": "error"}]})
    assert (s.verdict, s.throttled, s.percent, s.eta_seconds, s.sources_down) == ("pause", True, 12.5, 90.0, ("db",))
    assert s.worst_trigger is not None and s.worst_trigger.name == "b" and s.triggers_firing == 1


def test_arrange_sorts_worst_first_and_filters() -> None:
    def st(name: str, verdict: str | None, error: str | None = None) -> TargetState:
        return TargetState(Target(name, f"http://{name}/status", f"http://{name}/metrics"),
                           parse_status({"verdict": verdict}), error, 1.0)
    rows = [row_of(st("a", "ok")), row_of(st("b", "rollback")), row_of(st("c", "warn")),
            row_of(st("d", "ok", "timeout after 1.5s"))]
    assert [r.key for r in arrange(rows)] == ["d", "b", "c", "a"]
    assert [r.key for r in arrange(rows, "database", reverse=True)] == ["d", "c", "b", "a"]
    assert [r.key for r in arrange(rows, text="TIMEOUT")] == ["d"]
    assert [r.key for r in arrange(rows, problems_only=True)] == ["d", "b", "c"]


def test_a_watch_without_its_first_frame_says_so() -> None:
    from migtui.fleet.poller import FleetPoller
    from tests.conftest import wait_until
    from tests.servers.fleet_watch import StandInWatch

    with StandInWatch("new") as watch:
        watch.code = 503
        watch.status = {"verdict": "inconclusive", "error": "the watch has not published a frame yet"}
        poller = FleetPoller([Target("new", watch.url, watch.url)], interval=0.2, timeout=2.0)
        poller.start()
        try:
            st = wait_until(lambda: poller.snapshot()[1]["new"].error, "the 503 to be read")
        finally:
            poller.stop()
    assert st == "HTTP 503: the watch has not published a frame yet"
    assert row_of(poller.snapshot()[1]["new"]).verdict == "unreachable"


def test_targets_change_while_polling() -> None:
    """A rollout as the poller sees it: a new watch's row appears and is read, a gone one's row
    leaves, and a database whose watch moved to another address is read at the new one."""
    from migtui.fleet.poller import FleetPoller
    from migtui.fleet.targets import metrics_url_for
    from tests.conftest import wait_until
    from tests.servers.fleet_watch import StandInWatch

    def target(name: str, w: StandInWatch) -> Target:
        return Target(name, w.url, metrics_url_for(w.url))

    with StandInWatch("a", phase="baseline") as a, StandInWatch("b", phase="migration") as b, \
            StandInWatch("b2", phase="verify") as b2:
        poller = FleetPoller([target("a", a)], interval=0.2, timeout=2.0)
        poller.start()
        try:
            def phases() -> dict[str, str | None]:
                return {k: st.status.phase if st.status else None for k, st in poller.snapshot()[1].items()}

            wait_until(lambda: phases() == {"a": "baseline"}, "a to be read")
            poller.set_targets([target("a", a), target("b", b)])
            assert set(phases()) == {"a", "b"}  # b's row is there at once, waiting
            wait_until(lambda: phases() == {"a": "baseline", "b": "migration"}, "the new target b to be read")
            poller.set_targets([target("b", b)])
            assert set(phases()) == {"b"}
            poller.set_targets([target("b", b2)])
            wait_until(lambda: phases() == {"b": "verify"}, "b to be read at its new address")
            assert [t.url for t in poller.targets] == [b2.url]
            version = poller.snapshot()[0]
            wait_until(lambda: poller.snapshot()[0] > version + 3, "a few more polls")
            assert phases() == {"b": "verify"}  # a late answer of a dropped target never brings it back
        finally:
            poller.stop()


def test_a_fleet_read_error_is_one_redacted_line(tmp_path: Path) -> None:
    """A runs file the object store cannot read names the file in one line, with known secrets
    redacted (here a token that ended up in a run folder's name)."""
    from migtui.fleet.lake import read_tables
    from migtui.fleet.objectstore import ObjectStoreError, open_location
    from migtui.redact import register_secret

    folder = tmp_path / "database=db1" / "run=tok-s3cr3t-value"
    folder.mkdir(parents=True)
    (folder / "runs.parquet").write_bytes(b"not parquet")
    register_secret("tok-s3cr3t-value")
    with pytest.raises(ObjectStoreError) as caught:
        read_tables(open_location(str(tmp_path)), {"runs": None})
    message = str(caught.value)
    assert "cannot read the runs files" in message and "runs.parquet" in message and "\n" not in message
    assert "tok-s3cr3t-value" not in message
