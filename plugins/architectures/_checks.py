"""Parameter checks shared by the builtin architectures: each error names the parameter."""

from .blocks import ATTENTIONS, BLOCKS

MAX_STAGES = 5  # 28 -> 14 -> 7 -> 4 -> 2


def check_layers(layers) -> list[int]:
    if (
        not isinstance(layers, list | tuple)
        or not 1 <= len(layers) <= MAX_STAGES
        or not all(isinstance(n, int) and not isinstance(n, bool) and n >= 1 for n in layers)
    ):
        raise ValueError(
            f"layers must be a list of 1 to {MAX_STAGES} positive block counts, got {layers!r}"
        )
    return list(layers)


def check_width(width_mult) -> float:
    if not width_mult > 0:
        raise ValueError(f"width_mult must be positive, got {width_mult!r}")
    return float(width_mult)


def check_feat_dim(feat_dim) -> int:
    if not isinstance(feat_dim, int) or feat_dim < 1:
        raise ValueError(f"feat_dim must be a positive int, got {feat_dim!r}")
    return feat_dim


def check_choice(param: str, value, choices) -> str:
    if value not in choices:
        raise ValueError(f"{param} must be {' or '.join(choices)}, got {value!r}")
    return value


def check_block(block) -> str:
    return check_choice("block", block, BLOCKS)


def check_attention(attention) -> str:
    return check_choice("attention", attention, ATTENTIONS)


def scaled(channels: int, width_mult: float) -> int:
    return max(4, int(round(channels * width_mult)))
