"""How a run fails: one line naming the plugin whose code raised, and no half-made run folder."""

from __future__ import annotations

import contextlib
import shutil
from pathlib import Path
from typing import TYPE_CHECKING

from pairzoo.errors import PairzooError
from pairzoo.plugin_errors import blame

if TYPE_CHECKING:
    from pairzoo.train.runconfig import RunConfig


@contextlib.contextmanager
def run_failures(out: Path, cfg: RunConfig, writes: bool = True):
    """Around a run into `out`: a plugin's exception becomes PluginError naming its item, and a
    run that fails before its first checkpoint (last.pt) removes what it wrote, so the same
    command can start it again. `writes` is False on the ranks of a data-parallel run that do
    not write `out`."""
    fresh = writes and (not out.exists() or not any(out.iterdir()))
    created = not out.exists()
    try:
        yield
    except BaseException as exc:
        if fresh and not (out / "last.pt").exists():
            _remove_written(out, created)
        if isinstance(exc, Exception) and not isinstance(exc, PairzooError):
            failure = blame(exc, prefer=_items(cfg))
            if failure is not None:
                raise failure from exc
        raise


def _remove_written(out: Path, created: bool) -> None:
    if created:
        shutil.rmtree(out, ignore_errors=True)
        return
    for entry in list(out.iterdir()) if out.is_dir() else []:
        if entry.is_dir() and not entry.is_symlink():
            shutil.rmtree(entry, ignore_errors=True)
        else:
            entry.unlink(missing_ok=True)


def _items(cfg: RunConfig) -> list[tuple[str, str]]:
    heads = cfg.model.params.get("heads") or []
    heads = heads.split(",") if isinstance(heads, str) else heads
    return [
        ("architectures", cfg.model.arch),
        ("losses", cfg.loss.name),
        *(("fusion_heads", str(h).strip()) for h in heads),
    ]
