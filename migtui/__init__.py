"""migtui: a terminal cockpit for migration maintenance windows."""

__version__ = "0.1.0"
