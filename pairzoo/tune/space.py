"""The search space: dimensions derived from a run config's registered parameters.

Derivation, from the base config (defaults filled in, command-line values applied), so that any
plugin's architecture or loss gets a space without naming it here:

- ``train.lr`` and ``train.weight_decay``: log-uniform from a tenth to ten times the base value
  (weight decay only when the base is above 0).
- ``arch.P`` and ``loss.P`` for a parameter its plugin declared tunable when it registered it
  (``register(..., tunable={"P": spec})``): ``{"scale": k}`` is log-uniform from the base value
  over k to k times it (an integer range for an integer default; the builtin architectures
  declare ``width_mult`` so, with k = 2); ``{"low": a, "high": b, "log": False}`` is that range,
  widened to hold the base value (the builtin losses declare ``label_smoothing`` in [0, 0.2]).
- ``arch.P`` for a parameter whose default is a list of registered fusion-head names (a
  heads-like parameter): a choice among subsets of the base list, kept in its order: every
  non-empty subset for up to three heads, else each single head and each prefix; only the
  subsets the architecture accepts with the other parameters as they are (an antisymmetric
  tower refuses heads that are all symmetric), so no trial is spent on a refused config.
- any other positive float loss parameter ``v``: log-uniform in [v/2, 2v], or uniform in
  [v/2, 1] when ``v <= 1`` (a weight or a probability). A loss parameter that the config's
  train table sets (``train.label_smoothing``) is not searched: the two would clash.

A space file (`spacefile.py`) adds, narrows, fixes or drops dimensions.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from pairzoo.errors import PairzooError
from pairzoo.plugins import build_architecture
from pairzoo.train.resolve import loss_params_from_train

if TYPE_CHECKING:
    from pairzoo.train.runconfig import RunConfig

SECTIONS = {"train": "train", "arch": "arch_params", "loss": "loss_params"}


@dataclass(frozen=True)
class Dim:
    """One searched parameter: a numeric range (``low``..``high``) or ``choices``."""

    key: str  # "train.lr", "arch.width_mult", "loss.gamma"
    low: float | int | None = None
    high: float | int | None = None
    log: bool = False
    integer: bool = False
    choices: tuple = field(default_factory=tuple)

    @property
    def kind(self) -> str:
        return "choice" if self.choices else ("int" if self.integer else "float")

    def labels(self) -> list:
        return [label(c) for c in self.choices]

    def suggest(self, trial) -> Any:
        if self.choices:
            picked = trial.suggest_categorical(self.key, self.labels())
            return self.choices[self.labels().index(picked)]
        if self.integer:
            return trial.suggest_int(self.key, int(self.low), int(self.high), log=self.log)
        return trial.suggest_float(self.key, float(self.low), float(self.high), log=self.log)

    def param_of(self, value: Any) -> Any:
        """The Optuna parameter for config value `value`, or None if the space does not hold it."""
        if self.choices:
            lab = label(value)
            return lab if lab in self.labels() else None
        if isinstance(value, bool) or not isinstance(value, int | float):
            return None
        if not self.low <= value <= self.high:
            return None
        return int(value) if self.integer else float(value)

    def describe(self) -> dict[str, Any]:
        if self.choices:
            return {"key": self.key, "kind": "choice", "choices": self.labels()}
        return {
            "key": self.key,
            "kind": self.kind,
            "low": self.low,
            "high": self.high,
            "log": self.log,
        }


def label(value: Any) -> Any:
    """A choice as Optuna stores it: scalars as they are, lists joined with commas."""
    if isinstance(value, list | tuple):
        return ",".join(str(v) for v in value)
    return value


def split_key(key: str) -> tuple[str, str]:
    section, _, name = key.partition(".")
    return SECTIONS[section], name


def apply_params(config: dict[str, Any], values: dict[str, Any]) -> dict[str, Any]:
    """`config` (a user config dict) with each ``section.name`` value set; returns a new dict."""
    import json

    out = json.loads(json.dumps(config))
    for key, value in values.items():
        section, name = split_key(key)
        out.setdefault(section, {})[name] = value
    return out


def derive_space(cfg: RunConfig, catalog) -> list[Dim]:
    """Dimensions for resolved config `cfg` (see the module docstring for the rules)."""
    t = cfg.train
    dims = [Dim("train.lr", t.lr / 10, t.lr * 10, log=True)]
    if t.weight_decay > 0:
        dims.append(Dim("train.weight_decay", t.weight_decay / 10, t.weight_decay * 10, True))
    arch = catalog.architectures[cfg.model.arch]
    heads = set(catalog.fusion_heads)
    for name, default in arch.params.items():
        value = cfg.model.params.get(name, default)
        dim = _declared(f"arch.{name}", arch.tunable.get(name), default, value)
        dim = dim or _arch_dim(name, default, value, heads)
        if dim is not None and dim.choices:
            dim = _accepted(dim, cfg, name)
        if dim is not None:
            dims.append(dim)
    loss = catalog.losses[cfg.loss.name]
    fixed = loss_params_from_train(t.to_dict())
    for name, default in loss.params.items():
        value = cfg.loss.params.get(name, default)
        if name in fixed:
            continue
        spec = loss.tunable.get(name)
        dim = (
            _declared(f"loss.{name}", spec, default, value)
            if spec
            else _loss_dim(name, default, value)
        )
        if dim is not None:
            dims.append(dim)
    return dims


def _declared(key: str, spec: dict | None, default: Any, value: Any) -> Dim | None:
    """The dimension a plugin declared for a parameter (see the module docstring)."""
    if spec is None or not _number(value):
        return None
    integer = isinstance(default, int)
    if "scale" in spec:
        k = spec["scale"]
        if value <= 0:
            return None
        if integer:
            low, high = int(max(1, value // k)), int(max(2, value * k))
            return Dim(key, low, high, log=True, integer=True) if low < high else None
        return Dim(key, value / k, value * k, log=True)
    low, high = min(spec["low"], value), max(spec["high"], value)
    return Dim(key, low, high, log=spec.get("log", False), integer=integer)


def _arch_dim(name: str, default: Any, value: Any, heads: set[str]) -> Dim | None:
    key = f"arch.{name}"
    if _heads_like(default, heads):
        base = [h.strip() for h in value.split(",")] if isinstance(value, str) else list(value)
        if base and all(isinstance(h, str) for h in base):
            return Dim(key, choices=tuple(head_choices(base)))
    return None


def _accepted(dim: Dim, cfg: RunConfig, name: str) -> Dim | None:
    """`dim` keeping the choices the architecture can be built with; None if one or none is left."""
    kept = []
    for choice in dim.choices:
        try:
            build_architecture(cfg.model.arch, {**cfg.model.params, name: choice})
        except (PairzooError, ValueError, TypeError):
            continue
        kept.append(choice)
    return Dim(dim.key, choices=tuple(kept)) if len(kept) > 1 else None


def _loss_dim(name: str, default: Any, value: Any) -> Dim | None:
    key = f"loss.{name}"
    if not isinstance(default, float) or not _number(value):
        return None
    if value <= 0:
        return None
    if value <= 1:
        return Dim(key, value / 2, 1.0)
    return Dim(key, value / 2, value * 2, log=True)


def head_choices(base: list[str]) -> list[list[str]]:
    """Subsets of `base` in its order: all of them up to three heads, else singles and prefixes."""
    if len(base) <= 3:
        subsets = [
            list(c) for r in range(1, len(base) + 1) for c in itertools.combinations(base, r)
        ]
    else:
        subsets = [[h] for h in base] + [base[:r] for r in range(2, len(base) + 1)]
    if base not in subsets:
        subsets.append(list(base))
    return subsets


def _heads_like(default: Any, heads: set[str]) -> bool:
    return (
        isinstance(default, list | tuple)
        and bool(default)
        and all(isinstance(h, str) and h in heads for h in default)
    )


def _number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)
