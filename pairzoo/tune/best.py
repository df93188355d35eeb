"""The best trial as a normal run directory, ``OUT/best``, that export and eval take as it is.

It is a copy (not a link), renamed to the study's run name in config.json, model.pt and
metrics.json (the config hash leaves the name out, so it still matches last.pt), and swapped
in whole: a reader sees the old best or the new one, never half of either.
"""

from __future__ import annotations

import json
import shutil
import tempfile
from pathlib import Path

from pairzoo.atomic import write_json
from pairzoo.train.checkpoint import load_torch, save_model


def publish_best(trial_dir: Path, dest: Path, name: str) -> None:
    """Copy run `trial_dir` to `dest`, named `name`, replacing what `dest` held."""
    saved = load_torch(trial_dir / "model.pt")  # a refusal names the trial's own file
    tmp = Path(tempfile.mkdtemp(prefix=".best-", dir=dest.parent))
    try:
        staged = tmp / "run"
        shutil.copytree(trial_dir, staged)
        for file in ("config.json", "metrics.json"):
            doc = json.loads((staged / file).read_text(encoding="utf-8"))
            doc["name"] = name
            write_json(staged / file, doc)
        saved["config"]["name"] = name
        save_model(staged / "model.pt", saved["state_dict"], saved["config"])
        old = tmp / "old"
        if dest.exists():
            dest.rename(old)
        staged.rename(dest)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
