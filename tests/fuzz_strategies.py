"""Hypothesis strategies and helpers shared by the fuzz tests (tests/test_fuzz_*.py).

Every fuzz test checks the same promise: a file from elsewhere either loads or is refused with
one PairzooError subclass whose message names the file. `expect_ok_or` states it once.
"""

from __future__ import annotations

import contextlib
import copy
import datetime as dt
import io
import shutil
import tempfile
import zipfile
from collections.abc import Iterator
from pathlib import Path

import numpy as np
from hypothesis import event
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from pairzoo.errors import PairzooError

# ---- the property -----------------------------------------------------------------------


@contextlib.contextmanager
def expect_ok_or(error: type[PairzooError], *names: str) -> Iterator[list]:
    """Run the block; it may raise only `error`, and then its message must be one line that
    contains every name.

    Yields a list that holds the caught error afterwards (empty when the block worked).
    """
    caught: list = []
    try:
        yield caught
    except error as exc:
        message = str(exc)
        for name in names:
            assert name in message, f"message does not name {name!r}: {message}"
        assert "\n" not in message.strip(), f"message is not one line: {message!r}"
        caught.append(exc)
    event("refused" if caught else "loaded")


@contextlib.contextmanager
def workdir() -> Iterator[Path]:
    """A fresh temporary directory per generated example (pytest's tmp_path is per test)."""
    path = Path(tempfile.mkdtemp(prefix="pairzoo-fuzz-"))
    try:
        yield path
    finally:
        shutil.rmtree(path, ignore_errors=True)


# ---- generic values ---------------------------------------------------------------------

# Text as hostile files hold it: any code point but lone surrogates (which no file can hold).
texts = st.text(st.characters(exclude_categories=("Cs",)), max_size=30)
short_texts = st.text(st.characters(exclude_categories=("Cs",)), max_size=8)
ints64 = st.integers(min_value=-(2**63), max_value=2**63 - 1)
big_ints = st.integers(min_value=-(10**30), max_value=10**30)
floats = st.floats(allow_nan=True, allow_infinity=True)

json_scalars = st.none() | st.booleans() | big_ints | floats | texts
json_values = st.recursive(
    json_scalars,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(short_texts, inner, max_size=4),
    max_leaves=12,
)

toml_scalars = (
    st.booleans()
    | ints64
    | floats
    | texts
    | st.dates(min_value=dt.date(1, 1, 1))
    | st.datetimes()
    | st.times()
)
toml_values = st.recursive(
    toml_scalars,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(short_texts, inner, max_size=4),
    max_leaves=12,
)


def deeply_nested(depth: int, kind: str = "json") -> str:
    """A document nested `depth` lists deep (recursion limits of the parsers)."""
    if kind == "json":
        return "[" * depth + "]" * depth
    return "a = " + "[" * depth + "]" * depth + "\n"


def mostly(valid: st.SearchStrategy, wild: st.SearchStrategy) -> st.SearchStrategy:
    """`valid` most of the time, so generated files get past the first check.

    (A sampled_from leans to its first items; one_of or integers(0, 3) == 0 lean to the wild
    branch, which left most generated files failing their first check.)"""
    return st.sampled_from([valid, valid, valid, wild]).flatmap(lambda s: s)


def rarely() -> st.SearchStrategy:
    """True about one time in four (see `mostly`)."""
    return st.sampled_from([False, False, False, True])


# ---- npz files ---------------------------------------------------------------------------

KEYS = ("x", "y", "id", "digits")

numeric_dtypes = st.sampled_from(
    [
        "u1",
        "i1",
        "<i2",
        ">i4",
        "<i8",
        "<u8",
        "<f2",
        "<f4",
        ">f8",
        "?",
        "<c8",
        "<U3",
        "S4",
        "<M8[s]",
        "<m8[s]",
        [("a", "<i4"), ("b", "u1")],
    ]
)


def wild_array(max_side: int = 4) -> st.SearchStrategy:
    """Any small array: odd dtype, odd shape (0-d, empty, up to 4 dimensions)."""
    return numeric_dtypes.flatmap(
        lambda dtype: hnp.arrays(
            np.dtype(dtype),
            hnp.array_shapes(min_dims=0, max_dims=4, min_side=0, max_side=max_side),
        )
    )


