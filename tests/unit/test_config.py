"""The config loader: one clear error naming file, line and key path; env interpolation; secrets."""

from __future__ import annotations

from pathlib import Path

import pytest

from migtui.config import load_config, parse_duration
from migtui.errors import ConfigError
from migtui.redact import redact


def write(tmp_path: Path, text: str) -> Path:
    p = tmp_path / "migtui.yaml"
    p.write_text(text)
    return p


def test_unknown_key_names_file_line_and_suggests(tmp_path: Path) -> None:
    p = write(tmp_path, "name: x\nintervall: 2s\n")
    with pytest.raises(ConfigError) as err:
        load_config(p)
    msg = str(err.value)
    assert msg.startswith(f"{p}:2: intervall: unknown key (did you mean 'interval'?)")


def test_bad_value_names_key_path(tmp_path: Path) -> None:
    p = write(tmp_path, "interval: soon\n")
    with pytest.raises(ConfigError, match=r"migtui.yaml:1: interval: expected a duration"):
        load_config(p)


def test_yaml_syntax_error_has_line(tmp_path: Path) -> None:
    p = write(tmp_path, "name: x\nsources:\n  - type: postgres\n   name: bad\n")
    with pytest.raises(ConfigError, match=r"migtui.yaml:4: invalid YAML"):
        load_config(p)


def test_duplicate_key_is_an_error(tmp_path: Path) -> None:
    p = write(tmp_path, "name: a\nname: b\n")
    with pytest.raises(ConfigError, match=r":2: duplicate key 'name'"):
        load_config(p)


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="config file not found"):
        load_config(tmp_path / "nope.yaml")


def test_env_interpolation_and_default(tmp_path: Path) -> None:
    p = write(tmp_path, "name: ${RUN_NAME:-fallback}\nstore: ${STORE_DIR}/x.duckdb\n")
    cfg = load_config(p, env={"STORE_DIR": "/data"})
    assert cfg.name == "fallback"
    assert cfg["store"] == "/data/x.duckdb"


def test_missing_env_var_is_named(tmp_path: Path) -> None:
    p = write(tmp_path, "name: run\nstore: ${NOT_SET_ANYWHERE}\n")
    with pytest.raises(ConfigError, match=r":2: store: environment variable NOT_SET_ANYWHERE is not set"):
        load_config(p, env={})


def test_sources_need_type_and_unique_names(tmp_path: Path) -> None:
    p = write(tmp_path, "sources:\n  - name: a\n")
    with pytest.raises(ConfigError, match=r"sources\[0\]\.type: is required"):
        load_config(p)
    p = write(tmp_path, "sources:\n  - {type: postgres, name: a}\n  - {type: postgres, name: a}\n")
    with pytest.raises(ConfigError, match=r":3: sources\[1\]\.name: duplicate name 'a'"):
        load_config(p)


def test_actions_verbs_are_checked(tmp_path: Path) -> None:
    p = write(tmp_path, "actions:\n  puase:\n    - {type: shell}\n")
    with pytest.raises(ConfigError, match=r"actions.puase: unknown action \(did you mean 'pause'\?\)"):
        load_config(p)


def test_snapshot_masks_secrets(tmp_path: Path) -> None:
    p = write(tmp_path, "sources:\n  - type: postgres\n    name: db\n    dsn: ${DSN}\n")
    cfg = load_config(p, env={"DSN": "postgresql://app:s3cr3t-pw@db:5432/shop"})
    # the postgres plugin registers the DSN's password when it validates its options
    from migtui.api import BuildContext
    from migtui.plugins import PluginHost

    host = PluginHost()
    item = cfg["sources"][0]
    collector = host.build("source", item, BuildContext(config=cfg, item=item))
    collector.close()
    assert "s3cr3t-pw" not in str(cfg.snapshot())
    assert "s3cr3t-pw" not in redact("connection to postgresql://app:s3cr3t-pw@db failed")
    assert "s3cr3t-pw" not in redact("password authentication failed, password=s3cr3t-pw")


def test_unknown_source_type_suggests(tmp_path: Path) -> None:
    from migtui.api import BuildContext
    from migtui.plugins import PluginHost

    p = write(tmp_path, "sources:\n  - type: postgress\n    name: db\n")
    cfg = load_config(p)
    item = cfg["sources"][0]
    with pytest.raises(ConfigError, match=r":2: sources\[0\]\.type: unknown source type 'postgress' "
                                          r"\(did you mean 'postgres'\?\)"):
        PluginHost().build("source", item, BuildContext(config=cfg, item=item))


def test_plugin_options_are_validated_with_position(tmp_path: Path) -> None:
    from migtui.api import BuildContext
    from migtui.plugins import PluginHost

    p = write(tmp_path, "sources:\n  - type: postgres\n    name: db\n    statment_timeout: 1s\n")
    cfg = load_config(p)
    item = cfg["sources"][0]
    with pytest.raises(ConfigError, match=r":4: sources\[0\]\.statment_timeout: unknown key "
                                          r"\(did you mean 'statement_timeout'\?\)"):
        PluginHost().build("source", item, BuildContext(config=cfg, item=item))


@pytest.mark.parametrize("text,seconds", [("30", 30.0), ("250ms", 0.25), ("5m", 300.0), ("1.5h", 5400.0), (2, 2.0)])
def test_durations(text: object, seconds: float) -> None:
    assert parse_duration(text) == seconds


def test_bad_duration() -> None:
    with pytest.raises(ValueError):
        parse_duration("five minutes")


def test_cockpit_and_control_socket_keys_are_checked(tmp_path: Path) -> None:
    """A misspelt ``control`` or ``ui`` key is an error, not an option silently ignored."""
    p = write(tmp_path, "name: x\ncontrol:\n  enabeld: false\n")
    with pytest.raises(ConfigError, match=r"migtui.yaml:3: control.enabeld: unknown key \(did you mean 'enabled'\?\)"):
        load_config(p)
    p = write(tmp_path, "ui:\n  key_map: {pause: P}\n")
    with pytest.raises(ConfigError, match=r"migtui.yaml:2: ui.key_map: unknown key \(did you mean 'keymap'\?\)"):
        load_config(p)
    cfg = load_config(write(tmp_path, "ui: {keymap: {pause: P}}\ncontrol: {socket: run.sock}\n"))
    assert cfg["ui"]["keymap"] == {"pause": "P"} and cfg["control"] == {"enabled": True, "socket": "run.sock"}


def test_alerting_keys_are_checked_when_the_config_loads(tmp_path: Path) -> None:
    p = write(tmp_path, "alerting:\n  repeat_intervall: 1h\n")
    with pytest.raises(ConfigError, match=r"migtui.yaml:2: alerting.repeat_intervall: unknown key \(did you mean 'repeat_interval'\?\)"):
        load_config(p)
    assert load_config(write(tmp_path, "alerting: {repeat_interval: 2h}\n"))["alerting"]["repeat_interval"] == 7200.0


def test_a_config_without_alerting_has_its_defaults(tmp_path: Path) -> None:
    """Checked once, at load: a config with no ``alerting:`` section carries the documented defaults
    (the alert dispatcher, ``alert test`` and preflight read them from there, not from the raw file)."""
    assert load_config(write(tmp_path, "interval: 1s\n"))["alerting"] == {
        "group_wait": 0.0, "group_interval": 30.0, "repeat_interval": 3600.0, "resolve_wait": 60.0, "timeout": 60.0,
        "key_prefix": None}
