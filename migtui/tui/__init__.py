"""The cockpit: a Textual front end of the engine (the only package in migtui that imports Textual).

``migtui watch --config FILE`` calls :func:`migtui.tui.app.run_cockpit`. The app subscribes to the
engine (updates arrive on the engine thread and are posted to the UI as messages), redraws at most
twice a second, and runs every command that may block in a thread worker.

Modules: :mod:`.app` (the App shell: keys, layout, engine updates, redraws, display keys),
:mod:`.screen` (the main screen, its footer, the engine-update message), :mod:`.control_flows`
(pause/resume/rollback/backend/phase/baseline/export/note flows), :mod:`.trigger_flows` (acknowledge,
silence, unsilence), :mod:`.outlive` (the run going on headless after a cockpit crash), :mod:`.view`
(pure views: frame -> rows and Rich text), :mod:`.widgets` (header, panels, blocking tree, triggers,
event log), :mod:`.screens` (confirmations, rollback, help), :mod:`.commands` (command palette
provider), :mod:`.fleet` (the fleet app).
"""
