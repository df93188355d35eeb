"""The learning-curve PNGs: drawn once, drawn again exactly when what they show changes."""

from PIL import Image

from pairzoo.zoo.curves import DIGEST_KEY, MODEL_PNG, ZOO_PNG, write_curves
from pairzoo.zoo.runner import ModelOutcome


def _outcome(tmp_path, name, val=0.6):
    history = [
        {"epoch": e, "train_accuracy": 0.5 + 0.1 * e, "val_accuracy": val, "train_loss": 0.7,
         "val_loss": 0.69, "seconds": 1.0 + e}
        for e in (1, 2)
    ]  # fmt: skip
    return ModelOutcome(name, 1, "", tmp_path / name, status="trained", history=history)


def _stamps(tmp_path, names):
    paths = [tmp_path / ZOO_PNG, *(tmp_path / n / MODEL_PNG for n in names)]
    return [p.stat().st_mtime_ns for p in paths]


def test_a_rerun_with_the_same_curves_draws_nothing_and_a_change_redraws_what_shows_it(tmp_path):
    models = [_outcome(tmp_path, "a"), _outcome(tmp_path, "b")]
    written = write_curves(models, tmp_path, 0.55)
    assert written == {"zoo": ZOO_PNG, "a": f"a/{MODEL_PNG}", "b": f"b/{MODEL_PNG}"}
    with Image.open(tmp_path / "a" / MODEL_PNG) as image:
        assert image.format == "PNG" and len(image.text[DIGEST_KEY]) == 64
    first = _stamps(tmp_path, "ab")

    # a field the figures do not show (seconds) changes nothing
    models[0].history[0]["seconds"] = 99.0
    assert write_curves(models, tmp_path, 0.55) == written
    assert _stamps(tmp_path, "ab") == first

    # b's val accuracy changes: b's figure and the zoo's are drawn again, a's is kept
    models[1] = _outcome(tmp_path, "b", val=0.7)
    write_curves(models, tmp_path, 0.55)
    zoo, a, b = _stamps(tmp_path, "ab")
    assert a == first[1] and zoo != first[0] and b != first[2]

    # a damaged PNG is drawn again
    damaged = tmp_path / "a" / MODEL_PNG
    damaged.write_bytes(b"not a png")
    write_curves(models, tmp_path, 0.55)
    with Image.open(damaged) as image:
        assert image.format == "PNG" and DIGEST_KEY in image.text
    assert _stamps(tmp_path, "ab")[::2] == [zoo, b]


def test_another_floor_is_drawn_again(tmp_path):
    models = [_outcome(tmp_path, "a")]
    write_curves(models, tmp_path, 0.55)
    first = _stamps(tmp_path, "a")
    write_curves(models, tmp_path, 0.6)
    assert all(new != old for new, old in zip(_stamps(tmp_path, "a"), first, strict=True))
