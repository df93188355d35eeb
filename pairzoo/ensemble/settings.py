"""What `pairzoo ensemble eval` and `ensemble export` are asked to do, as frozen values.

The command line parses its options into one of these; the library entries take
`(registry, settings)` (pairzoo.ensemble.pipeline.run_ensemble_eval,
pairzoo.ensemble.export.export_ensemble).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from pairzoo.ensemble.stacking import StackingParams
from pairzoo.runtime.gate import ONE_FILE_PROBABILITY
from pairzoo.runtime.logits import DEFAULT_BATCH
from pairzoo.runtime.sessions import DEFAULT_THREADS


@dataclass(frozen=True)
class EvalSettings:
    data_dir: str | Path  # val (the meta-learner's folds) and test_public, if there
    out_dir: str | Path  # report.json, report.md, plots, the meta-learner
    models: Sequence[str] | None = None  # NAME[@VERSION] each; None: the latest of every model
    params: StackingParams = field(default_factory=StackingParams)
    name: str = "ensemble"  # of the registry entry
    batch_size: int = DEFAULT_BATCH  # pairs per onnxruntime call
    threads: int = DEFAULT_THREADS  # onnxruntime intra-op threads per member
    register: bool = True
    int8: str = "auto"  # auto | always | never: members with an int8 variant
    runtime: str = "ort"  # auto or one of pairzoo.runtime.runtimes.MEMBER_RUNTIMES
    fuse: str = "auto"  # auto | always | never: fp32 members of one shape run as one session


@dataclass(frozen=True)
class ExportSettings:
    ref: str | None = None  # the ensemble entry; None: the latest
    out: str | Path | None = None  # the ONNX file; None: export/NAME-VERSION.onnx
    tolerance: float = ONE_FILE_PROBABILITY  # the file's probabilities against Python's
    batch_size: int = DEFAULT_BATCH
    threads: int = DEFAULT_THREADS
    int8: str = "auto"  # members with an int8 variant: the one this picks on this CPU
    runtime: str = "auto"  # auto or one of pairzoo.runtime.runtimes.FILE_RUNTIMES
    fuse: str = "auto"  # auto | always | never: members of one shape as grouped convolutions
    trees: str = "auto"  # auto | plain | ml: the meta-learner's operators (export.tree_forms)