@st.composite
def valid_split(draw, labelled: bool | None = None) -> dict[str, np.ndarray]:
    """A correct split: x uint8 (n, 28, 56), unique str ids, labels and digit classes."""
    n = draw(st.integers(1, 4))
    x = draw(hnp.arrays(np.uint8, (n, 28, 56), elements=st.integers(0, 255), fill=st.just(7)))
    ids = np.array([f"ID_{i:04d}" for i in range(n)])
    arrays = {"x": x, "id": ids}
    if labelled if labelled is not None else draw(st.booleans()):
        arrays["y"] = np.array(draw(st.lists(st.integers(0, 1), min_size=n, max_size=n)))
    if draw(st.booleans()):
        arrays["digits"] = np.array(
            draw(st.lists(st.tuples(st.integers(0, 9), st.integers(0, 9)), min_size=n, max_size=n))
        ).reshape(n, 2)
    return arrays


@st.composite
def mutated_split(draw) -> dict[str, np.ndarray]:
    """A correct split with one to three keys replaced, dropped or added."""
    arrays = dict(draw(valid_split()))
    n = len(arrays["x"])
    for _ in range(draw(st.integers(1, 3))):
        key = draw(mostly(st.sampled_from(KEYS), st.sampled_from(["X", "x.npy", "extra", "id "])))
        action = draw(st.sampled_from(["wild", "drop", "length", "values", "ids"]))
        if action == "drop":
            arrays.pop(key, None)
        elif action == "wild":
            arrays[key] = draw(wild_array())
        elif action == "length" and key in arrays and arrays[key].ndim >= 1:
            m = draw(st.integers(0, n + 2).filter(lambda m: m != n))
            arrays[key] = np.resize(arrays[key], (m, *arrays[key].shape[1:]))
        elif action == "values" and key in ("y", "digits"):
            shape = (n,) if key == "y" else (n, 2)
            dtype = draw(st.sampled_from(["<i8", "<u8", "i1", "<f8", "?"]))
            arrays[key] = draw(hnp.arrays(np.dtype(dtype), shape))
        elif action == "ids":
            arrays["id"] = np.array(
                draw(st.lists(short_texts, min_size=n, max_size=n)), dtype=str
            ).reshape(n)
    return arrays


def npz_bytes(arrays: dict[str, np.ndarray], compressed: bool = False) -> bytes:
    """Bytes of an .npz as numpy writes it (pickled object arrays allowed, as another tool's)."""
    buf = io.BytesIO()
    (np.savez_compressed if compressed else np.savez)(buf, **arrays)
    return buf.getvalue()


def npy_header(shape: tuple, descr: str = "|u1", fortran: bool = False) -> bytes:
    """A version 1.0 .npy header declaring `shape` of `descr`, whatever the data behind it."""
    text = repr({"descr": descr, "fortran_order": fortran, "shape": tuple(shape)})
    body = text.encode("latin1")
    pad = 64 - (10 + len(body) + 1) % 64
    body += b" " * pad + b"\n"
    return b"\x93NUMPY\x01\x00" + len(body).to_bytes(2, "little") + body


def zip_members(members: dict[str, bytes], compression: int = zipfile.ZIP_STORED) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", compression) as zf:
        for name, data in members.items():
            zf.writestr(name, data)
    return buf.getvalue()


def forge_member_size(archive: bytes, size: int) -> bytes:
    """Rewrite every member's sizes in the local and central headers to `size` (< 4 GiB), so
    the archive's directory agrees with a forged .npy header while the bytes stay tiny."""
    out = bytearray(archive)
    raw = size.to_bytes(4, "little")
    with zipfile.ZipFile(io.BytesIO(archive)) as zf:
        locals_ = [info.header_offset for info in zf.infolist()]
    for pos in locals_:
        out[pos + 18 : pos + 26] = raw + raw
    eocd = out.rfind(b"PK\x05\x06")
    pos = int.from_bytes(out[eocd + 16 : eocd + 20], "little")
    while out[pos : pos + 4] == b"PK\x01\x02":
        out[pos + 20 : pos + 28] = raw + raw
        name_len, extra_len, comment_len = (
            int.from_bytes(out[pos + o : pos + o + 2], "little") for o in (28, 30, 32)
        )
        pos += 46 + name_len + extra_len + comment_len
    return bytes(out)


