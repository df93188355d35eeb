"""Base models and ensembles from the registry, hash-checked, as runnable members."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from pairzoo.ensemble.inference import DEFAULT_THREADS, Member, open_session
from pairzoo.ensemble.signature import check_signatures
from pairzoo.errors import RegistryError

META_LEARNER = "meta_learner.txt"


def member_refs(registry: Any, models: Sequence[str] | None) -> list[str]:
    """`models` as given, or the latest version of every model entry when None."""
    if models:
        refs = [m.strip() for m in models if m.strip()]
        dupes = sorted({r for r in refs if refs.count(r) > 1})
        if dupes:
            raise RegistryError(f"model {dupes[0]!r} is listed twice in --models")
        return refs
    latest: dict[str, dict] = {}
    for card in registry.list(kind="model"):
        if card["name"] not in latest or card["version"] > latest[card["name"]]["version"]:
            latest[card["name"]] = card
    if not latest:
        raise RegistryError(
            f"registry {registry.root} has no model entries; add some with `pairzoo export RUN`"
        )
    return [f"{c['name']}@{c['version']}" for c in latest.values()]


def load_member(
    registry: Any, ref: str, threads: int = DEFAULT_THREADS, expect_sha: str | None = None
) -> Member:
    """Resolve `ref`, check its ONNX file against the card's sha256 and open a tuned session."""
    card = registry.resolve(ref)
    full = f"{card['name']}@{card['version']}"
    if card.get("kind") != "model":
        raise RegistryError(
            f"{full} is an entry of kind '{card.get('kind')}'; ensemble members must be models"
        )
    if not card.get("onnx"):
        raise RegistryError(f"{full}: card names no onnx file")
    sha = card["files"][card["onnx"]]["sha256"]
    if expect_sha is not None and sha != expect_sha:
        raise RegistryError(
            f"member {full}: ONNX sha256 is {sha[:12]}… ({registry.file_path(card)}), the "
            f"ensemble was built with {expect_sha[:12]}…; the member changed, rebuild the "
            "ensemble (pairzoo eval --ensemble)"
        )
    data = registry.read_file(card, card["onnx"])  # refused unless it matches the card
    try:
        session = open_session(data, threads, what=f"{registry.file_path(card)} ({full})")
    except RegistryError:
        raise
    except Exception as exc:  # onnxruntime raises its own untyped errors
        raise RegistryError(
            f"{full}: onnxruntime cannot load it ({type(exc).__name__}: {exc})"
        ) from exc
    return Member(
        name=card["name"],
        version=card["version"],
        sha256=sha,
        session=session,
        macs_per_pair=_macs(card),
        card=card,
    )


def load_members(
    registry: Any, refs: Sequence[str], threads: int = DEFAULT_THREADS
) -> list[Member]:
    members = [load_member(registry, ref, threads) for ref in refs]
    seen: dict[tuple[str, int], str] = {}
    for m in members:
        key = (m.name, m.version)
        if key in seen:
            raise RegistryError(f"{m.ref} is selected twice (as {seen[key]!r} and again)")
        seen[key] = m.ref
    check_signatures([m.ref for m in members], [m.session for m in members])
    return members


def _macs(card: dict[str, Any]) -> int | None:
    for source in (card, card.get("model") or {}, card.get("metrics") or {}):
        value = source.get("macs_per_pair")
        if isinstance(value, int):
            return value
    return None


@dataclass
class LoadedEnsemble:
    card: dict[str, Any]
    members: list[Member]
    booster: Any


def load_ensemble(registry: Any, ref: str | None, threads: int = DEFAULT_THREADS) -> LoadedEnsemble:
    """An ensemble entry (latest ensemble when `ref` is None) with its members and meta-learner."""
    import lightgbm as lgb

    card = load_ensemble_card(registry, ref)
    text = registry.read_file(card, card.get("meta_learner", META_LEARNER)).decode()
    members = [
        load_member(registry, f"{m['name']}@{m['version']}", threads, expect_sha=m["sha256"])
        for m in card["members"]
    ]
    check_signatures([m.ref for m in members], [m.session for m in members])
    return LoadedEnsemble(card=card, members=members, booster=lgb.Booster(model_str=text))


def load_ensemble_card(registry: Any, ref: str | None) -> dict[str, Any]:
    """The card of ensemble `ref`, or of the most recent ensemble entry when None."""
    card = registry.resolve(ref) if ref else _latest_ensemble(registry)
    if card.get("kind") != "ensemble":
        raise RegistryError(
            f"{card['name']}@{card['version']} is an entry of kind '{card.get('kind')}', "
            "expected an ensemble"
        )
    return card


def _latest_ensemble(registry: Any) -> dict[str, Any]:
    cards = registry.list(kind="ensemble")
    if not cards:
        raise RegistryError(
            f"registry {registry.root} has no ensemble entries; build one with `pairzoo eval --ensemble`"
        )
    return max(cards, key=lambda c: c["created"])
