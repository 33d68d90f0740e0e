"""Bundled migtui plugin: deployment migrations on Kubernetes (Deployments, blue-green Services,
Argo Rollouts) over the official ``kubernetes`` client.

Source type ``kubernetes``; action types ``k8s_deployment`` and ``argo_rollout`` (pause, resume,
rollback) and ``k8s_bluegreen`` (rollback: switch a Service's colour selector back); fleet discovery
``kubernetes`` (``migtui fleet watch --selector``: the watch pods a label selector picks). The client (slow to import) is imported only when one of them is built.
"""

from __future__ import annotations

from typing import Any

from migtui.api import hookimpl

__version__ = "0.1.0"


def _source_factory(ctx: Any) -> Any:
    from migtui_kubernetes.collector import factory

    return factory(ctx)


def _deployment_action(ctx: Any, verb: str) -> Any:
    from migtui_kubernetes.actions import deployment_factory

    return deployment_factory(ctx, verb)


def _rollout_action(ctx: Any, verb: str) -> Any:
    from migtui_kubernetes.actions import rollout_factory

    return rollout_factory(ctx, verb)


def _bluegreen_action(ctx: Any, verb: str) -> Any:
    from migtui_kubernetes.bluegreen import bluegreen_factory

    return bluegreen_factory(ctx, verb)


def _source_schema() -> Any:
    from migtui_kubernetes.collector import SCHEMA

    return SCHEMA


@hookimpl
def migtui_source_types(register: Any) -> None:
    register("kubernetes", _source_factory, schema=_source_schema,
             doc="Kubernetes: Deployment rollout state (as kubectl rollout status), pod health, warning events, "
                 "blue-green Service colour, Argo Rollouts (phase, canary weight, step, analysis, pause/abort).")


def _action_schema(name: str, module: str = "actions") -> Any:
    def schema(verb: str) -> Any:
        import importlib

        return getattr(importlib.import_module(f"migtui_kubernetes.{module}"), name)

    return schema


@hookimpl
def migtui_action_types(register: Any) -> None:
    register("k8s_deployment", _deployment_action, verbs=("pause", "resume", "rollback"),
             schema=_action_schema("DEPLOYMENT_SCHEMA"),
             doc="Deployment: pause/resume (spec.paused, strategic merge), rollback = kubectl rollout undo.")
    register("argo_rollout", _rollout_action, verbs=("pause", "resume", "rollback"),
             schema=_action_schema("ROLLOUT_SCHEMA"),
             doc="Argo Rollout: pause/resume (spec.paused, merge patch), rollback = abort (status subresource).")
    register("k8s_bluegreen", _bluegreen_action, verbs=("rollback",),
             schema=_action_schema("BLUEGREEN_SCHEMA", "bluegreen"),
             doc="Blue-green rollback: switch a Service's colour selector back (strategic merge patch).")


def _fleet_finder(options: Any, path: str) -> Any:
    from migtui_kubernetes.fleet import factory

    return factory(options, path)


@hookimpl
def migtui_fleet_discovery(register: Any) -> None:
    register("kubernetes", _fleet_finder,
             doc="The watch pods a label selector picks (list pods; the database from the pod's "
                 "migtui.dev/database label).")
