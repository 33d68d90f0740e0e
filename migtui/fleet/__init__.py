"""The fleet view's core (no Textual): which watches to read (:mod:`.targets`), what one ``/status``
says (:mod:`.status`), polling them all off the UI loop (:mod:`.poller`), a watch's ``/metrics``
grouped by panel (:mod:`.metrics`) and the rows' order and filter (:mod:`.rows`).

``migtui fleet watch --targets FILE`` shows it in :mod:`migtui.tui.fleet`; ``--headless`` prints it.
Everything read from a target is hostile: it is kept as data and rendered only through
:mod:`migtui.safetext`.
"""
