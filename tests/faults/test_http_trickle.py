"""An HTTP endpoint that trickles (headers at once, then a line now and then, never done) is an error
of that source within its timeout, not a plugin fault: the source is never quarantined, and it
recovers on the first good poll once the endpoint answers again."""

from __future__ import annotations

from typing import Any

from tests.conftest import wait_until
from tests.servers.trickle import TrickleServer


def test_a_trickling_endpoint_is_a_source_error_and_the_source_recovers_at_once(make_engine: Any) -> None:
    with TrickleServer(every=0.2) as srv:
        engine = make_engine(f"""
        name: trickle
        interval: 0.2s
        sources:
          - {{type: openmetrics, name: api, url: '{srv.url}', timeout: 0.5s, interval: 0.2s}}
        """)
        engine.start()
        st = engine.sources["api"]
        guard = engine.guards["api"]
        # more failed polls than the guard's quarantine threshold: none of them counts against the plugin
        wait_until(lambda: st.errors > guard.max_failures + 1, "polls of the trickling endpoint to fail")
        assert st.state == "error" and not guard.quarantined, (st.state, st.last_error)
        assert "within 0.5s" in st.last_error, st.last_error
        assert guard.total_failures == 0
        srv.trickling.clear()
        wait_until(lambda: st.state == "ok", "the source to recover on the first good poll", timeout=30)
    assert not [e for e in engine.recent_events if "quarantined" in e.message]
