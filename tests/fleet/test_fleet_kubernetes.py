"""``migtui fleet watch --selector``: the watch pods a Kubernetes label selector picks, read with the
real kubernetes client from the loopback API server (tests/servers/k8s_api.py), each pod's IP and
port a real /status server on 127.0.0.1. A rollout as the view sees it (new pods appear, deleted
ones leave, two pods of one database told apart), and an API server that refuses, stalls or dies
is a line of the view while the rows keep updating."""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Any, Iterator

import pytest

from migtui.errors import ConfigError
from migtui.fleet.discovery import FleetDiscovery, build_finders, finder_line
from migtui.fleet.poller import FleetPoller
from migtui.fleet.targets import Finder, load_targets_file
from tests.conftest import migtui_cmd, wait_until
from tests.servers import k8s_api as k
from tests.servers.fleet_watch import StandInWatch

SELECTOR = "app.kubernetes.io/name=migtui,app.kubernetes.io/component=migration-watch"


@pytest.fixture
def api() -> Iterator[k.FakeKubeAPI]:
    with k.FakeKubeAPI() as srv:
        yield srv
        srv.stalled(False)


def finder(kubeconfig: Path, **over: Any) -> Finder:
    return Finder("kubernetes", {"selector": SELECTOR, "kubeconfig": str(kubeconfig), "context": "fake",
                                 "request_timeout": "1s", **over}, "--selector", None, 0.2)


def phases(poller: FleetPoller) -> dict[str, str | None]:
    return {name: st.status.phase if st.status else None for name, st in poller.snapshot()[1].items()}


def test_a_rollout_of_watch_pods(api: k.FakeKubeAPI, tmp_path: Path) -> None:
    kc = api.kubeconfig(tmp_path)
    with StandInWatch("orders", phase="migration") as orders, StandInWatch("billing", phase="baseline") as billing, \
            StandInWatch("users-old", phase="verify") as users_old, StandInWatch("users", phase="baseline") as users, \
            StandInWatch("orders-2", phase="migration") as orders2:
        api.add(k.watch_pod("migtui-watch-orders-db-7xk2p", "orders-db", orders.server.port),
                k.watch_pod("migtui-watch-billing-db-9qz4m", "billing-db", billing.server.port),
                k.watch_pod("migtui-watch-users-db-old", "users-db", users_old.server.port, deleting=True),
                k.watch_pod("migtui-watch-users-db-new", "users-db", users.server.port, phase="Pending"),
                k.watch_pod("someone-else", None, 1, ns="other"))
        poller = FleetPoller([], interval=0.2, timeout=1.0)
        discovery = FleetDiscovery(poller, [], build_finders([finder(kc)]))
        poller.start()
        discovery.start()
        try:
            wait_until(lambda: phases(poller) == {"orders-db": "migration", "billing-db": "baseline"},
                       "the two running watch pods to be read")
            line = finder_line(discovery.snapshot()[1][0])
            assert line.startswith(f"kubernetes pods {SELECTOR} in shop: 2 watches, 2 left out (")
            assert "migtui-watch-users-db-old: being deleted" in line and "migtui-watch-users-db-new: Pending" in line
            assert poller.snapshot()[1]["orders-db"].target.url == f"http://127.0.0.1:{orders.server.port}/status"

            # the rollout goes on: the old users pod is gone, the new one runs; billing's Job ended
            api.delete("Pod", "migtui-watch-users-db-old")
            api.add(k.watch_pod("migtui-watch-users-db-new", "users-db", users.server.port))
            api.delete("Pod", "migtui-watch-billing-db-9qz4m")
            wait_until(lambda: phases(poller) == {"orders-db": "migration", "users-db": "baseline"},
                       "users-db to appear and billing-db to leave")

            # a second watch of one database: both rows, told apart by pod
            api.add(k.watch_pod("migtui-watch-orders-db-2nd", "orders-db", orders2.server.port))
            orders2.status["phase"] = "cutover"
            wait_until(lambda: phases(poller) == {"orders-db (migtui-watch-orders-db-7xk2p)": "migration",
                                                  "orders-db (migtui-watch-orders-db-2nd)": "cutover",
                                                  "users-db": "baseline"}, "two rows for orders-db")
        finally:
            discovery.stop()
            poller.stop()


