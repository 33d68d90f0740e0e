"""Config rules a user can trip over: minimum intervals and timeouts, finite numbers, closed ``${...}``,
typed ``params``, an empty config, an HTTP ``timeout: 0``. Every error is one line naming file, line
and key."""

from __future__ import annotations

from pathlib import Path

import pytest

from migtui.api import BuildContext
from migtui.config import load_config
from migtui.errors import ConfigError
from migtui.plugins import PluginHost


def write(tmp_path: Path, text: str) -> Path:
    p = tmp_path / "migtui.yaml"
    p.write_text(text)
    return p


def error_of(tmp_path: Path, text: str, env: dict[str, str] | None = None) -> str:
    p = write(tmp_path, text)
    with pytest.raises(ConfigError) as err:
        load_config(p, env=env)
    return str(err.value)


@pytest.mark.parametrize("value", ["0s", "1ms", "0", "99ms", "0.05"])
def test_an_interval_below_100ms_is_refused(tmp_path: Path, value: str) -> None:
    msg = error_of(tmp_path, f"name: x\ninterval: {value}\n")
    assert msg == f"{tmp_path / 'migtui.yaml'}:2: interval: must be at least 100ms, got {value}"


def test_an_interval_of_100ms_is_fine(tmp_path: Path) -> None:
    assert load_config(write(tmp_path, "interval: 100ms\nsources: [{type: postgres}]\n")).interval == 0.1


@pytest.mark.parametrize("value", [".nan", ".inf", "-.inf", "nan"])
def test_a_threshold_must_be_a_finite_number(tmp_path: Path, value: str) -> None:
    msg = error_of(tmp_path, f"sources: [{{type: postgres}}]\ntriggers:\n  - name: t\n    metric: m\n"
                             f"    threshold: {value}\n    action: warn\n")
    assert msg.startswith(f"{tmp_path / 'migtui.yaml'}:5: triggers[0].threshold: expected a finite number"), msg


@pytest.mark.parametrize("cond", ["outside: [0, .inf]", "above: 1\n    clear: .nan"])
def test_ranges_and_clear_levels_must_be_finite(tmp_path: Path, cond: str) -> None:
    msg = error_of(tmp_path, f"sources: [{{type: postgres}}]\ntriggers:\n  - name: t\n    metric: m\n    {cond}\n"
                             "    action: warn\n")
    assert "migtui.yaml:5: triggers[0]." in msg or "migtui.yaml:6: triggers[0]." in msg, msg
    assert "finite" in msg, msg


@pytest.mark.parametrize("value,bad", [("postgresql://u:${PW@db/x", "${PW@db/x"), ("a ${} b", "${}"),
                                       ("${1X}", "${1X}"), ("x${A:-y", "${A:-y")])
def test_an_unterminated_or_malformed_reference_is_an_error(tmp_path: Path, value: str, bad: str) -> None:
    msg = error_of(tmp_path, f"sources:\n  - type: postgres\n    dsn: '{value}'\nname: '{value}'\n", env={"PW": "x"})
    assert msg.startswith(f"{tmp_path / 'migtui.yaml'}:4: name: unterminated or malformed reference {bad!r}"), msg
    assert "$$" in msg  # says how to write a literal $


def test_closed_references_and_literal_dollars_still_work(tmp_path: Path) -> None:
    cfg = load_config(write(tmp_path, "name: 'a ${A} b ${B:-d} $$5 $x'\nsources: [{type: postgres}]\n"), env={"A": "1"})
    assert cfg.name == "a 1 b d $5 $x"


def test_an_empty_config_names_what_is_missing(tmp_path: Path) -> None:
    for text in ("", "# nothing yet\n", "{}\n"):
        msg = error_of(tmp_path, text)
        assert msg.startswith(f"{tmp_path / 'migtui.yaml'}:1: the config is empty: it needs `sources:`"), msg


def test_watch_refuses_a_config_without_sources(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from migtui.cli import main

    p = write(tmp_path, "name: x\ninterval: 1s\n")
    with pytest.raises(SystemExit) as exc:
        main(["watch", "--config", str(p), "--headless", "--duration", "1s", "--store", str(tmp_path / "s.duckdb")])
    assert exc.value.code == 2
    assert f"{p}:1: sources: no sources: nothing to watch" in capsys.readouterr().err


def _build(tmp_path: Path, text: str) -> None:
    host = PluginHost()
    cfg = load_config(write(tmp_path, text))
    item = cfg["sources"][0]
    plugin_sql = [(plugin, Path(path)) for plugin, path, target in host.sql_dirs if target == "postgres"]
    host.build("source", item, BuildContext(config=cfg, item=item, plugin_sql_dirs=plugin_sql))


def test_an_http_timeout_of_0_is_an_error_not_the_default(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as err:
        _build(tmp_path, "sources:\n  - type: openmetrics\n    url: http://127.0.0.1:9/metrics\n    timeout: 0\n")
    assert str(err.value) == f"{tmp_path / 'migtui.yaml'}:4: sources[0].timeout: must be at least 100ms, got 0"


@pytest.mark.parametrize("params,error", [
    ("{min_seconds: soon}", ":5: sources[0].params.min_seconds: expected an integer, got 'soon'"),
    ("{limit: 2.5}", ":5: sources[0].params.limit: expected an integer, got 2.5"),
    ("{tables: orders}", ":5: sources[0].params.tables: expected a list of text"),
    ("{limt: 10}", ":5: sources[0].params.limt: no catalog query declares this parameter (did you mean 'limit'?)"),
])
def test_params_are_typed_and_checked_when_the_source_is_built(tmp_path: Path, params: str, error: str) -> None:
    with pytest.raises(ConfigError) as err:
        _build(tmp_path, f"sources:\n  - type: postgres\n    name: db\n    params:\n      {params[1:-1]}\n")
    assert str(err.value).startswith(f"{tmp_path / 'migtui.yaml'}{error}"), str(err.value)


def test_good_params_are_converted_to_their_type(tmp_path: Path) -> None:
    _build(tmp_path, "sources:\n  - type: postgres\n    params: {min_seconds: '30', limit: 20, tables: [orders]}\n")
