"""onnxruntime execution providers: choose CUDA when it can work, and report what was really used.

onnxruntime falls back to CPU without an error when the CUDA provider cannot load its libraries,
so the provider in use is read back from the session (`get_providers()`), never assumed.

Every model must pass `pairzoo.runtime.safety.check_self_contained` before onnxruntime sees it.
"""

from __future__ import annotations

from pathlib import Path

from pairzoo.errors import RegistryError
from pairzoo.runtime.safety import ONNX_FORMAT_ONLY, check_self_contained

CUDA = "CUDAExecutionProvider"
CPU = "CPUExecutionProvider"
CHOICES = ("cpu", "cuda")


def gpu_present() -> bool:
    """True when an NVIDIA device node is visible (no CUDA library is loaded to find out)."""
    return Path("/dev/nvidiactl").exists() or any(Path("/dev").glob("nvidia[0-9]*"))


def plan(require: str | None = None) -> list[str]:
    """Providers to ask for: CUDA first when onnxruntime-gpu and a GPU are present, then CPU."""
    import onnxruntime as ort  # here: the registry imports this module for listing commands too

    available = ort.get_available_providers()
    if require is not None and require.lower() not in CHOICES:
        raise RegistryError(f"unknown provider {require!r} (choose from: {', '.join(CHOICES)})")
    want = (require or "").lower()
    if want == "cpu":
        return [CPU]
    if want == "cuda":
        if CUDA not in available:
            raise RegistryError(
                f"provider cuda required but onnxruntime {ort.__version__} has no {CUDA} "
                f"(available: {', '.join(available)}); install onnxruntime-gpu (extra 'pairzoo[gpu]')"
            )
        if not gpu_present():
            raise RegistryError(
                "provider cuda required but no NVIDIA GPU is visible (/dev/nvidia*)"
            )
        return [CUDA, CPU]
    return [CUDA, CPU] if CUDA in available and gpu_present() else [CPU]


def create_session(model: bytes, require: str | None = None, what: str = "model"):
    """An InferenceSession for serialized `model`; returns (session, provider_used, note or None).

    The model must be self-contained (`check_self_contained`). With `require="cuda"`, a silent
    fall-back to CPU raises RegistryError instead.
    """
    import onnxruntime as ort

    check_self_contained(model, what)
    wanted = plan(require)
    options = ort.SessionOptions()
    options.log_severity_level = 3  # fall-backs are detected and reported below
    options.add_session_config_entry(ONNX_FORMAT_ONLY, "ONNX")
    try:
        session = ort.InferenceSession(model, sess_options=options, providers=wanted)
    except Exception as exc:  # onnxruntime raises its own untyped errors
        raise RegistryError(
            f"{what}: onnxruntime cannot load it ({type(exc).__name__}: {exc})"
        ) from exc
    used = session.get_providers()[0]
    note = None
    if wanted[0] == CUDA and used != CUDA:
        note = (
            f"{CUDA} was requested but onnxruntime fell back to {used} "
            "(CUDA or cuDNN libraries missing or incompatible)"
        )
        if (require or "").lower() == "cuda":
            raise RegistryError(f"{what}: provider cuda required, but {note}")
    return session, used, note
