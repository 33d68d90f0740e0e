"""The cockpit: a Textual front end of the engine (the only package in migtui that imports Textual).

``migtui watch --config FILE`` calls :func:`migtui.tui.app.run_cockpit`. The app subscribes to the
engine (updates arrive on the engine thread and are posted to the UI as messages), redraws at most
twice a second, and runs every command that may block in a thread worker.

Modules: :mod:`.app` (the App, its keys and layout), :mod:`.view` (pure functions turning engine
state into rows and Rich text), :mod:`.widgets` (header, panels, blocking tree, triggers, event
log), :mod:`.screens` (confirmations, rollback, help), :mod:`.commands` (command palette provider).
"""
