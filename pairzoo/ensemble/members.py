"""Base models and ensembles from the registry, hash-checked, as runnable members."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from pairzoo.ensemble.variants import INT8, choose, int8_variant
from pairzoo.errors import RegistryError
from pairzoo.registry import Registry
from pairzoo.registry.card import Card, format_ref, ref_of
from pairzoo.runtime.choice import RuntimeChoice, choose_runtime
from pairzoo.runtime.runtimes import BASELINE, MEMBER_RUNTIMES
from pairzoo.runtime.sessions import DEFAULT_THREADS, open_session
from pairzoo.runtime.signature import check_signatures

META_LEARNER = "meta_learner.txt"


@dataclass
class Member:
    """One base model ready to run: its identity and an onnxruntime session."""

    name: str
    version: int | None
    sha256: str
    session: Any
    output: str = ""
    macs_per_pair: int | None = None
    card: dict = field(default_factory=dict)
    variant: dict | None = None  # fp32 or int8, and why (pairzoo.ensemble.variants)
    choice: Any = None  # the variants.Choice behind `variant`
    runtime: Any = (
        None  # the runtime.choice.RuntimeChoice it runs in (None: onnxruntime's defaults)
    )

    def __post_init__(self) -> None:
        if not self.output:
            self.output = self.session.get_outputs()[0].name

    @property
    def ref(self) -> str:
        return format_ref(self.name, self.version)


def member_refs(registry: Registry, models: Sequence[str] | None) -> list[str]:
    """`models` as given, or the latest version of every fp32 model entry when None.

    int8 variants are not members of their own: each comes in as its fp32 model's variant.
    """
    if models:
        refs = [m.strip() for m in models if m.strip()]
        dupes = sorted({r for r in refs if refs.count(r) > 1})
        if dupes:
            raise RegistryError(f"model {dupes[0]!r} is listed twice in --models")
        return refs
    latest: dict[str, Card] = {}
    for card in registry.list(kind="model"):
        if "quantization" in card:
            continue
        if card.name not in latest or card.version > latest[card.name].version:
            latest[card.name] = card
    if not latest:
        raise RegistryError(
            f"registry {registry.root} has no model entries; add some with `pairzoo export RUN`"
        )
    return [c.ref for c in latest.values()]


def load_member(
    registry: Registry, ref: str, threads: int = DEFAULT_THREADS, expect_sha: str | None = None
) -> Member:
    """Resolve `ref`, check its ONNX file against the card's sha256 and open a tuned session."""
    card = registry.resolve(ref)
    full = card.ref
    if card.kind != "model":
        raise RegistryError(
            f"{full} is an entry of kind '{card.kind}'; ensemble members must be models"
        )
    if not card.onnx:
        raise RegistryError(f"{full}: card names no onnx file")
    sha = card.onnx_sha256
    if expect_sha is not None and sha != expect_sha:
        raise RegistryError(
            f"member {full}: ONNX sha256 is {sha[:12]}… ({registry.file_path(card)}), the "
            f"ensemble was built with {expect_sha[:12]}…; the member changed, rebuild the "
            "ensemble (pairzoo eval --ensemble)"
        )
    data = registry.read_file(card, card.onnx)  # refused unless it matches the card
    try:
        session = open_session(data, threads, what=f"{registry.file_path(card)} ({full})")
    except RegistryError:
        raise
    except Exception as exc:  # onnxruntime raises its own untyped errors
        raise RegistryError(
            f"{full}: onnxruntime cannot load it ({type(exc).__name__}: {exc})"
        ) from exc
    return Member(
        name=card.name,
        version=card.version,
        sha256=sha,
        session=session,
        macs_per_pair=_macs(card),
        card=card,
    )


def load_members(
    registry: Registry,
    refs: Sequence[str],
    threads: int = DEFAULT_THREADS,
    int8: str = "auto",
    runtime: str = "ort",
    gate_pairs: np.ndarray | None = None,
) -> list[Member]:
    """The members `refs`, each as its faster variant here (`int8`: auto|always|never), in the
    runtime `runtime` picks (auto, or a name of pairzoo.runtime.runtimes.MEMBER_RUNTIMES);
    `gate_pairs`, pairs of the data at hand, gate a bf16 runtime's decisions."""
    members = [
        with_runtime(
            registry,
            with_variant(registry, load_member(registry, ref, threads), threads, int8),
            threads,
            runtime,
            gate_pairs,
        )
        for ref in refs
    ]
    seen: dict[tuple[str, int], str] = {}
    for m in members:
        key = (m.name, m.version)
        if key in seen:
            raise RegistryError(f"{m.ref} is selected twice (as {seen[key]!r} and again)")
        seen[key] = m.ref
    check_signatures([m.ref for m in members], [m.session for m in members])
    return members


