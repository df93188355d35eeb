"""A data set written beside its directory's files and swapped in only once it is complete.

`data make` into a directory that already holds a data set must not leave a mix of old and new
files when it fails or is killed: the new files are written into a hidden staging folder inside
the directory (`.partial.pz-HOST-PID`); a marker file is written, meta.json removed, the files
renamed over the old ones, meta.json (which lists every file's hash) written, and the marker
removed last. A failure before the swap leaves the old data set untouched; one during it leaves
no meta.json and the marker, which tells `data make` (and `make train-all`) that the directory
is its own unfinished work, to make again.
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
from collections.abc import Iterator
from pathlib import Path

from pairzoo.atomic import WriteError, fsync_dir, is_stale, owner_tag, write_json, write_text

_PARTIAL = re.compile(r"^\.partial\.pz-(?P<host>[A-Za-z0-9_]+)-(?P<pid>\d+)$")
UNFINISHED = ".data-make-unfinished"  # present while (or if) a swap did not complete


@contextlib.contextmanager
def staging_dir(out_dir: Path) -> Iterator[Path]:
    """A fresh staging folder in `out_dir`, removed afterwards whatever happens.

    A WriteError inside names the file's final path in `out_dir`, not the staged one.
    """
    out_dir.mkdir(parents=True, exist_ok=True)
    _remove_stale(out_dir)
    staging = out_dir / f".partial.pz-{owner_tag()}"
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir()
    try:
        yield staging
    except WriteError as exc:
        path = Path(exc.filename)
        if staging not in path.parents:
            raise
        raise WriteError(out_dir / path.relative_to(staging), exc.step, exc.cause) from exc.cause
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def swap_in(staging: Path, out_dir: Path, names: list[str], meta_name: str, meta: dict) -> None:
    """Move the staged `names` over `out_dir`'s, with meta.json removed first and written last."""
    write_text(out_dir / UNFINISHED, "pairzoo data make is replacing this data set\n")
    (out_dir / meta_name).unlink(missing_ok=True)
    for name in names:
        os.replace(staging / name, out_dir / name)
    fsync_dir(out_dir)
    write_json(out_dir / meta_name, meta)
    (out_dir / UNFINISHED).unlink()
    fsync_dir(out_dir)


def _remove_stale(out_dir: Path) -> None:
    """Staging folders that killed writers left behind (best effort)."""
    with contextlib.suppress(OSError):
        for entry in os.scandir(out_dir):
            if entry.is_dir() and is_stale(entry.name, _PARTIAL):
                shutil.rmtree(entry.path, ignore_errors=True)
