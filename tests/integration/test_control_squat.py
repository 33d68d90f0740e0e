"""Another local user squats the control socket: a listener of ``nobody`` (a forked child that drops
to that uid) sits where a watch would serve, and answers "paused" to everything. ``migtui ctl``
never takes its word, and a watch never works around it silently."""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path
from typing import Any, Iterator

import pytest

from migtui.control import ControlError, socket_path
from migtui.model import Sample
from migtui.plugins import PluginHost
from migtui.testing import function_sources
from tests.conftest import ctl
from tests.servers.squatter import shared_folder, squat

pytestmark = pytest.mark.skipif(os.geteuid() != 0, reason="needs root to run the squatter as another user")

CONFIG = """
name: squat
interval: 0.2s
sources:
  - {type: counter, name: c}
"""


def _host() -> PluginHost:
    return PluginHost(extra_plugins=[function_sources(counter=lambda ctx, n: [Sample(ctx.now, "c", "n", float(n))])])


@pytest.fixture
def shared() -> Iterator[Path]:
    with shared_folder() as folder:
        yield folder


def test_ctl_refuses_a_control_socket_served_by_another_user(shared: Path, capsys: pytest.CaptureFixture[str]) -> None:
    sock = shared / "watch.sock"
    with squat(sock):
        code, out, err = ctl(capsys, "pause", "--store", str(shared / "watch.duckdb"), "--socket", str(sock))
    assert code == 1 and "paused" not in out, out + err
    assert f"refusing the control socket {sock}" in err and "uid 65534 (nobody)" in err


def test_a_store_in_a_shared_folder_serves_its_socket_where_nobody_else_can(
        shared: Path, xdg_runtime: Path, make_engine: Any, capsys: pytest.CaptureFixture[str]) -> None:
    store = shared / "run.duckdb"
    with squat(Path(f"{store}.sock")):  # squatted before the watch starts, as in the report
        engine = make_engine(CONFIG, store_path=store, host=_host())
        engine.start()
        code, out, err = ctl(capsys, "status", "--store", str(store), "--json")
        assert code == 0, err
        assert json.loads(out)["status"]["run"] == engine.run_id  # the real watch, not the impostor
        sock = socket_path(store)
        assert sock.parent == xdg_runtime / "migtui" and stat.S_IMODE(sock.parent.stat().st_mode) == 0o700
    assert not [e for e in engine.recent_events if e.subject == "control"]


def test_a_squatted_private_folder_is_an_error_naming_it(shared: Path, make_engine: Any,
                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    # another user created the folder migtui would use for its socket (its own XDG_RUNTIME_DIR/migtui)
    monkeypatch.setenv("XDG_RUNTIME_DIR", str(shared))
    squatted = shared / "migtui"
    squatted.mkdir(mode=0o777)
    os.chown(squatted, 65534, 65534)
    with pytest.raises(ControlError, match=f"control socket {squatted}/.*is not a private folder of this user "
                                           r"\(owner uid 65534"):
        make_engine(CONFIG, store_path=shared / "run.duckdb", host=_host())


def test_a_socket_path_already_served_is_an_error_not_a_warning(tmp_path: Path, shared: Path,
                                                                make_engine: Any) -> None:
    sock = tmp_path / "watch.sock"
    with squat(shared / "x.sock"):  # a stranger in a shared folder named by the config
        with pytest.raises(ControlError, match=f"control socket {shared}/x.sock: .* is not a private folder"):
            make_engine(CONFIG + f"control: {{socket: {shared}/x.sock}}\n", store_path=tmp_path / "a.duckdb",
                        host=_host())
    first = make_engine(CONFIG + f"control: {{socket: {sock}}}\n", store_path=tmp_path / "b.duckdb", host=_host())
    with pytest.raises(ControlError, match=f"control socket {sock} is already served by process {os.getpid()} "
                                           r"of uid 0 \(root\)"):
        make_engine(CONFIG + f"control: {{socket: {sock}}}\n", store_path=tmp_path / "c.duckdb", host=_host())
    assert first.parts.control.path == sock