class Unpickled:
    """Unpickling it touches a marker file: proves whether a loader ran pickle."""

    def __init__(self, marker: str):
        self.marker = marker

    def __reduce__(self):
        return (Path.touch, (Path(self.marker),))


# ---- one mutation of a valid document ------------------------------------------------------


def _tables(doc, path=()):
    """Paths of every table (dict) in `doc`, the root included."""
    yield path
    for key, value in doc.items():
        if isinstance(value, dict):
            yield from _tables(value, (*path, key))


@st.composite
def spoiled(draw, documents: st.SearchStrategy, values: st.SearchStrategy) -> dict:
    """A valid document, or the same with one key of one table set to any value, removed, or
    added: most generated files then fail at one check deep inside, not at the first."""
    doc = draw(documents)
    if not draw(st.booleans()):
        return doc
    doc = copy.deepcopy(doc)
    path = draw(st.sampled_from(list(_tables(doc))))
    table = doc
    for key in path:
        table = table[key]
    action = draw(st.sampled_from(["set", "set", "delete", "add"]))
    if action == "delete" and table:
        del table[draw(st.sampled_from(sorted(table)))]
    elif action == "set" and table:
        table[draw(st.sampled_from(sorted(table)))] = draw(values)
    else:
        table[draw(short_texts)] = draw(values)
    return doc


# ---- id,label CSV files --------------------------------------------------------------------

_GOOD_HEADERS = ("id,label", " id , label ", '"id","label"')
_line_texts = texts.filter(lambda t: "\n" not in t and "\r" not in t)
csv_headers = (
    st.sampled_from(
        ["id,label", " id , label ", '"id","label"', "ID,LABEL", "label,id", "id", "id,label,x", ""]
    )
    | _line_texts
)
csv_labels = st.sampled_from(["0", "1", " 1 ", "01", "+1", "2", "-1", "1.0", "x", "", "١", "1_0"])
csv_labels = csv_labels | st.integers(-(10**6), 10**6).map(str) | st.just("9" * 5000)


@st.composite
def csv_files(draw, ids: list[str]) -> tuple[bytes, dict[str, int] | None]:
    """An `id,label` file for `ids`, then up to three changes to its rows and its bytes (BOM,
    newline style, a NUL or other odd character, a huge line, another encoding). Returns the
    bytes and, when the file is still a correct one, the labels it gives."""
    newline = draw(st.sampled_from(["\n", "\r\n", "\r"]))
    header = draw(mostly(st.sampled_from(_GOOD_HEADERS), csv_headers))
    rows = [[i, draw(st.sampled_from(["0", "1"]))] for i in draw(st.permutations(ids))]
    expected = {i: int(label) for i, label in rows} if header in _GOOD_HEADERS else None
    cells = st.sampled_from(ids) | _line_texts
    for _ in range(draw(st.sampled_from([0, 0, 1, 2, 3]))):
        expected = None
        action = draw(st.sampled_from(["label", "id", "dup", "drop", "fields", "extra"]))
        at = draw(st.integers(0, max(len(rows) - 1, 0)))
        if not rows or action == "extra" or len(rows[at]) != 2:
            rows.append([draw(cells), draw(csv_labels)])
        elif action == "label":
            rows[at][1] = draw(csv_labels)
        elif action == "id":
            rows[at][0] = draw(cells)
        elif action == "dup":
            rows.append(list(rows[at]))
        elif action == "drop":
            rows.pop(at)
        else:
            rows[at] = draw(st.lists(cells | csv_labels, max_size=4))
    lines = [header] + [",".join(row) for row in rows]
    if draw(rarely()):
        expected = None
        line = draw(st.sampled_from(ids)) + "," + "1" * draw(st.integers(1, 300_000))
        lines.insert(draw(st.integers(1, len(lines))), line)
    text = newline.join(lines) + draw(st.sampled_from([newline, "", newline * 3]))
    if draw(rarely()):
        expected = None
        at = draw(st.integers(0, len(text)))
        odd = draw(st.sampled_from(["\0", '"', "\ufeff", "\x1a", "\u2028", "\x85"]))
        text = text[:at] + odd + text[at:]
    bom = "\ufeff" if draw(st.booleans()) else ""
    encoding = draw(st.sampled_from(["utf-8", "utf-8", "utf-16", "latin-1"]))
    if encoding != "utf-8":
        expected = None
    return (bom + text).encode(encoding, errors="replace"), expected
