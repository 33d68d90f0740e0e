"""``migtui demo``: a realistic migration to watch, on a throwaway embedded PostgreSQL.

Modules, in the order the demo uses them:

- :mod:`~migtui.demo.scenario`: how long each act lasts (the full show and ``--fast``);
- :mod:`~migtui.demo.shop`: the shop schema and its data, generated server-side;
- :mod:`~migtui.demo.service`: the simulated shop API and its Prometheus text endpoint;
- :mod:`~migtui.demo.workload`: client sessions running the order workload;
- :mod:`~migtui.demo.standins`: in-process stand-ins for flag / A/B providers and backfill progress;
- :mod:`~migtui.demo.configfile`: the migtui config the demo writes and loads;
- :mod:`~migtui.demo.migration`: the scripted migration (phases, lock trouble, pausable backfill);
- :mod:`~migtui.demo.orchestrator`: starts all of it, runs a front end, stops all of it.

``rollback.sql`` next to these modules is the real rollback file the ``pg_rollback_sql`` action runs.
Nothing here imports Textual; the cockpit is imported only when the demo runs with a UI.
"""
