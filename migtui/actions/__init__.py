"""The action runner: pause, resume, rollback (and cancel/terminate of a backend) for one engine.

The engine builds one (``engine.parts.actions``). At build time it turns the config's
``actions:`` section (``pause`` / ``resume`` / ``rollback`` -> a list of typed items) into action
objects through the plugin host. A key in the cockpit, a ``migtui ctl`` command and a trigger all
go through :meth:`ActionRunner.request`, so they behave the same and are audited the same:

- actions run in one worker thread, never on the caller's thread, one verb at a time, each under
  a :class:`~migtui.plugins.Guard` with a timeout;
- a second identical request while the first is queued or running gets the first one's Future
  (idempotent);
- an action that requires confirmation is refused (an ``action`` event and a failed result) when
  the request is not confirmed; dry-run requests never need confirmation;
- dry-run (the request's ``dry_run`` or the action's own ``dry_run: true``) describes and records
  but never calls the action;
- every request and every result is an ``action`` event (who, why, action name and type,
  dry_run, ok, output truncated and redacted);
- a rollback action that already succeeded in this run is not run again unless the request's target
  says ``{"again": true}`` (a downgrade twice is two downgrades).

``resume`` defaults to undoing the configured ``pause`` actions that know how to undo themselves
(their resume object has ``undoes_pause = True``, e.g. ``pg_pause``), in reverse order.
``cancel`` and ``terminate`` (target: ``{"pid": N}`` from the blocking tree) are available without
configuration when a postgres source exists; the caller asks for confirmation.

Modules: :mod:`.configured` (options, :class:`Configured`, building from the config), :mod:`.steps`
(running one action, the request's event), :mod:`.runner` (:class:`ActionRunner`).
"""

from migtui.actions.configured import (CONFIGURABLE_VERBS, DEFAULT_TIMEOUT, PAUSE_CHECK_EVERY, PAUSE_SCOPES, VERBS,
                                       Configured, build_actions, common_fields, default_confirm, make_action)
from migtui.actions.runner import ActionRunner
from migtui.actions.steps import MAX_OUTPUT, result_event, run_step, truncate

__all__ = ["CONFIGURABLE_VERBS", "DEFAULT_TIMEOUT", "MAX_OUTPUT", "PAUSE_CHECK_EVERY", "PAUSE_SCOPES", "VERBS",
           "ActionRunner", "Configured", "build_actions", "common_fields", "default_confirm", "make_action",
           "result_event", "run_step", "truncate"]
