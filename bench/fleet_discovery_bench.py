"""What ``migtui fleet watch --selector`` costs per list: the watch pods of a label selector listed
through the real kubernetes client from the loopback API server (tests/servers/k8s_api.py), each pod
the size of a real one (labels, annotations, managedFields, status with conditions: about 5 KB of
JSON), and handed to a poller as targets.

    python -m bench.fleet_discovery_bench [--pods 1000] [--lists 20] [--out bench/results/fleetdiscovery.json]

Measured: wall time per list (API answer, JSON decoding, pods -> targets, the merge handed to the
poller), the CPU time of the listing thread, and the bytes of one list. The API server stand-in runs
in this process on other threads; its CPU is not counted (``time.thread_time``).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
for p in (ROOT, ROOT / "plugins"):
    if str(p) not in sys.path:
        sys.path.insert(0, str(p))

SELECTOR = "app.kubernetes.io/name=migtui,app.kubernetes.io/component=migration-watch"


def realistic_pod(n: int) -> dict[str, Any]:
    """A watch pod as the API server returns it (managedFields, conditions, a token volume ...)."""
    from tests.servers.k8s_api import watch_pod

    pod = watch_pod(f"migtui-watch-tenant-{n:04d}-{n * 7919 % 100000:05d}", f"tenant-{n:04d}", 9187,
                    ip=f"10.{n // 65536 % 256}.{n // 256 % 256}.{n % 256}")
    meta = pod["metadata"]
    meta["annotations"] = {"kubectl.kubernetes.io/default-container": "migtui",
                           "batch.kubernetes.io/job-tracking": ""}
    meta["ownerReferences"] = [{"apiVersion": "batch/v1", "kind": "Job", "name": f"migtui-watch-tenant-{n:04d}",
                                "uid": f"0d5c{n:08x}-1c2b-4e57-9d0e-5f1f2c3b4a59", "controller": True,
                                "blockOwnerDeletion": True}]
    meta["managedFields"] = [{"manager": "kube-controller-manager", "operation": "Update", "apiVersion": "v1",
                              "time": "2026-11-21T07:30:00Z", "fieldsType": "FieldsV1",
                              "fieldsV1": {"f:metadata": {"f:labels": {f"f:{k}": {} for k in meta["labels"]}},
                                           "f:spec": {"f:containers": {'k:{"name":"migtui"}': {
                                               ".": {}, "f:args": {}, "f:env": {}, "f:image": {}, "f:ports": {},
                                               "f:resources": {}, "f:securityContext": {}, "f:volumeMounts": {}}}}}},
                             {"manager": "kubelet", "operation": "Update", "apiVersion": "v1", "subresource": "status",
                              "time": "2026-11-21T07:30:05Z", "fieldsType": "FieldsV1",
                              "fieldsV1": {"f:status": {"f:conditions": {}, "f:containerStatuses": {},
                                                        "f:hostIP": {}, "f:phase": {}, "f:podIP": {},
                                                        "f:podIPs": {}, "f:startTime": {}}}}]
    container = pod["spec"]["containers"][0]
    container.update({
        "args": ["watch", "--headless", "--config", "/etc/migtui/migtui.yaml", "--name", f"tenant-{n:04d}",
                 "--duration", "4h", "--http", "0.0.0.0:9187", "--http-token-file", "/etc/migtui-http/token"],
        "env": [{"name": "MIGTUI_DATABASE", "value": f"tenant-{n:04d}"},
                {"name": "MIGTUI_DSN", "valueFrom": {"secretKeyRef": {"name": "migtui-dsn", "key": "dsn"}}}],
        "resources": {"requests": {"cpu": "100m", "memory": "128Mi"}, "limits": {"memory": "512Mi"}},
        "securityContext": {"allowPrivilegeEscalation": False, "readOnlyRootFilesystem": True,
                            "capabilities": {"drop": ["ALL"]}},
        "volumeMounts": [{"name": v, "mountPath": f"/etc/{v}", "readOnly": True} for v in ("config", "http-token")],
        "terminationMessagePath": "/dev/termination-log", "terminationMessagePolicy": "File",
        "imagePullPolicy": "IfNotPresent",
    })
    pod["spec"].update({"nodeName": f"node-{n % 40}", "serviceAccountName": "default", "schedulerName":
                        "default-scheduler", "tolerations": [{"key": "node.kubernetes.io/not-ready", "operator":
                                                              "Exists", "effect": "NoExecute",
                                                              "tolerationSeconds": 300}],
                        "volumes": [{"name": "config", "configMap": {"name": "migtui-config", "defaultMode": 420}},
                                    {"name": "http-token", "secret": {"secretName": "migtui-http",
                                                                      "defaultMode": 420}}]})
    pod["status"].update({
        "hostIP": f"192.168.0.{n % 40}", "qosClass": "Burstable",
        "conditions": [{"type": t, "status": "True", "lastProbeTime": None,
                        "lastTransitionTime": "2026-11-21T07:30:04Z"}
                       for t in ("PodReadyToStartContainers", "Initialized", "Ready", "ContainersReady",
                                 "PodScheduled")],
        "containerStatuses": [{"name": "migtui", "ready": True, "restartCount": 0, "started": True,
                               "image": "ghcr.io/example/migtui:0.1.0",
                               "imageID": "ghcr.io/example/migtui@sha256:" + "ab" * 32,
                               "containerID": "containerd://" + f"{n:064x}",
                               "state": {"running": {"startedAt": "2026-11-21T07:30:03Z"}}}],
    })
    return pod


def measure(pods: int, lists: int) -> dict[str, Any]:
    from migtui.fleet.discovery import FleetDiscovery, build_finders
    from migtui.fleet.poller import FleetPoller
    from migtui.fleet.targets import Finder
    from tests.servers.k8s_api import FakeKubeAPI

    with FakeKubeAPI() as api, tempfile.TemporaryDirectory() as tmp:
        api.add(*(realistic_pod(n) for n in range(pods)))
        kc = api.kubeconfig(Path(tmp))
        finder = Finder("kubernetes", {"selector": SELECTOR, "kubeconfig": str(kc), "context": "fake"},
                        "--selector", None, 10.0)
        poller = FleetPoller([], interval=2.0, timeout=1.5)
        discovery = FleetDiscovery(poller, [], build_finders([finder]))
        discovery.list_once(0)  # warm: the client's import and first connection
        walls, cpus = [], []
        for _ in range(lists):
            t0, c0 = time.perf_counter(), time.thread_time()
            discovery.list_once(0)
            walls.append(time.perf_counter() - t0)
            cpus.append(time.thread_time() - c0)
        st = discovery.snapshot()[1][0]
        assert st.error is None and len(st.found) == pods, st.error
        size = len(json.dumps({"items": [o for (k, _, _), o in api.objects.items() if k == "Pod"]}))
        found = len(poller.snapshot()[1])
    walls.sort()
    return {
        "name": "fleetdiscovery", "pods": pods, "lists": lists, "targets_in_poller": found,
        "list_bytes": size, "bytes_per_pod": round(size / pods),
        "wall_ms_p50": round(statistics.median(walls) * 1000, 1),
        "wall_ms_p95": round(walls[min(len(walls) - 1, int(len(walls) * 0.95))] * 1000, 1),
        "cpu_ms_per_list_median": round(statistics.median(cpus) * 1000, 1),
        "cpu_share_at_relist_10s": f"{statistics.median(cpus) / 10 * 100:.2f}% of a core",
        "loadavg": [round(x, 2) for x in os.getloadavg()],
        "measured_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "threads": threading.active_count(),
    }


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--pods", type=int, default=1000)
    ap.add_argument("--lists", type=int, default=20)
    ap.add_argument("--out", default="bench/results/fleetdiscovery.json")
    args = ap.parse_args()
    result = {"load_before": [round(x, 2) for x in os.getloadavg()], "runs": [measure(200, args.lists),
                                                                             measure(args.pods, args.lists)]}
    Path(args.out).write_text(json.dumps(result, indent=1) + "\n")
    print(json.dumps(result, indent=1))


if __name__ == "__main__":
    main()
