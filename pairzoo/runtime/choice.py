"""The runtime a file runs in on this CPU: the fastest of the candidates that gives its outputs.

As for int8 (pairzoo.ensemble.variants): in mode ``auto`` every candidate that can run here
(pairzoo.runtime.backends.unavailable says why one cannot) runs the same batch in turns, the
best round of each counts (cached per CPU kind, pairzoo.speed_cache), and a candidate replaces
onnxruntime's defaults only at ``MIN_GAIN`` times their speed and only if it gives their outputs
(fp32 within 1e-4 of 1 + |output|, integer outputs exactly, bf16 as below); the fastest that
passes wins. With cached speeds only the defaults and the winner are opened.
A runtime's name forces it.

bf16 rounds every operator, so its logits differ by more than any fixed tolerance on some pairs
while its decisions hardly move: it is gated on decisions instead, over pairs of the data at hand
(`gate_pairs`; no labels needed). It may flip at most BF16_FLIPS of them, which bounds the
member's accuracy change on those pairs at half a point; without data pairs it is not chosen.
An int8 (QDQ) file outside onnxruntime is gated alike: OpenVINO requantizes each activation with
its own rounding, so a logit moves by a quantization step where onnxruntime's does not
(`held_to_decisions`).
"""

from __future__ import annotations

import dataclasses
import hashlib
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import onnxruntime

from pairzoo import machine, speed_cache
from pairzoo.errors import ConfigError
from pairzoo.runtime import backends, timing
from pairzoo.runtime.backends import open_runtime
from pairzoo.runtime.batches import split_batch
from pairzoo.runtime.gate import RUNTIME_OUTPUTS
from pairzoo.runtime.logits import DEFAULT_BATCH
from pairzoo.runtime.runtimes import BASELINE, Runtime, get_runtime

MIN_GAIN = 1.05  # a near-tie, or noise, keeps onnxruntime's defaults
BF16_FLIPS = 0.005  # share of decisions bf16 may flip on the gate's pairs
GATE_PAIRS = 1024  # pairs of the data a caller passes as `gate_pairs`
# a decision is an output's sign: a model's logit, or the one-file ensemble's label (0 or 1;
# its first output, a probability, is always positive)
DECISION = "label"


@dataclass
class RuntimeChoice:
    """The runtime a file runs in, why, and the speeds (pairs/s) behind it."""

    mode: str
    chosen: str
    speeds: dict[str, float] | None  # None: one candidate only, or forced without a cache
    skipped: dict[str, str] = field(default_factory=dict)  # candidate -> why it did not run
    cached: bool = False
    threads: int | None = None  # the intra-op threads it runs with, where not the runtime's own

    @property
    def runtime(self) -> Runtime:
        r = get_runtime(self.chosen)
        return r if self.threads is None else dataclasses.replace(r, threads=self.threads)

    def to_dict(self) -> dict[str, Any]:
        speeds = None if self.speeds is None else {k: round(v, 1) for k, v in self.speeds.items()}
        return {
            "mode": self.mode,
            "chosen": self.chosen,
            "backend": self.runtime.backend,
            "precision": self.runtime.precision,
            "options": self.runtime.to_dict(),
            "pairs_per_s": speeds,
            "skipped": dict(self.skipped),
            "cached": self.cached,
        }


def check_mode(mode: str, names: Sequence[str]) -> str:
    if mode != "auto" and mode not in names:
        raise ValueError(f"runtime {mode!r}: expected one of auto, {', '.join(names)}")
    return mode