def test_an_api_server_that_refuses_or_stalls_is_a_line_and_the_rows_go_on(api: k.FakeKubeAPI,
                                                                          tmp_path: Path) -> None:
    kc = api.kubeconfig(tmp_path)
    with StandInWatch("orders", phase="migration") as orders:
        api.add(k.watch_pod("migtui-watch-orders-db-7xk2p", "orders-db", orders.server.port))
        poller = FleetPoller([], interval=0.2, timeout=1.0)
        discovery = FleetDiscovery(poller, [], build_finders([finder(kc)]))
        poller.start()
        discovery.start()
        try:
            wait_until(lambda: phases(poller) == {"orders-db": "migration"}, "the watch pod to be read")

            api.forbid("list", "pods")  # the Role of deploy/kubernetes/fleet is missing
            st = wait_until(lambda: discovery.snapshot()[1][0] if discovery.snapshot()[1][0].error else None,
                            "the 403 to be read")
            assert st.error.startswith('RBAC: list pods in namespace "shop" refused (403 Forbidden): pods is forbidden')
            assert "· keeping 1 watch listed " in finder_line(st)  # its age moves with the clock
            api.forbidden.clear()
            wait_until(lambda: discovery.snapshot()[1][0].error is None, "the list to work again")

            api.stalled(True)  # the API server stops answering: every list times out after request_timeout
            lists = discovery.snapshot()[1][0].lists
            st = wait_until(lambda: discovery.snapshot()[1][0] if discovery.snapshot()[1][0].lists > lists
                            and discovery.snapshot()[1][0].error else None, "the stalled list to time out")
            assert st.error == ('Kubernetes: list pods in namespace "shop": cannot reach the API server: '
                                'Read timed out. (read timeout=1.0)')
            orders.status["phase"] = "verify"  # the row still follows its watch meanwhile
            wait_until(lambda: phases(poller) == {"orders-db": "verify"}, "the row to update while the API is down")
            # neither snapshot waits on the stalled list: both are read while one is under way
            wait_until(lambda: discovery.snapshot()[1][0].listing_since is not None
                       and "orders-db" in poller.snapshot()[1], "snapshots taken while a list is stalled")
        finally:
            api.stalled(False)
            discovery.stop()
            poller.stop()


def test_targets_file_finder_entry_and_its_errors(api: k.FakeKubeAPI, tmp_path: Path) -> None:
    kc = api.kubeconfig(tmp_path)
    f = tmp_path / "fleet.yaml"
    f.write_text(f"targets:\n  - http://10.0.0.8:9465/status\n  - kubernetes:\n      selector: {SELECTOR}\n"
                 f"      kubeconfig: {kc}\n      context: fake\n      port: 9187\n    token_env: WATCH_TOKEN\n"
                 "    relist: 30s\n")
    found = load_targets_file(f)
    assert [t.name for t in found.targets] == ["10.0.0.8:9465"]
    (fd,) = found.finders
    assert (fd.kind, fd.token_env, fd.relist, fd.line) == ("kubernetes", "WATCH_TOKEN", 30.0, 3)
    ((_, built),) = build_finders(found.finders)
    api.add(k.watch_pod("migtui-watch-orders-db-7xk2p", "orders-db", 8080))
    assert built.find() == ([{"name": "orders-db", "url": "http://127.0.0.1:9187/status",
                              "instance": "migtui-watch-orders-db-7xk2p"}], [])

    f.write_text("targets:\n  - kubernetes:\n      selectr: app=x\n")
    with pytest.raises(ConfigError) as exc:
        build_finders(load_targets_file(f).finders)
    assert (exc.value.line, "unknown key (did you mean 'selector'?)") == (3, str(exc.value).split(": ", 1)[1][:39]) \
        or "did you mean 'selector'" in str(exc.value) and exc.value.line == 3
    f.write_text("targets:\n  - kubernets: {selector: app=x}\n")
    with pytest.raises(ConfigError) as exc:
        build_finders(load_targets_file(f).finders)
    assert "no installed plugin finds fleet targets of kind 'kubernets' (installed: kubernetes)" in str(exc.value)
    assert exc.value.line == 2
    f.write_text("targets:\n  - kubernetes: {selector: app=x}\n    relist: soon\n")
    with pytest.raises(ConfigError) as exc:
        load_targets_file(f)
    assert exc.value.line == 3 and "relist" in str(exc.value)


