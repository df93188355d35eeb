"""Builtin architectures, one module per family: baseline, resnet, fpn, improved_v2."""

from pairzoo.hookspecs import hookimpl

from . import baseline, fpn, improved_v2, resnet

ARCHITECTURES = {
    "baseline": (baseline.baseline, baseline.DEFAULTS, "small 3-conv CNN tower"),
    "resnet": (
        resnet.resnet,
        resnet.DEFAULTS,
        "ResNet tower without early downsampling (basic or bottleneck blocks, SE/CBAM attention)",
    ),
    "fpn": (fpn.fpn, fpn.DEFAULTS, "ResNet tower with a top-down feature pyramid over every stage"),
    "improved_v2": (
        improved_v2.improved_v2,
        improved_v2.DEFAULTS,
        "the original's stage-1 model: ResNet tower with CBAM, six fusion heads mixed adaptively",
    ),
}


# `pairzoo tune` searches the width from half to twice the run's.
TUNABLE = {"width_mult": {"scale": 2}}


@hookimpl
def register_architectures(register):
    for name, (factory, params, description) in ARCHITECTURES.items():
        register(name, factory, params=params, description=description, tunable=TUNABLE)
