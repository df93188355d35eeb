"""Safe, deterministic .npz input and output.

Reading checks every wanted member's .npy header before any data is read: no object (pickled)
arrays, no declared size beyond `MAX_ARRAY_BYTES` or beyond what the member really holds. The
arrays themselves are then read with `np.load(..., allow_pickle=False)`.

Writing produces the same layout as `np.savez` (stored, uncompressed members named `KEY.npy`)
but with a fixed timestamp, so equal arrays give byte-identical files.
"""

from __future__ import annotations

import os
import zipfile
import zlib
from pathlib import Path

import numpy as np

from pairzoo.atomic import atomic_open
from pairzoo.errors import DataError

__all__ = ["MAX_ARRAY_BYTES", "read_arrays", "write_arrays"]

MAX_ARRAY_BYTES = 4 << 30  # 4 GiB: far above any pair data set, far below a forged header
_ZIP_EPOCH = (1980, 1, 1, 0, 0, 0)


def read_arrays(path: str | os.PathLike, keys: list[str]) -> dict[str, np.ndarray]:
    """The arrays `keys` of the .npz at `path` that exist (absent keys are left out); DataError."""
    path = Path(path)
    if not path.is_file():
        raise DataError(f"{path}: file not found")
    try:
        with zipfile.ZipFile(path) as zf:
            members = {n[:-4]: zf.getinfo(n) for n in zf.namelist() if n.endswith(".npy")}
            present = [k for k in keys if k in members]
            for key in present:
                _check_header(path, key, zf, members[key])
        with np.load(path, allow_pickle=False) as npz:
            return {key: npz[key] for key in present}
    except DataError:
        raise
    except zipfile.BadZipFile as e:
        raise DataError(
            f"{path}: not a readable .npz archive, expected a zip of .npy arrays ({e})"
        ) from e
    except (OSError, EOFError, ValueError, zlib.error) as e:
        raise DataError(
            f"{path}: truncated or corrupt .npz archive ({type(e).__name__}: {e})"
        ) from e


def _check_header(path: Path, key: str, zf: zipfile.ZipFile, info: zipfile.ZipInfo) -> None:
    with zf.open(info) as fh:
        try:
            version = np.lib.format.read_magic(fh)
            if version == (1, 0):
                shape, _, dtype = np.lib.format.read_array_header_1_0(fh)
            else:
                shape, _, dtype = np.lib.format.read_array_header_2_0(fh)
        except ValueError as e:
            raise DataError(f"{path}: key '{key}' is not a valid .npy array ({e})") from e
        header_len = fh.tell()
    if dtype.hasobject:
        raise DataError(
            f"{path}: key '{key}' holds Python objects (dtype {dtype}), which would need pickle; "
            "expected a plain numeric or string array"
        )
    declared = int(np.prod(shape, dtype=np.float64)) * dtype.itemsize
    if declared > MAX_ARRAY_BYTES:
        raise DataError(
            f"{path}: key '{key}' declares shape {shape} ({declared:.3g} bytes), "
            f"expected at most {MAX_ARRAY_BYTES} bytes"
        )
    if declared != info.file_size - header_len:
        raise DataError(
            f"{path}: key '{key}' declares shape {shape} of {dtype} ({declared} bytes) "
            f"but holds {info.file_size - header_len} bytes"
        )


def write_arrays(path: str | os.PathLike, arrays: dict[str, np.ndarray]) -> None:
    """Write `arrays` as an .npz atomically and deterministically (no pickled arrays)."""
    with atomic_open(path, "wb") as raw, zipfile.ZipFile(raw, "w", zipfile.ZIP_STORED) as zf:
        for key, array in arrays.items():
            info = zipfile.ZipInfo(f"{key}.npy", date_time=_ZIP_EPOCH)
            info.external_attr = 0o644 << 16
            with zf.open(info, "w", force_zip64=True) as fh:
                np.lib.format.write_array(fh, np.asanyarray(array), allow_pickle=False)
