"""Fuzzing a registry handed over from elsewhere: any catalogue.json and card.json either works
or gives one RegistryError naming the file (or the registry directory, for a missing name)."""

from __future__ import annotations

import json

import pytest
from fuzz_strategies import deeply_nested, json_values, mostly, rarely, short_texts, workdir
from hypothesis import event, example, given
from hypothesis import strategies as st

from pairzoo.errors import RegistryError
from pairzoo.registry import Registry
from pairzoo.registry.card import card_bytes, check_name, sha256_bytes, summary

pytestmark = pytest.mark.fuzz

NAMES = ["tiny", "b.2", "../bait", "a/../../bait", ".hidden", "x" * 101, "catalogue.json"]

cards = mostly(
    st.fixed_dictionaries(
        {},
        optional={
            "onnx": mostly(st.just("model.onnx"), json_values),
            "kind": mostly(st.sampled_from(["model", "ensemble"]), json_values),
            "files": mostly(
                st.dictionaries(
                    mostly(st.just("model.onnx"), short_texts),
                    mostly(
                        st.fixed_dictionaries(
                            {"sha256": mostly(st.just("0" * 64), json_values)},
                            optional={"bytes": mostly(st.integers(0, 10**6), json_values)},
                        ),
                        json_values,
                    ),
                    max_size=2,
                ),
                json_values,
            ),
            "architecture": mostly(st.fixed_dictionaries({"name": short_texts}), json_values),
            "metrics": mostly(
                st.fixed_dictionaries(
                    {"val": mostly(st.fixed_dictionaries({"accuracy": json_values}), json_values)}
                ),
                json_values,
            ),
            "parameters": json_values,
            "macs_per_pair": json_values,
            "created": json_values,
        },
    ),
    json_values,
)


@st.composite
def registries(draw) -> dict:
    """Rows of a catalogue, each with the card bytes to write at its NAME/VERSION.

    Rows are right (hash, dir, name) unless one part of them is spoiled, so that most cards
    are reached and read."""
    keys = draw(
        st.lists(
            st.tuples(st.sampled_from(NAMES[:2]), st.integers(1, 3)),
            unique=True,
            max_size=3,
        )
    )
    rows = []
    for name, version in keys:
        card = draw(cards)
        if isinstance(card, dict) and not draw(rarely()):
            card = {**card, "name": name, "version": version}
        body = card_bytes(card) if _jsonable(card) else b"{}"
        row = {
            "name": name,
            "version": version,
            "kind": "model",
            "dir": f"{name}/{version}",
            "card_sha256": sha256_bytes(body),
        }
        if draw(rarely()):
            spoil = draw(st.sampled_from(["body", "drop", *row]))
            if spoil == "body":
                body = draw(st.binary(max_size=40) | st.just(deeply_nested(50_000).encode()))
            elif spoil == "drop":
                del row[draw(st.sampled_from(list(row)))]
            else:
                row[spoil] = draw(st.sampled_from(NAMES) | json_values)
        rows.append((row, body, (name, version)))
    top = draw(
        mostly(
            st.fixed_dictionaries(
                {"format": mostly(st.just(1), json_values)},
                optional={
                    "retired": mostly(
                        st.lists(
                            st.fixed_dictionaries(
                                {"name": st.sampled_from(NAMES[:2]), "version": st.integers(1, 5)}
                            ),
                            max_size=2,
                        ),
                        st.lists(json_values, max_size=2) | json_values,
                    )
                },
            ),
            st.dictionaries(short_texts, json_values, max_size=2),
        )
    )
    return {"top": top, "rows": rows}


def _jsonable(card) -> bool:
    try:
        card_bytes(card)
    except (ValueError, TypeError):
        return False
    return True


def write_registry(tmp, spec: dict, raw: bytes | None):
    root = tmp / "deep" / "registry"
    root.mkdir(parents=True)
    for _, body, (name, version) in spec["rows"]:
        (root / name / str(version)).mkdir(parents=True)
        (root / name / str(version) / "card.json").write_bytes(body)
    # a card outside the registry that a forged dir would reach
    bait = tmp / "deep" / "bait" / "1"
    bait.mkdir(parents=True)
    (bait / "card.json").write_bytes(card_bytes({"name": "../bait", "version": 1}))
    (root / "a").mkdir(exist_ok=True)
    catalogue = root / "catalogue.json"
    if raw is not None:
        catalogue.write_bytes(raw)
    else:
        doc = {**spec["top"], "entries": [row for row, _, _ in spec["rows"]]}
        catalogue.write_text(json.dumps(doc, default=str), encoding="utf-8")
    return root


def run_registry(root, refs) -> None:
    reg = Registry(root)
    where = str(root)
    try:
        reg.check_catalogue()
    except RegistryError as exc:
        assert where in str(exc) and "\n" not in str(exc), str(exc)
    for kind in (None, "model"):
        try:
            listed = reg.list(kind)
        except RegistryError as exc:
            assert where in str(exc) and "\n" not in str(exc), str(exc)
            continue
        event(f"list({kind}) gave {min(len(listed), 2)}+ cards")
        for card in listed:
            check_name(card["name"])  # never a card from outside the registry
            assert isinstance(card["version"], int) and card["version"] >= 1
            assert kind is None or card.get("kind") == kind
            row = summary(card)  # what `pairzoo registry ls` prints
            assert row["name"] == card["name"]
            try:  # the entry's files were never written: each check must say so by path
                reg.check_files(card)
                if card.get("onnx"):
                    reg.read_file(card)
            except RegistryError as exc:
                assert where in str(exc) and "\n" not in str(exc), str(exc)
    try:  # `pairzoo registry verify`: a report of problems, whatever it finds
        report = reg.verify()
        assert all(isinstance(p.detail, str) for p in report.problems)
    except RegistryError as exc:
        assert where in str(exc) and "\n" not in str(exc), str(exc)
    for ref in refs:
        try:
            card = reg.resolve(ref)
        except RegistryError as exc:
            assert where in str(exc) and "\n" not in str(exc), str(exc)
            continue
        event("resolve gave a card")
        check_name(card["name"])
        assert ref.split("@")[0] == card["name"]
        reg.entry_dir(card)


refs = st.lists(
    st.sampled_from(["tiny", "tiny@1", "tiny@2", "b.2", "b.2@3", "nobody", "tiny@9"]), max_size=3
)


@given(registries(), refs)
def test_catalogue_and_cards(spec, wanted):
    with workdir() as tmp:
        run_registry(write_registry(tmp, spec, None), wanted)


@given(
    st.one_of(
        st.binary(max_size=60),
        json_values.map(lambda v: json.dumps(v).encode()),
        st.sampled_from(
            [
                deeply_nested(100_000).encode(),
                b'{"format": 1, "entries": [], "n": ' + b"9" * 5000 + b"}",
                b'{"format": 1, "entries": [], "retired": [1, "x", null]}',
                b"\xef\xbb\xbf{}",
                b'{"format": 1, "entries": [{"name": "a/../../bait", "version": 1, "kind": '
                b'"model", "dir": "a/../../bait/1", "card_sha256": "x"}]}',
            ]
        ),
    ),
    refs,
)
@example(b'{"format": 1, "entries": [], "retired": [1]}', ["tiny@2"])
def test_catalogue_bytes(raw, wanted):
    with workdir() as tmp:
        run_registry(write_registry(tmp, {"top": {}, "rows": []}, raw), wanted)
