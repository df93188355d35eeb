"""The teacher's soft targets: an ensemble's logit per train pair, saved with a record that pins them.

The ensemble gives a probability (members' logits through its meta-learner); the student learns
from its logit, clipped so that a probability of exactly 0 or 1 stays finite. `teacher.json`
names the ensemble, its card's sha256 and the logits file's sha256, so a resumed run trains on
the same targets or is refused.
"""

from __future__ import annotations

import datetime as dt
import io
import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np

from pairzoo.atomic import write_bytes, write_json
from pairzoo.ensemble.stacking import predict_booster
from pairzoo.errors import RunError
from pairzoo.registry.card import card_bytes, ref_of, sha256_bytes, sha256_file
from pairzoo.runtime.logits import DEFAULT_BATCH, logit_matrix

LOGITS_FILE = "teacher_logits.npy"
RECORD_FILE = "teacher.json"
_CHUNK = 4096  # pairs per progress step
EPS = 1e-6  # probabilities are clipped to [EPS, 1 - EPS]: logits within +-13.8


def card_sha256(card: Mapping[str, Any]) -> str:
    """sha256 of the card as the registry wrote it (the catalogue's card_sha256)."""
    return sha256_bytes(card_bytes(card))


def proba_to_logit(proba: np.ndarray, eps: float = EPS) -> np.ndarray:
    """float32 logit of a probability, clipped so that 0 and 1 give finite values."""
    p = np.clip(np.asarray(proba, dtype=np.float64), eps, 1.0 - eps)
    return (np.log(p) - np.log1p(-p)).astype(np.float32)


def ensemble_proba(
    loaded, x: np.ndarray, batch_size: int = DEFAULT_BATCH, workers: int = 1, threads: int = 1
) -> tuple[np.ndarray, np.ndarray, float]:
    """(probability of label 1, members' logits (N, members), wall seconds) for uint8 pairs `x`."""
    import time

    start = time.perf_counter()
    logits = logit_matrix(loaded.members, x, batch_size, workers=workers).logits
    proba = predict_booster(loaded.booster, logits, threads)
    return proba, logits, time.perf_counter() - start


def teacher_proba(
    loaded, x: np.ndarray, workers: int = 1, threads: int = 1, progress: bool = False
) -> tuple[np.ndarray, float]:
    """The ensemble's probability for every pair of `x`, in chunks behind a progress bar."""
    import sys
    import time

    from tqdm.auto import tqdm

    start, parts = time.perf_counter(), []
    with tqdm(
        total=len(x),
        desc="teacher",
        unit="pair",
        leave=False,
        disable=not progress,
        file=sys.stderr,
    ) as bar:
        for i in range(0, len(x), _CHUNK):
            parts.append(
                ensemble_proba(loaded, x[i : i + _CHUNK], workers=workers, threads=threads)[0]
            )
            bar.update(len(parts[-1]))
    proba = np.concatenate(parts) if parts else np.zeros(0, np.float64)
    return proba, time.perf_counter() - start


def save_teacher(out: Path, logits: np.ndarray, card: Mapping[str, Any], **facts: Any) -> dict:
    """Write the logits (np.save) and then their record, each atomically; returns the record."""
    buffer = io.BytesIO()
    np.save(buffer, np.ascontiguousarray(logits, dtype=np.float32), allow_pickle=False)
    data = buffer.getvalue()
    record = {
        "ensemble": ref_of(card),
        "version": card["version"],
        "card_sha256": card_sha256(card),
        "n": int(len(logits)),
        "file": LOGITS_FILE,
        "sha256": sha256_bytes(data),
        "clip_eps": EPS,
        "created": dt.datetime.now(dt.UTC).isoformat(timespec="seconds").replace("+00:00", "Z"),
        **facts,
    }
    write_bytes(out / LOGITS_FILE, data)
    write_json(out / RECORD_FILE, record)
    return record


def read_record(out: Path) -> dict[str, Any] | None:
    path = out / RECORD_FILE
    if not path.exists():
        return None
    try:
        record = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise RunError(f"{path}: cannot read it ({exc})") from None
    if not isinstance(record, dict) or not {"ensemble", "sha256", "n"} <= set(record):
        raise RunError(f"{path}: expected keys ensemble, sha256 and n, found {record!r:.80}")
    return record


def load_teacher(
    out: Path, card: Mapping[str, Any], n_train: int, fingerprint: str | None
) -> tuple:
    """(logits, record) saved in `out`, after checking they came from `card` for this data.

    Raises RunError naming the file and what differs: another ensemble or card, a logits file
    whose sha256 is not the recorded one, other data, or a malformed array.
    """
    record = read_record(out)
    if record is None:
        raise RunError(f"{out / RECORD_FILE}: missing, so the saved teacher cannot be checked")
    ref, where = ref_of(card), out / RECORD_FILE
    if record["ensemble"] != ref or record.get("card_sha256") != card_sha256(card):
        raise RunError(
            f"{where}: the run learned from {record['ensemble']} (card sha256 "
            f"{str(record.get('card_sha256'))[:12]}), --ensemble gives {ref} (card sha256 "
            f"{card_sha256(card)[:12]}); resume with --ensemble {record['ensemble']} or choose another --out"
        )
    if fingerprint and record.get("data_fingerprint") not in (None, fingerprint):
        raise RunError(
            f"{where}: the teacher logits are for data {record['data_fingerprint'][:12]}, "
            f"--data has fingerprint {fingerprint[:12]}; resume with the same data"
        )
    path = out / LOGITS_FILE
    if not path.exists():
        raise RunError(f"{path}: missing; teacher.json records it")
    found = sha256_file(path)
    if found != record["sha256"]:
        raise RunError(
            f"{path}: sha256 {found[:12]} differs from {record['sha256'][:12]} in teacher.json; "
            "the file was changed, so the run will not train on it (delete both files to recompute)"
        )
    logits = _read_logits(path)
    if logits.shape != (n_train,) or record["n"] != n_train:
        raise RunError(
            f"{path}: holds {logits.shape[0]} logits, the train split has {n_train} pairs"
        )
    return logits, record


def _read_logits(path: Path) -> np.ndarray:
    try:
        logits = np.load(path, allow_pickle=False)
    except (OSError, ValueError) as exc:
        raise RunError(f"{path}: not a readable .npy array ({exc})") from None
    if logits.dtype != np.float32 or logits.ndim != 1 or not np.isfinite(logits).all():
        raise RunError(
            f"{path}: expected finite float32 logits of shape (N,), found {logits.dtype} "
            f"{logits.shape}"
        )
    return logits
