"""A user's config made complete: plugin parameters filled in, rule and data fixed, provenance kept."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pairzoo import __version__
from pairzoo.catalog import Registered, resolve_params
from pairzoo.data.meta import data_fingerprint, read_meta, sha256_file
from pairzoo.data.rules import DEFAULT_RULE
from pairzoo.errors import ConfigError
from pairzoo.plugins import catalog
from pairzoo.train.config import validate
from pairzoo.train.warm_start import weights_file


def resolve_config(config: dict[str, Any], out_dir: str | Path | None = None) -> dict[str, Any]:
    """Validated config with full plugin params, the label rule, data fingerprint and provenance.

    Raises ConfigError (bad values), PluginError (unknown names) or DataError (unreadable data).
    """
    cfg = validate(config)
    if not cfg["name"] and out_dir is not None:
        cfg["name"] = Path(out_dir).resolve().name
    cat = catalog()
    arch = cat.get("architectures", cfg["arch"])
    cfg["arch_params"] = resolve_params(arch, cfg["arch_params"])
    heads = [cat.get("fusion_heads", name) for name in _head_names(cfg["arch_params"])]
    loss = cat.get("losses", cfg["loss"])
    cfg["loss_params"] = _smoothing_into_loss(
        resolve_params(loss, cfg["loss_params"]), cfg["train"]
    )
    cfg["rule"] = cfg["rule"] or data_rule(cfg["data"])
    rule = cat.get("label_rules", cfg["rule"])
    cfg["arch_params"] = _pair_prior_into_heads(cfg["arch_params"], heads, cfg)
    cfg["data_fingerprint"] = data_fingerprint(cfg["data"])
    if cfg["train"]["init_from"]:
        cfg["init_sha256"] = sha256_file(weights_file(cfg["train"]["init_from"]))
    cfg["provenance"] = {
        "pairzoo": __version__,
        "arch": _origin(arch),
        "heads": [_origin(h) for h in heads],
        "loss": _origin(loss),
        "rule": _origin(rule),
    }
    return cfg


def loss_params_from_train(train: dict[str, Any]) -> dict[str, Any]:
    """The loss parameters a config's train table sets: ``train.label_smoothing`` (when not 0)
    is the loss's ``label_smoothing``, kept in the train table for the files that hold it."""
    return {"label_smoothing": train["label_smoothing"]} if train["label_smoothing"] else {}


def _smoothing_into_loss(loss_params: dict[str, Any], train: dict[str, Any]) -> dict[str, Any]:
    # A loss that smooths its own targets gets train.label_smoothing as its parameter; a loss
    # without one is given smoothed targets (see build_run_loss).
    smoothing = loss_params_from_train(train).get("label_smoothing")
    if "label_smoothing" not in loss_params or not smoothing:
        return loss_params
    given = loss_params["label_smoothing"]
    if given and given != smoothing:
        raise ConfigError(
            f"label smoothing given twice with different values: train.label_smoothing {smoothing} "
            f"and loss parameter label_smoothing {given}; give one"
        )
    return {**loss_params, "label_smoothing": smoothing}


def data_rule(data_dir: str | Path) -> str:
    """The label rule named in the data's meta.json; DEFAULT_RULE when it names none."""
    return str(_meta_or_none(data_dir).get("rule") or DEFAULT_RULE)


def _meta_or_none(data_dir: str | Path) -> dict[str, Any]:
    """The data's meta.json, or {} for data without one (a user's own files)."""
    return read_meta(data_dir) if (Path(data_dir) / "meta.json").exists() else {}


def _pair_prior_into_heads(
    arch_params: dict[str, Any], heads: list[Registered], cfg: dict[str, Any]
) -> dict[str, Any]:
    """A head that combines digit posteriors through the pair prior (``uses_pair_prior = True``) gets
    the run's label rule and the data's adjacency share, unless the config gives them."""
    wanting = [h for h in heads if getattr(h.obj, "uses_pair_prior", False) is True]
    if not wanting:
        return arch_params
    if "head_params" not in arch_params:
        raise ConfigError(
            f"architecture '{cfg['arch']}' takes no head_params, which fusion head "
            f"'{wanting[0].name}' needs for the data's pair prior"
        )
    given = arch_params["head_params"] or {}
    if not isinstance(given, dict):
        raise ConfigError(
            f"arch_params.head_params is {given!r:.60}, expected a table of head name -> params"
        )
    filled = dict(given)
    for head in wanting:
        data = {"rule": cfg["rule"], "adjacent": data_adjacent(cfg["data"], head.params)}
        filled[head.name] = {**data, **dict(given.get(head.name) or {})}
    return {**arch_params, "head_params": filled}


def data_adjacent(data_dir: str | Path, defaults: dict[str, Any]) -> float:
    """The adjacency share in the data's meta.json; the head's default for data without one."""
    value = _meta_or_none(data_dir).get("adjacent", defaults.get("adjacent"))
    if isinstance(value, bool) or not isinstance(value, int | float) or not 0 <= value <= 1:
        raise ConfigError(
            f"{Path(data_dir) / 'meta.json'}: key 'adjacent' is {value!r:.40}, expected a share "
            "in [0, 1]"
        )
    return float(value)


def _head_names(arch_params: dict[str, Any]) -> list[str]:
    heads = arch_params.get("heads")
    if isinstance(heads, str):
        heads = [h.strip() for h in heads.split(",") if h.strip()]
    return [h for h in heads or [] if isinstance(h, str)]


def _origin(item: Registered) -> dict[str, str]:
    return {"name": item.name, "plugin": item.plugin, "version": item.plugin_version}