def test_fleet_watch_selector_headless_one_round(api: k.FakeKubeAPI, tmp_path: Path, cli_env: dict[str, str]) -> None:
    """``--rounds 1`` as a one-shot status: the round reads the pods the first list found."""
    kc = api.kubeconfig(tmp_path)
    with StandInWatch("orders", phase="migration", verdict="warn") as orders:
        api.add(k.watch_pod("migtui-watch-orders-db-7xk2p", "orders-db", orders.server.port))
        proc = subprocess.run([*migtui_cmd(), "fleet", "watch", "--selector", SELECTOR, "--kubeconfig", str(kc),
                               "--context", "fake", "--headless", "--rounds", "1"],
                              capture_output=True, text=True, env=cli_env, timeout=120)
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.splitlines()
    assert lines[0].startswith(f"kubernetes pods {SELECTOR} in shop: 1 watch · listed ")
    assert lines[1].startswith("round 1: 1 databases, 1 warn; refresh ")
    assert lines[2].startswith("orders-db: warn · migration") and len(lines) == 3


def test_fleet_watch_selector_headless(api: k.FakeKubeAPI, tmp_path: Path, cli_env: dict[str, str]) -> None:
    """The command as a user runs it: its finder's line, then the rows of the pods it found."""
    kc = api.kubeconfig(tmp_path)
    out = tmp_path / "out.txt"
    with StandInWatch("orders", phase="migration", verdict="pause") as orders:
        api.add(k.watch_pod("migtui-watch-orders-db-7xk2p", "orders-db", orders.server.port),
                k.watch_pod("migtui-watch-users-db-1", "users-db", 1, phase="Pending"))
        proc = subprocess.Popen([*migtui_cmd(), "fleet", "watch", "--selector", SELECTOR, "--kubeconfig", str(kc),
                                 "--context", "fake", "--headless", "--interval", "0.3s", "--token-env", "WATCH_TOKEN"],
                                stdout=out.open("w"), stderr=subprocess.STDOUT,
                                env={**cli_env, "WATCH_TOKEN": "watch-s3cret"}, text=True)
        try:
            text = wait_until(lambda: out.read_text() if "orders-db: pause" in out.read_text() else
                              (pytest.fail(out.read_text()) if proc.poll() is not None else None),
                              "the pod's row in the output")
        finally:
            proc.terminate()
            proc.wait(20)
    assert (f"kubernetes pods {SELECTOR} in shop: 1 watch, 1 left out (migtui-watch-users-db-1: Pending)"
            in text)
    assert "\norders-db: pause · migration · 42.5% · 5m30s" in text
    # the watches serve with --http-token-file: the token of --token-env goes to every pod found
    assert {r.headers.get("authorization") for r in orders.server.requests} == {"Bearer watch-s3cret"}
    assert "watch-s3cret" not in text
    # the pods are listed from the API server's cache (resourceVersion=0), not with a quorum read of etcd
    lists = [r for r in api.requests if r.path == "/api/v1/namespaces/shop/pods"]
    assert lists and all(r.param("resourceVersion") == "0" and r.param("labelSelector") == SELECTOR for r in lists)


def test_an_api_server_that_is_not_there(tmp_path: Path) -> None:
    """Nothing listens at the kubeconfig's server: the finder's line says so in one line, the view runs."""
    import json

    from tests.servers.fleet_watch import closed_port_url

    dead = closed_port_url().rsplit("/", 1)[0]
    kc = tmp_path / "kubeconfig"
    kc.write_text(json.dumps({"apiVersion": "v1", "kind": "Config", "current-context": "dead",
                              "clusters": [{"name": "dead", "cluster": {"server": dead}}],
                              "users": [{"name": "u", "user": {"token": "t0ken-not-shown"}}],
                              "contexts": [{"name": "dead", "context": {"cluster": "dead", "user": "u",
                                                                        "namespace": "migrations"}}]}))
    poller = FleetPoller([], interval=0.2, timeout=1.0)
    discovery = FleetDiscovery(poller, [], build_finders([Finder("kubernetes", {
        "selector": SELECTOR, "kubeconfig": str(kc), "request_timeout": "1s"}, "--selector", None, 0.2)]))
    discovery.start()
    try:
        st = wait_until(lambda: discovery.snapshot()[1][0] if discovery.snapshot()[1][0].error else None,
                        "the failed list")
    finally:
        discovery.stop()
    assert st.error == ('Kubernetes: list pods in namespace "migrations": cannot reach the API server: '
                        'Failed to establish a new connection: [Errno 111] Connection refused')
    assert finder_line(st).endswith(" · nothing listed yet") and poller.snapshot()[1] == {}
