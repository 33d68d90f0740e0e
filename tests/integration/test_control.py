"""`migtui ctl` drives a real running engine over its Unix control socket."""

from __future__ import annotations

import json
import os
import socket
import stat
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from migtui.control import socket_path
from migtui.store import Store
from tests.conftest import ctl


def _config(tmp_path: Path) -> str:
    (tmp_path / "act.py").write_text(
        "import os, sys\n"
        "with open(sys.argv[1], 'a') as f:\n"
        "    f.write(os.environ['MIGTUI_VERB'] + ' by ' + os.environ['MIGTUI_WHO'] + '\\n')\n"
        "print(os.environ['MIGTUI_VERB'], 'done')\n")
    log = tmp_path / "actions.log"
    return f"""
    interval: 0.2
    actions:
      pause:
        - {{type: shell, name: stop-workers, command: ["{sys.executable}", act.py, "{log}"]}}
      resume:
        - {{type: shell, name: start-workers, command: ["{sys.executable}", act.py, "{log}"]}}
      rollback:
        - {{type: shell, name: downgrade, command: ["{sys.executable}", act.py, "{log}"]}}
    """


def test_ctl_drives_a_running_watch(make_engine: Any, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    store = tmp_path / "watch.duckdb"
    engine = make_engine(_config(tmp_path), store_path=store)
    engine.start()
    sock = Path(f"{store}.sock")
    assert socket_path(store) == sock
    st = sock.stat()
    assert stat.S_ISSOCK(st.st_mode) and stat.S_IMODE(st.st_mode) == 0o600 and st.st_uid == os.getuid()
    who = f"ctl:{os.getuid()}"
    log = tmp_path / "actions.log"

    code, out, _ = ctl(capsys, "status", "--store", str(store), "--json")
    assert code == 0
    status = json.loads(out)["status"]
    assert status["run"] == engine.run_id and status["phase"] == "baseline" and status["paused"] is False
    assert "downgrade" in status["actions"]["rollback"][0]

    code, out, _ = ctl(capsys, "status", "--store", str(store))
    assert code == 0 and f"run {engine.run_id}" in out and "paused: no" in out

    code, out, err = ctl(capsys, "pause", "--store", str(store), "--why", "replica lag")
    assert code == 0, err
    assert "ok: " in out and "pause done" in out
    assert log.read_text() == f"pause by {who}\n"
    code, out, _ = ctl(capsys, "--store", str(store), "--json", "status")
    assert json.loads(out)["status"]["paused"] is True

    # rollback needs --yes: the plan is shown, nothing runs
    code, out, err = ctl(capsys, "rollback", "--store", str(store))
    assert code == 1
    assert "needs --yes" in err and "downgrade" in err
    assert "rollback" not in log.read_text()
    code, out, err = ctl(capsys, "rollback", "--yes", "--store", str(store))
    assert code == 0, err
    assert log.read_text().splitlines()[-1] == f"rollback by {who}"

    code, out, err = ctl(capsys, "resume", "--store", str(store))
    assert code == 0, err
    code, out, err = ctl(capsys, "mark", "migration", "--store", str(store))
    assert code == 0 and "phase: migration" in out
    assert engine.phase.value == "migration"
    code, _, err = ctl(capsys, "note", "starting", "step", "2", "--store", str(store))
    assert code == 0, err
    code, _, err = ctl(capsys, "mark", "sideways", "--store", str(store))
    assert code == 2 and "sideways" in err

    # the same from another process, the way a script would
    proc = subprocess.run([sys.executable, "-m", "migtui", "ctl", "status", "--json", "--store", str(store)],
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)["status"]["phase"] == "migration"

    run_id = engine.run_id
    engine.close()
    assert not sock.exists()
    code, _, err = ctl(capsys, "status", "--store", str(store))
    assert code == 1 and "no running watch on" in err and str(store) in err

    with _ro(store) as ro:
        events = ro.events(run_id)
    actions = [e for e in events if e.kind == "action" and e.data.get("stage") == "result"]
    assert [(e.subject, e.data["action"], e.data["who"], e.data["ok"]) for e in actions] == [
        ("pause", "stop-workers", who, True), ("rollback", "downgrade", who, True),
        ("resume", "start-workers", who, True)]
    assert actions[0].data["why"] == "replica lag"
    [phase] = [e for e in events if e.kind == "phase"]
    assert phase.data["who"] == who and phase.data["to"] == "migration"
    [note] = [e for e in events if e.kind == "note"]
    assert note.message == "starting step 2" and note.data["who"] == who


class _ro:
    def __init__(self, path: Path) -> None:
        self.store = Store.open(path, read_only=True)

    def __enter__(self) -> Store:
        return self.store

    def __exit__(self, *exc: Any) -> None:
        self.store.close()


def test_no_watch_and_stale_socket_are_clear_errors(make_engine: Any, tmp_path: Path,
                                                    capsys: pytest.CaptureFixture[str]) -> None:
    store = tmp_path / "nothing.duckdb"
    code, _, err = ctl(capsys, "pause", "--store", str(store))
    assert code == 1 and "no running watch on" in err and "Traceback" not in err

    # a socket file left by a watch that was killed: ctl says so, and the next watch takes over
    stale = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    stale.bind(f"{store}.sock")
    stale.close()
    code, _, err = ctl(capsys, "status", "--store", str(store))
    assert code == 1 and "stale control socket" in err
    engine = make_engine(_config(tmp_path), store_path=store)
    engine.start()
    code, out, err = ctl(capsys, "status", "--store", str(store), "--json")
    assert code == 0, err
    assert json.loads(out)["status"]["run"] == engine.run_id


def test_raw_protocol_and_long_store_paths(make_engine: Any, tmp_path: Path,
                                           capsys: pytest.CaptureFixture[str]) -> None:
    deep = tmp_path / ("d" * 60) / ("e" * 60)
    store = deep / "store.duckdb"
    engine = make_engine(_config(tmp_path), store_path=store)
    engine.start()
    sock = socket_path(store)
    assert sock != Path(f"{store}.sock") and sock.exists()
    assert stat.S_IMODE(sock.stat().st_mode) == 0o600
    assert stat.S_IMODE(sock.parent.stat().st_mode) & 0o077 == 0
    code, out, err = ctl(capsys, "status", "--json", "--store", str(store))
    assert code == 0, err

    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
        s.settimeout(30)
        s.connect(str(sock))
        f = s.makefile("rwb")
        for line in (b"not json\n", b'{"cmd": "dance"}\n', b'{"cmd": "note", "text": "raw"}\n',
                     b'{"cmd": "rollback"}\n'):
            f.write(line)
            f.flush()
        answers = [json.loads(f.readline()) for _ in range(4)]
    assert answers[0] == {"ok": False, "error": "not a JSON object on one line"}
    assert answers[1]["ok"] is False and "unknown command 'dance'" in answers[1]["error"]
    assert answers[2] == {"ok": True}
    assert answers[3]["needs_confirmation"] is True and answers[3]["plan"]
    assert not (tmp_path / "actions.log").exists()


def test_ctl_finds_the_watch_through_its_config(make_engine: Any, tmp_path: Path,
                                                capsys: pytest.CaptureFixture[str]) -> None:
    config = _config(tmp_path) + """
    store: run.duckdb
    control: {socket: watch.sock}
    """
    engine = make_engine(config, store_path=tmp_path / "run.duckdb")
    engine.start()
    assert stat.S_ISSOCK((tmp_path / "watch.sock").stat().st_mode)
    config_file = next(tmp_path.glob("config*.yaml"))
    code, out, err = ctl(capsys, "status", "--json", "--config", str(config_file))
    assert code == 0, err
    assert json.loads(out)["status"]["run"] == engine.run_id
    code, out, err = ctl(capsys, "mark", "post", "-c", str(config_file))
    assert code == 0 and engine.phase.value == "post"


def _watch_with_a_pause_that_prints(make_engine: Any, tmp_path: Path, words: str) -> Path:
    """A running watch whose pause action is a program printing ``words`` (a Python string literal's
    body); returns its store path."""
    (tmp_path / "evil.py").write_text(f"print('{words}')\n")
    store = tmp_path / "evil.duckdb"
    make_engine(f"""
    interval: 0.2
    actions:
      pause:
        - {{type: shell, name: evil, command: ["{sys.executable}", "{tmp_path / 'evil.py'}"]}}
    """, store_path=store).start()
    return store


def test_ctl_shows_outside_text_visibly(make_engine: Any, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """An action's output (a program's words) reaches `migtui ctl` as text: its escapes are shown, not sent."""
    store = _watch_with_a_pause_that_prints(make_engine, tmp_path, "\\x1b]2;PWNED\\x07\\x1b[2J done")
    code, out, err = ctl(capsys, "pause", "--store", str(store))
    assert code == 0, err
    assert "\x1b" not in out + err and "\\x1b]2;PWNED\\x07\\x1b[2J done" in out, out


def test_ctl_status_json_escapes_what_a_terminal_would_act_on(make_engine: Any, tmp_path: Path,
                                                              capsys: pytest.CaptureFixture[str]) -> None:
    """`ctl status --json` printed by `cat`: an action's output (a program's words, kept as they were in
    the event's data) holding a C1 CSI (U+009B) and a bidi override (U+202E) comes out as \\u escapes,
    the same text for a JSON reader, and other text (``größe``) stays readable UTF-8."""
    store = _watch_with_a_pause_that_prints(make_engine, tmp_path, "\\u009b2J \\u202eevil größe done")
    assert ctl(capsys, "pause", "--store", str(store))[0] == 0
    code, out, err = ctl(capsys, "status", "--store", str(store), "--json")
    assert code == 0, err
    for raw in ("\u202e", "\u009b", "\x1b"):
        assert raw not in out, (raw, out)
    assert "\\u009b2J \\u202eevil größe done" in out, out
    events = json.loads(out)["status"]["recent_events"]
    assert "\u009b2J \u202eevil größe done\n" in _strings(events), events


def _strings(obj: Any) -> list[str]:
    if isinstance(obj, dict):
        return [s for v in obj.values() for s in _strings(v)]
    if isinstance(obj, list):
        return [s for v in obj for s in _strings(v)]
    return [obj] if isinstance(obj, str) else []