def with_variant(
    registry: Registry,
    fp32: Member,
    threads: int,
    mode: str,
    int8_ref: tuple[str, str] | None = None,
) -> Member:
    """`fp32` or its int8 variant, by `pairzoo.ensemble.variants.choose`; the choice is recorded
    in `.variant`. `int8_ref` (ref, sha256) pins the variant, as an ensemble card does."""
    if int8_ref is not None:
        int8 = load_member(registry, int8_ref[0], threads, expect_sha=int8_ref[1])
    else:
        card = int8_variant(registry, fp32.card)
        int8 = None if card is None else load_member(registry, card.ref, threads)
    choice = choose(fp32, int8, mode, threads)
    chosen = int8 if choice.chosen == INT8 else fp32
    chosen.variant = {
        **choice.to_dict(),
        "fp32": {"name": fp32.name, "version": fp32.version, "sha256": fp32.sha256},
        "int8": None
        if int8 is None
        else {"name": int8.name, "version": int8.version, "sha256": int8.sha256},
    }
    chosen.choice = choice
    return chosen


def with_runtime(
    registry: Registry,
    member: Member,
    threads: int,
    mode: str,
    gate_pairs: np.ndarray | None = None,
) -> Member:
    """`member` in the runtime `mode` picks (pairzoo.runtime.choice), recorded in
    `.runtime`; onnxruntime's defaults keep the session it has."""
    if mode == BASELINE:
        member.runtime = RuntimeChoice(mode, BASELINE, None, threads=threads)
        return member
    data = registry.read_file(member.card, member.card.onnx)
    member.runtime, member.session = choose_runtime(
        data,
        MEMBER_RUNTIMES,
        mode,
        threads=threads,
        baseline=member.session,
        what=member.ref,
        gate_pairs=gate_pairs,
    )
    return member


def _macs(card: Card) -> int | None:
    for source in (card, card.section("model"), card.section("metrics")):
        value = source.get("macs_per_pair")
        if isinstance(value, int):
            return value
    return None


@dataclass
class LoadedEnsemble:
    card: Card
    members: list[Member]
    booster: Any


def load_ensemble(
    registry: Registry,
    ref: str | None,
    threads: int = DEFAULT_THREADS,
    int8: str = "auto",
    runtime: str = "ort",
    gate_pairs: np.ndarray | None = None,
) -> LoadedEnsemble:
    """An ensemble entry (latest ensemble when `ref` is None) with its members and meta-learner.

    A member the card lists with both variants runs as the faster one here (`int8` mode), each
    in the runtime `runtime` picks (`gate_pairs`, pairs of the data at hand, gate bf16).
    """
    import lightgbm as lgb

    card = load_ensemble_card(registry, ref)
    text = registry.read_file(card, card.get("meta_learner", META_LEARNER)).decode()
    members = [
        with_runtime(
            registry, _card_member(registry, m, threads, int8), threads, runtime, gate_pairs
        )
        for m in card.members
    ]
    check_signatures([m.ref for m in members], [m.session for m in members])
    return LoadedEnsemble(card=card, members=members, booster=lgb.Booster(model_str=text))


def _card_member(registry: Registry, m: dict[str, Any], threads: int, mode: str) -> Member:
    variants = m.get("variants") or {}
    if not variants.get("int8"):
        return load_member(registry, ref_of(m), threads, expect_sha=m["sha256"])
    fp32, int8 = variants["fp32"], variants["int8"]
    base = load_member(registry, ref_of(fp32), threads, expect_sha=fp32["sha256"])
    return with_variant(registry, base, threads, mode, (ref_of(int8), int8["sha256"]))


def load_ensemble_card(registry: Registry, ref: str | None) -> Card:
    """The card of ensemble `ref`, or of the most recent ensemble entry when None."""
    card = registry.resolve(ref) if ref else _latest_ensemble(registry)
    if card.kind != "ensemble":
        raise RegistryError(f"{card.ref} is an entry of kind '{card.kind}', expected an ensemble")
    return card


def _latest_ensemble(registry: Registry) -> Card:
    cards = registry.list(kind="ensemble")
    if not cards:
        raise RegistryError(
            f"registry {registry.root} has no ensemble entries; build one with `pairzoo eval --ensemble`"
        )
    return max(cards, key=lambda c: c.created)
