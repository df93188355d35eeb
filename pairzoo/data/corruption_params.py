"""Corruption parameters as data: a TOML file of the severity-6 figures, scaled by severity.

The default file (`corruption.toml` beside this module) is the one fitted to the original task;
`pairzoo data make --corruption FILE` takes a user's own. Every key is checked: a wrong type,
range or unknown key is one ConfigError naming the file and the key.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pairzoo.errors import ConfigError
from pairzoo.tomlfile import read_toml

__all__ = [
    "DEFAULT_CORRUPTION",
    "MAX_SEVERITY",
    "CorruptionParams",
    "corruption_from_raw",
    "RectGroup",
    "load_corruption",
    "scaled",
]

MAX_SEVERITY = 10.0
REFERENCE_SEVERITY = 6.0  # the severity a corruption file describes
DEFAULT_CORRUPTION = Path(__file__).with_name("corruption.toml")


@dataclass(frozen=True)
class RectGroup:
    minimum: int  # rectangles per image: minimum + Binomial(*extra)
    extra: tuple[int, float]
    size: tuple[int, int]  # side length range, px, drawn per side
    centre: tuple[float, float]  # centre range, as a fraction of the image side
    angle_deg: float = 0.0  # each rectangle rotated uniformly in +-angle_deg about its centre
    parts: tuple[int, float] = (0, 0.0)  # rectangles added to each: Binomial(*parts) ...
    spread: float = 0.0  # ... each centred within +-spread px (each axis) of the first's centre
    anchor: float = 0.5  # the point `centre` places, as a fraction of each side: 0 the top-left


@dataclass(frozen=True)
class CorruptionParams:
    rotation_deg: float  # rotation uniform in +-rotation_deg
    scale: tuple[float, float]  # zoom factor range
    shift_px: float  # standard deviation of a normal shift, each axis
    offset_px: tuple[float, float]  # its mean (rows, columns), px: where the digits sit
    elastic_alpha: float  # standard deviation of a smooth random displacement, px
    elastic_sigma: float  # its smoothness (Gaussian sigma of the field), px
    gain: tuple[float, float]  # stroke contrast gain range (uniform)
    background: tuple[float, float]  # background level range, grey levels
    noise_std: float  # white noise, grey levels
    noise_blur: float  # sigma that smooths the noise alone, before the image blur
    blur_sigma: tuple[float, ...]  # blur sigmas, one drawn per image
    rects: tuple[RectGroup, ...]  # occlusion rectangles, exactly 0
    line_count: tuple[int, float]  # Binomial(n, p) lines per image
    line_length: tuple[float, float]  # px
    gamma: tuple[float, float] | None = None  # stroke gamma range: 255 (d / 255) ** g per image


@dataclass(frozen=True)
class CorruptionFile:
    path: str
    sha256: str
    params: CorruptionParams  # at REFERENCE_SEVERITY
    raw: dict[str, Any]  # the file's content, as recorded in meta.json


def load_corruption(path: str | Path | None = None) -> CorruptionFile:
    """Read and check a corruption file (default: the shipped one); ConfigError naming file, key."""
    path = Path(path) if path is not None else DEFAULT_CORRUPTION
    raw = read_toml(path, "corruption file")
    params = corruption_from_raw(raw, str(path))
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    return CorruptionFile(str(path), digest, params, raw)


def corruption_from_raw(raw: dict[str, Any], where: str) -> CorruptionParams:
    """The checked parameters of a corruption file's content (or of meta.json's copy of it)."""
    _known(raw, ("format", "affine", "intensity", "rects", "lines"), where, "")
    if raw.get("format", 1) != 1 or isinstance(raw.get("format"), bool):
        raise ConfigError(f"{where}: key 'format' is {raw['format']!r}, expected 1")
    affine = _table(
        raw,
        "affine",
        where,
        ("rotation_deg", "scale", "shift_px", "offset_px", "elastic_alpha", "elastic_sigma"),
    )
    intensity = _table(
        raw,
        "intensity",
        where,
        ("gain", "background", "noise_std", "noise_blur", "blur_sigma", "gamma"),
    )
    lines = _table(raw, "lines", where, ("count", "probability", "length"))
    groups = raw.get("rects", [])
    if not isinstance(groups, list) or not all(isinstance(g, dict) for g in groups):
        raise ConfigError(f"{where}: key 'rects' must be an array of tables ([[rects]])")
    params = CorruptionParams(
        rotation_deg=_number(affine, "affine.rotation_deg", where, 0, 180),
        scale=_pair(affine, "affine.scale", where, 0.2, 5),
        shift_px=_number(affine, "affine.shift_px", where, 0, 14),
        offset_px=_offset(affine, "affine.offset_px", where),
        elastic_alpha=_number(affine, "affine.elastic_alpha", where, 0, 5, default=0.0),
        elastic_sigma=_number(affine, "affine.elastic_sigma", where, 0.5, 10, default=4.0),
        gain=_pair(intensity, "intensity.gain", where, 0, 5),
        background=_pair(intensity, "intensity.background", where, 0, 255),
        noise_std=_number(intensity, "intensity.noise_std", where, 0, 255),
        noise_blur=_number(intensity, "intensity.noise_blur", where, 0, 5, default=0.0),
        blur_sigma=_sigmas(intensity, "intensity.blur_sigma", where),
        rects=tuple(_rect_group(g, f"rects[{i}]", where) for i, g in enumerate(groups)),
        line_count=(
            _integer(lines, "lines.count", where, 0, 20),
            _number(lines, "lines.probability", where, 0, 1),
        ),
        line_length=_pair(lines, "lines.length", where, 0, 60),
        gamma=_pair(intensity, "intensity.gamma", where, 0.2, 5) if "gamma" in intensity else None,
    )
    return params


def scaled(base: CorruptionParams, severity: float) -> CorruptionParams:
    """`base` (the severity-6 figures) at `severity` (0 < severity <= MAX_SEVERITY)."""
    if not 0 < severity <= MAX_SEVERITY:
        raise ValueError(f"severity {severity} is outside (0, {MAX_SEVERITY:g}]")
    k = severity / REFERENCE_SEVERITY
    lo, hi = base.scale
    return CorruptionParams(
        rotation_deg=base.rotation_deg * k,
        scale=(1.0 - (1.0 - lo) * k, 1.0 + (hi - 1.0) * k),
        shift_px=base.shift_px * k,
        offset_px=(base.offset_px[0] * k, base.offset_px[1] * k),
        elastic_alpha=base.elastic_alpha * k,
        elastic_sigma=base.elastic_sigma,
        gain=(max(0.1, 1.0 - (1.0 - base.gain[0]) * k), base.gain[1]),
        background=(base.background[0] * k, base.background[1] * k),
        noise_std=base.noise_std * k,
        noise_blur=base.noise_blur,
        blur_sigma=tuple(s * k**0.5 for s in base.blur_sigma),
        rects=tuple(
            RectGroup(
                g.minimum,
                (g.extra[0], min(1.0, g.extra[1] * k)),
                _sides(g.size[0] * k, g.size[1] * k, g.size),
                g.centre,
                g.angle_deg,
                g.parts,
                g.spread,
                g.anchor,
            )
            for g in base.rects
        ),
        line_count=(base.line_count[0], min(1.0, base.line_count[1] * k)),
        line_length=base.line_length,
        gamma=None
        if base.gamma is None
        else tuple(max(0.2, 1.0 - (1.0 - g) * k) for g in base.gamma),
    )


def _sides(low: float, high: float, given: tuple[int, int]) -> tuple[int, int]:
    """A group's side range at another severity: at most a sixth longer than the file's longest
    side, the shortest at most half that cap or the file's own, whichever is more (so severity 6
    is the file as written)."""
    cap = given[1] + given[1] // 6
    return min(max(cap // 2, given[0]), max(2, round(low))), min(cap, max(3, round(high)))


def _rect_group(table: dict, key: str, where: str) -> RectGroup:
    _known(
        table,
        (
            "minimum",
            "extra",
            "probability",
            "size",
            "centre",
            "angle_deg",
            "parts",
            "part_probability",
            "spread",
            "anchor",
        ),
        where,
        key + ".",
    )
    size = _pair(table, f"{key}.size", where, 1, 28)
    centre = _pair(table, f"{key}.centre", where, 0, 1)
    return RectGroup(
        minimum=_integer(table, f"{key}.minimum", where, 0, 10),
        extra=(
            _integer(table, f"{key}.extra", where, 0, 10),
            _number(table, f"{key}.probability", where, 0, 1),
        ),
        size=(round(size[0]), round(size[1])),
        centre=centre,
        angle_deg=_number(table, f"{key}.angle_deg", where, 0, 90, default=0.0),
        parts=(
            _integer(table, f"{key}.parts", where, 0, 6, default=0),
            _number(table, f"{key}.part_probability", where, 0, 1, default=0.0),
        ),
        spread=_number(table, f"{key}.spread", where, 0, 28, default=0.0),
        anchor=_number(table, f"{key}.anchor", where, 0, 1, default=0.5),
    )


def _table(raw: dict, name: str, where: str, keys: tuple[str, ...]) -> dict:
    table = raw.get(name)
    if not isinstance(table, dict):
        raise ConfigError(f"{where}: key '{name}' must be a table ([{name}])")
    _known(table, keys, where, name + ".")
    return table


def _known(table: dict, keys: tuple[str, ...], where: str, prefix: str) -> None:
    for key in table:
        if key not in keys:
            raise ConfigError(
                f"{where}: unknown key '{prefix}{key}' (known: {', '.join(prefix + k for k in keys)})"
            )


def _value(table: dict, key: str, where: str, default=None):
    name = key.rsplit(".", 1)[-1]
    if name not in table:
        if default is not None:
            return default
        raise ConfigError(f"{where}: key '{key}' is missing")
    return table[name]


def _is_number(value) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and value == value


def _number(table, key, where, low, high, default=None) -> float:
    value = _value(table, key, where, default)
    if not _is_number(value) or not low <= value <= high:
        raise ConfigError(f"{where}: key '{key}' is {value!r}, expected a number in {low}-{high}")
    return float(value)


def _integer(table, key, where, low, high, default=None) -> int:
    value = _value(table, key, where, default)
    if not isinstance(value, int) or isinstance(value, bool) or not low <= value <= high:
        raise ConfigError(
            f"{where}: key '{key}' is {value!r}, expected a whole number in {low}-{high}"
        )
    return value


def _pair(table, key, where, low, high) -> tuple[float, float]:
    value = _value(table, key, where)
    if (
        not isinstance(value, list)
        or len(value) != 2
        or not all(_is_number(v) and low <= v <= high for v in value)
        or value[0] > value[1]
    ):
        raise ConfigError(
            f"{where}: key '{key}' is {value!r}, expected [low, high] with {low} <= low <= high <= {high}"
        )
    return float(value[0]), float(value[1])


def _offset(table, key, where) -> tuple[float, float]:
    value = table.get(key.rsplit(".", 1)[-1], [0.0, 0.0])
    if (
        not isinstance(value, list)
        or len(value) != 2
        or not all(_is_number(v) and -7 <= v <= 7 for v in value)
    ):
        raise ConfigError(
            f"{where}: key '{key}' is {value!r}, expected [rows, columns] in px, each in -7..7"
        )
    return float(value[0]), float(value[1])


def _sigmas(table, key, where) -> tuple[float, ...]:
    value = _value(table, key, where)
    if (
        not isinstance(value, list)
        or not value
        or not all(_is_number(v) and 0 <= v <= 5 for v in value)
    ):
        raise ConfigError(
            f"{where}: key '{key}' is {value!r}, expected a non-empty list of sigmas in 0-5"
        )
    return tuple(float(v) for v in value)
