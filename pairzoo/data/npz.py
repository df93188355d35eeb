"""Safe, deterministic .npz input and output.

Reading checks every wanted member's .npy header before any data is read: no object (pickled)
arrays, no declared size beyond `MAX_ARRAY_BYTES` or beyond what the archive's bytes can hold
(the zip directory's sizes are checked against the file's real size, since both can be forged).
The arrays themselves are then read with numpy's reader, `allow_pickle=False`.

Writing produces the same layout as `np.savez` (stored, uncompressed members named `KEY.npy`)
but with a fixed timestamp, so equal arrays give byte-identical files.
"""

from __future__ import annotations

import os
import tokenize
import zipfile
import zlib
from pathlib import Path

import numpy as np

from pairzoo.atomic import atomic_open
from pairzoo.errors import DataError

__all__ = ["MAX_ARRAY_BYTES", "read_arrays", "write_arrays"]

MAX_ARRAY_BYTES = 4 << 30  # 4 GiB: far above any pair data set, far below a forged header
_ZIP_EPOCH = (1980, 1, 1, 0, 0, 0)
_METHODS = (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED)
_DEFLATE_RATIO = 1032  # the most deflate can expand: 258 bytes per 2 bits
_MAX_HEADER = 10000  # numpy's own limit on an .npy header (max_header_size)
# What numpy's header parser (ast.literal_eval over the header text) raises on a mangled header.
_HEADER_ERRORS = (ValueError, TypeError, SyntaxError, RecursionError, tokenize.TokenError)


def read_arrays(path: str | os.PathLike, keys: list[str]) -> dict[str, np.ndarray]:
    """The arrays `keys` of the .npz at `path` that exist (absent keys are left out); DataError.

    Only members named `KEY.npy` count, as numpy writes them; each is read from the same zip
    member whose header was checked.
    """
    path = Path(path)
    if not path.is_file():
        raise DataError(f"{path}: file not found")
    try:
        archive_bytes = path.stat().st_size
        with zipfile.ZipFile(path) as zf:
            members = {i.filename[:-4]: i for i in zf.infolist() if i.filename.endswith(".npy")}
            arrays = {}
            for key in keys:
                if key in members:
                    _check_member(path, key, zf, members[key], archive_bytes)
                    with zf.open(members[key]) as fh:
                        arrays[key] = np.lib.format.read_array(fh, allow_pickle=False)
            return arrays
    except DataError:
        raise
    except zipfile.BadZipFile as e:
        raise DataError(
            f"{path}: not a readable .npz archive, expected a zip of .npy arrays ({_flat(e)})"
        ) from e
    except (OSError, EOFError, ValueError, RuntimeError, NotImplementedError, zlib.error) as e:
        # RuntimeError: an encrypted member; NotImplementedError: an unknown compression method
        raise DataError(
            f"{path}: truncated or corrupt .npz archive ({type(e).__name__}: {_flat(e)})"
        ) from e


def _check_member(
    path: Path, key: str, zf: zipfile.ZipFile, info: zipfile.ZipInfo, archive_bytes: int
) -> None:
    """Refuse a member before its data is read: unknown compression, an oversized or forged
    header, a pickled dtype, or a declared size beyond what the archive can really hold."""
    if info.compress_type not in _METHODS:
        raise DataError(
            f"{path}: key '{key}' uses zip compression method {info.compress_type}, "
            "expected stored or deflated (as numpy writes)"
        )
    if info.compress_size > archive_bytes:
        raise DataError(
            f"{path}: key '{key}' claims {info.compress_size} compressed bytes, "
            f"but the file has only {archive_bytes}"
        )
    with zf.open(info) as fh:
        try:
            version = np.lib.format.read_magic(fh)
            length_field = fh.read(2 if version == (1, 0) else 4)
            if int.from_bytes(length_field, "little") > _MAX_HEADER:
                raise ValueError(f"header of {int.from_bytes(length_field, 'little')} bytes")
        except ValueError as e:
            raise DataError(f"{path}: key '{key}' is not a valid .npy array ({_flat(e)})") from e
    with zf.open(info) as fh:
        try:
            version = np.lib.format.read_magic(fh)
            if version == (1, 0):
                shape, _, dtype = np.lib.format.read_array_header_1_0(fh)
            else:
                shape, _, dtype = np.lib.format.read_array_header_2_0(fh)
        except _HEADER_ERRORS as e:
            raise DataError(f"{path}: key '{key}' is not a valid .npy array ({_flat(e)})") from e
        header_len = fh.tell()
    if dtype.hasobject:
        raise DataError(
            f"{path}: key '{key}' holds Python objects (dtype {dtype}), which would need pickle; "
            "expected a plain numeric or string array"
        )
    declared = int(np.prod(shape, dtype=object)) * dtype.itemsize
    if declared > MAX_ARRAY_BYTES:
        raise DataError(
            f"{path}: key '{key}' declares shape {shape} "
            f"({float(min(declared, 1e300)):.3g} bytes), "
            f"expected at most {MAX_ARRAY_BYTES} bytes"
        )
    # A stored member is its bytes; deflate expands at most _DEFLATE_RATIO times.
    ratio = 1 if info.compress_type == zipfile.ZIP_STORED else _DEFLATE_RATIO
    if declared != info.file_size - header_len or info.file_size > info.compress_size * ratio:
        raise DataError(
            f"{path}: key '{key}' declares shape {shape} of {dtype} ({declared} bytes) "
            f"but holds {min(info.file_size, info.compress_size * ratio) - header_len} bytes"
        )


def _flat(error: BaseException) -> str:
    """An exception's text on one line (numpy's header errors span several)."""
    return " ".join(str(error).split())


def write_arrays(path: str | os.PathLike, arrays: dict[str, np.ndarray]) -> None:
    """Write `arrays` as an .npz atomically and deterministically (no pickled arrays)."""
    with atomic_open(path, "wb") as raw, zipfile.ZipFile(raw, "w", zipfile.ZIP_STORED) as zf:
        for key, array in arrays.items():
            info = zipfile.ZipInfo(f"{key}.npy", date_time=_ZIP_EPOCH)
            info.external_attr = 0o644 << 16
            with zf.open(info, "w", force_zip64=True) as fh:
                np.lib.format.write_array(fh, np.asanyarray(array), allow_pickle=False)
