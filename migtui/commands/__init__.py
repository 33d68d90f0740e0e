"""The ``migtui`` subcommands, one module per group, imported lazily by :mod:`migtui.cli`."""
