"""migtui's private folder for files other local users must not touch (control sockets, recovery
files that could not be written next to the store): ``$XDG_RUNTIME_DIR/migtui``, else
``/tmp/migtui-<uid>``. migtui creates it with mode 0700 and refuses one it does not own or that others
can enter (a folder another user pre-created is a squat, never a place to serve from)."""

from __future__ import annotations

import os
import stat
import tempfile
from pathlib import Path

from migtui.errors import MigtuiError


def runtime_dir() -> Path:
    """The folder (not created): see the module docstring."""
    runtime = os.environ.get("XDG_RUNTIME_DIR")
    if runtime and os.path.isdir(runtime) and os.access(runtime, os.W_OK):
        return Path(runtime) / "migtui"
    return Path(tempfile.gettempdir()) / f"migtui-{os.getuid()}"


def is_private(folder: Path) -> bool:
    """``folder`` is a real directory (not a symlink) owned by this user that nobody else can enter."""
    try:
        st = folder.lstat()
    except OSError:
        return False
    return stat.S_ISDIR(st.st_mode) and st.st_uid == os.getuid() and not stat.S_IMODE(st.st_mode) & 0o077


def private_dir(folder: Path | None = None) -> Path:
    """Create ``folder`` (default :func:`runtime_dir`) with mode 0700 if needed and return it;
    MigtuiError naming it when it exists but is not private to this user."""
    folder = folder or runtime_dir()
    try:
        folder.parent.mkdir(parents=True, exist_ok=True)
        folder.mkdir(mode=0o700)
    except FileExistsError:
        pass
    except OSError as exc:
        raise MigtuiError(f"{folder}: cannot create migtui's private folder: {exc.strerror}") from None
    if not is_private(folder):
        try:
            st = folder.lstat()
            who = f"owner uid {st.st_uid}, mode {stat.S_IMODE(st.st_mode):o}"
        except OSError:
            who = "not a folder"
        raise MigtuiError(f"{folder} is not a private folder of this user ({who}); remove it or set "
                          "XDG_RUNTIME_DIR to a private folder")
    return folder
