"""Loopback HTTP servers for tests: real servers on 127.0.0.1, started in threads by the tests.

Each module is an importable helper (``from tests.servers.k8s_api import FakeKubeAPI``).
"""