def choose_runtime(
    model: bytes,
    names: Sequence[str],
    mode: str = "auto",
    feeds: dict[str, np.ndarray] | None = None,
    threads: int | None = None,
    baseline: Any | None = None,
    what: str = "model",
    clock: Callable[[], float] = time.perf_counter,
    cache: Any | None = None,
    gate_pairs: np.ndarray | None = None,
    decision_gate: Callable[[Any], str | None] | None = None,
) -> tuple[RuntimeChoice, Any]:
    """(choice, session): `model` in the runtime `mode` picks among `names` on this CPU.

    `threads` overrides every candidate's intra-op threads (members run one per core);
    `baseline` is an open onnxruntime session of `model` to reuse for ``ort``; `gate_pairs`,
    uint8 pairs (N, 28, 56) of the data at hand, gate the decisions of a candidate that rounds
    otherwise (`held_to_decisions`); `decision_gate`, given such a candidate's session, says why it
    fails a gate of the caller's instead (None: it passes).
    """
    check_mode(mode, names)

    def candidate(name: str) -> Runtime:
        r = get_runtime(name)
        return r if threads is None else dataclasses.replace(r, threads=threads)

    def session(name: str) -> Any:
        if name == BASELINE and baseline is not None:
            return baseline
        return open_runtime(model, candidate(name), what)

    if mode != "auto":
        reason = backends.unavailable(candidate(mode), model)
        if reason:
            raise ConfigError(f"--runtime {mode} cannot run {what}: {reason}")
        return RuntimeChoice(mode, mode, None, threads=threads), session(mode)
    skipped = {n: r for n in names if (r := backends.unavailable(candidate(n), model))}
    usable = [n for n in names if n not in skipped]
    if usable == [BASELINE]:
        return RuntimeChoice(mode, BASELINE, None, skipped, threads=threads), session(BASELINE)
    feeds = feeds if feeds is not None else _feeds()
    opened: dict[str, Any] = {}
    failed: dict[str, str] = {}  # candidate -> why it did not open here

    def get(name: str) -> Any:
        """The candidate's session; None where it fails to open (a backend's own error: OpenVINO
        may report bf16 and then find no bf16 kernel, as under ONEDNN_MAX_CPU_ISA=AVX2)."""
        if name not in opened:
            try:
                opened[name] = session(name)
            except Exception as exc:
                if name == BASELINE or isinstance(exc, ConfigError):
                    raise
                failed[name] = f"failed to open here ({backends.last_line(exc)})"
                opened[name] = None
        return opened[name]

    speeds, cached = _speeds(model, tuple(usable), get, feeds, threads, clock, cache)
    reference = get(BASELINE).run(None, feeds)
    chosen = BASELINE
    for name in sorted(usable, key=speeds.__getitem__, reverse=True):
        if name == BASELINE or speeds[name] < MIN_GAIN * speeds[BASELINE]:
            break
        if get(name) is None:
            skipped[name] = failed[name]
            continue
        if held_to_decisions(candidate(name), model):
            judge = decision_gate or (lambda session: _flips(get(BASELINE), session, gate_pairs))
            reason = judge(get(name))
        else:
            reason = _differs(reference, get(name).run(None, feeds), candidate(name).precision)
        if reason is None:
            chosen = name
            break
        skipped[name] = reason
    for name in usable:  # a failure to open is deterministic here: its 0 pairs/s is cached
        if name not in skipped and (name in failed or speeds[name] == 0.0):
            skipped[name] = failed.get(name, "failed to open on this CPU kind (cached)")
    return RuntimeChoice(mode, chosen, speeds, skipped, cached, threads), get(chosen)


def held_to_decisions(runtime: Runtime, model: bytes) -> bool:
    """Whether `runtime` computes `model` otherwise than onnxruntime's fp32 kernels do, so
    that only its decisions can be held to theirs: bf16 everywhere, int8 outside onnxruntime."""
    quantized = b"QuantizeLinear" in model
    return runtime.precision != "fp32" or (runtime.backend != "onnxruntime" and quantized)


def _feeds() -> dict[str, np.ndarray]:
    return timing.calibration_feeds()


def gives_outputs(reference: Any, session: Any, precision: str, pairs: np.ndarray) -> str | None:
    """Why `session` (a file in a runtime of `precision`) does not give `reference`'s outputs on
    uint8 `pairs` by the gate of that precision; None if it does. For files chosen as a whole,
    such as fused members, whose runtime the members already passed one by one."""
    if precision == "bf16":
        return _flips(reference, session, pairs)
    return _differs([outputs_of(reference, pairs)], [outputs_of(session, pairs)], precision)


