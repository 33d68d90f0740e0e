"""Moved. The cooperative pause helper speaks PostgreSQL (advisory locks), so it lives in the
bundled postgres plugin, installed with migtui::

    from migtui_postgres.pause import wait_if_paused
"""

raise ImportError("migtui.pause has moved to the postgres plugin: use `from migtui_postgres.pause import "
                  "wait_if_paused` (also DEFAULT_KEY, CHECK_SQL, check_sql, is_paused)", name="migtui.pause")
