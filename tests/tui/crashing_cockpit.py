"""``python tests/tui/crashing_cockpit.py FLAG watch ...``: ``migtui`` whose cockpit raises a rendering
error once the file FLAG exists (the header's redraw raises, as a bug in any widget would)."""

from __future__ import annotations

import sys
from pathlib import Path

from migtui.tui.widgets.header import CockpitHeader

FLAG = Path(sys.argv.pop(1))
_show = CockpitHeader.show


def show(self, *args, **kw):  # type: ignore[no-untyped-def]
    if FLAG.exists():
        raise RuntimeError("injected rendering error")
    return _show(self, *args, **kw)


CockpitHeader.show = show  # type: ignore[method-assign]

if __name__ == "__main__":
    from migtui.cli import main

    main(sys.argv[1:])