def _differs(reference: list, outputs: list, precision: str) -> str | None:
    """Why `outputs` are not `reference` within the tolerance of `precision`; None if they are."""
    tol = RUNTIME_OUTPUTS[precision]
    for ref, out in zip(reference, outputs, strict=True):
        ref, out = np.asarray(ref), np.asarray(out)
        if ref.shape != out.shape:
            return f"output shape {out.shape}, onnxruntime's {ref.shape}"
        if not np.issubdtype(ref.dtype, np.floating):
            if not np.array_equal(ref, out):
                return "integer outputs differ from onnxruntime's"
            continue
        excess = np.abs(out - ref) / (1 + np.abs(ref))
        if not np.all(excess <= tol):  # NaN fails
            return f"outputs differ from onnxruntime's by {float(np.nanmax(excess)):.2g} (allowed {tol:g})"
    return None


def _flips(reference: Any, session: Any, pairs: np.ndarray | None) -> str | None:
    """Why `session`'s decisions are not `reference`'s on `pairs`; None if at most BF16_FLIPS
    of them flip."""
    if pairs is None or not len(pairs):
        return "its decisions are gated on the data's pairs, and none were given"
    # in the batches the eval runs: one batch of all the pairs is a new shape, which OpenVINO
    # compiles afresh and onnxruntime runs slower
    want = outputs_of(reference, pairs, DECISION)
    return flipped_decisions(want, outputs_of(session, pairs, DECISION))


def flipped_decisions(want: np.ndarray, got: np.ndarray) -> str | None:
    """Why outputs `got` do not make the decisions of `want` (N, ...); None if at most
    BF16_FLIPS of them flip. A file with a column per model (fused members) is held to the share
    of its worst column."""
    if got.shape != want.shape or not np.all(np.isfinite(got)):
        return f"output shape {got.shape} or values unlike onnxruntime's {want.shape}"
    flipped = float(np.max(np.mean((got > 0) != (want > 0), axis=0)))
    if flipped > BF16_FLIPS:
        return (
            f"flips {100 * flipped:.2f}% of {len(want)} decisions on the data's pairs "
            f"(allowed {100 * BF16_FLIPS:g}%)"
        )
    return None


def outputs_of(
    session: Any, pairs: np.ndarray, prefer: str | None = None, batch_size: int = DEFAULT_BATCH
) -> np.ndarray:
    """The output `prefer` of `session` where it has one, else its first, on `pairs`, run
    `batch_size` pairs at a time."""
    names = [o.name for o in session.get_outputs()]
    name = prefer if prefer in names else names[0]
    parts = []
    for start in range(0, len(pairs), batch_size):
        xa, xb = split_batch(pairs[start : start + batch_size])
        parts.append(np.asarray(session.run([name], {"xa": xa, "xb": xb})[0]))
    return np.concatenate(parts)


def _speeds(model, names, get, feeds, threads, clock, cache) -> tuple[dict[str, float], bool]:
    """Cached speeds of `names` on this CPU, else measured on sessions from `get(name)`."""
    batch = len(next(iter(feeds.values())))
    versions = f"ort={onnxruntime.__version__}:openvino={openvino_version()}"
    key = (
        f"runtimes:{hashlib.sha256(model).hexdigest()}:{','.join(names)}:threads={threads}:"
        f"batch={batch}:{versions}"
    )
    return speed_cache.lookup_or_measure(
        cache or speed_cache.cache_path(),
        machine.this_cpu().key(),
        key,
        names,
        lambda: _measure_opened(names, get, feeds, clock),
        allow_zero=True,
    )


def _measure_opened(names, get, feeds, clock) -> dict[str, float]:
    """Speeds of the candidates that open; 0 for one that does not (never chosen, and cached so
    it is not tried again on this CPU kind)."""
    sessions = {n: s for n in names if (s := get(n)) is not None}
    speeds = timing.measure(sessions, feeds, clock=clock)
    return {n: speeds.get(n, 0.0) for n in names}


def openvino_version() -> str:
    try:
        import openvino
    except ImportError:
        return "none"
    return openvino.__version__
