"""`pairzoo data compare A B`: a realism report, registered on the `data` group.

Only click is imported at module level; numpy, torch and matplotlib load inside the command.
"""

from __future__ import annotations

import json

import click


@click.command("compare")
@click.argument("a", type=click.Path())
@click.argument("b", type=click.Path())
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON instead of tables")
@click.option(
    "--out",
    type=click.Path(file_okay=False),
    help="Directory to write typical.png, random.png and report.json into",
)
@click.option(
    "--seed",
    default=0,
    show_default=True,
    type=click.IntRange(min=0),
    help="Random seed of the two-sample test and the figures; equal seeds give equal reports",
)
@click.option(
    "--folds",
    type=click.IntRange(min=2),
    help="Cross-fitting folds of the two-sample test (default 10: each model learns from 90%)",
)
@click.option(
    "--repeats",
    type=click.IntRange(min=1),
    help="Splits and model seeds per detector, averaged, their spread shown (default 2)",
)
def compare(a, b, as_json, out, seed, **given) -> None:
    """How well the digit images of B stand in for A's: statistics and a classifier test.

    A and B are pair files or data directories (their test_public.npz). A classifier accuracy
    near 50% means neither detector (a small CNN on the pixels, gradient boosting on per-image
    statistics) can tell the two apart; the exit code is 0 whatever it finds. About 4.5
    CPU-minutes on one core for 572 pairs a side (mostly the CNN's 10 folds x 2 repeats).
    """
    import dataclasses
    from pathlib import Path

    from pairzoo.data import realism
    from pairzoo.data.format import load_split, split_path

    chosen = {k: v for k, v in given.items() if v is not None}  # --folds, --repeats
    settings = dataclasses.replace(realism.DEFAULT_SETTINGS, **chosen)
    splits = [load_split(split_path(p, "test_public") if Path(p).is_dir() else p) for p in (a, b)]
    report, result = realism.realism_report(*splits, seed=seed, settings=settings)
    report["commit"] = _commit()
    text = json.dumps(report, indent=2, sort_keys=True)
    if as_json:
        click.echo(text)
    else:
        _print_tables(report)
    if out is not None:
        _write_out(Path(out), text, result, splits, seed)
        click.echo(f"wrote typical.png, random.png and report.json to {out}", err=as_json)


def _commit() -> str:
    """The commit of the pairzoo that measured, where it runs from a git checkout."""
    from pathlib import Path

    from pairzoo.results.records import current_commit

    return current_commit(Path(__file__).resolve().parents[2])


def _write_out(out, text, result, splits, seed) -> None:
    from pairzoo.atomic import write_text
    from pairzoo.data.compare_figures import render_random, render_typical
    from pairzoo.data.stats import digit_images

    names = tuple(str(s.path) for s in splits)
    render_typical(result, names, out / "typical.png")
    render_random(*(digit_images(s.x) for s in splits), names, out / "random.png", seed)
    write_text(out / "report.json", text + "\n")


def _print_tables(report: dict) -> None:
    for side in ("a", "b"):
        r = report[side]
        click.echo(f"{side.upper()}: {r['path']}, {r['pairs']} pairs ({r['images']} digit images)")
    click.echo(f"\n{'statistic':52} {'original':>9} {'A':>9} {'B':>9} {'B vs A':>7}")
    for row in report["seed_summary"]:
        rel = "" if row["b_vs_a"] is None else f"{row['b_vs_a']:+7.1%}"
        click.echo(
            f"{row['label'] + ', ' + row['key']:52} {row['original']:9.4g} "
            f"{_num(row['a'])} {_num(row['b'])} {rel:>7}"
        )
    click.echo(
        f"\n{'separating statistic':72} {'A median':>9} {'B median':>9} {'A mean':>9} "
        f"{'B mean':>9} {'KS':>6}"
    )
    for row in report["separating"]:
        a, b, ks = row["a"], row["b"], row["ks"]["statistic"]
        click.echo(
            f"{row['label']:72} {_num(a['median'])} {_num(b['median'])} {_num(a['mean'])} "
            f"{_num(b['mean'])} {'-' if ks is None else f'{ks:.3f}':>6}"
        )
    st = report["settings"]
    click.echo(
        f"\nclassifier two-sample test (seed {report['seed']}, {st['folds']}-fold cross-fitting, "
        f"{st['repeats']} repeats; 50% means indistinguishable)"
    )
    for name, t in report["two_sample"].items():
        low, high = t["accuracy_spread"]
        click.echo(
            f"  {name:9} {t['n_per_side']} images per side: accuracy {t['accuracy']:.1%} "
            f"(repeats {low:.1%}-{high:.1%}; 95% CI {t['accuracy_ci95'][0]:.1%}-"
            f"{t['accuracy_ci95'][1]:.1%}), ROC-AUC {t['roc_auc']:.3f}, p = {t['pvalue']:.2g}"
        )
    v = report["verdict"]
    click.echo(
        f"  verdict: {v['detector']}, accuracy {v['accuracy']:.1%}, p = {v['pvalue']:.2g} "
        "(the stronger detector; p doubled for picking it)"
    )
    print_importance(report["what_tells_them_apart"], title="what tells them apart")
    click.echo("\nlearning curve (images per side: accuracy of each detector)")
    for row in report["learning_curve"]:
        cells = "  ".join(
            f"{name} {'-' if row[name] is None else f'{row[name]:.1%}'}"
            for name in report["two_sample"]
        )
        click.echo(f"  {row['fraction']:>5.0%} {row['n_per_side']:>6}: {cells}")


def print_importance(importance: dict, title: str, shown: int = 8) -> None:
    """The statistics the features detector leans on most; `data fit` prints them too."""
    click.echo(
        f"\n{title} ({importance['detector']} detector: {importance['measure']}; "
        "10th, 50th and 90th percentiles)"
    )
    for row in importance["rows"][:shown]:
        a, b = (_percentiles(row[side]) for side in ("a", "b"))
        click.echo(f"  {row['feature']:22} {row['importance']:+6.1%}  A {a}  B {b}")


def _percentiles(values) -> str:
    return "-" if values is None else " ".join(f"{v:.3g}" for v in values)


def _num(value) -> str:
    return f"{'-':>9}" if value is None else f"{value:9.4g}"
