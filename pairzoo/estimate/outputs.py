"""What an entry says about a set of pairs: one logit column per predictor (each member, then
the stacked ensemble), computed through the same functions `predict` uses."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from pairzoo.estimate.methods import SetScores, scores_of

ENSEMBLE = "ensemble"  # the stacked ensemble's column, beside its members' refs
_EPS = 1e-7


@dataclass(frozen=True)
class Outputs:
    names: list[str]  # member refs, then ENSEMBLE (a lone model: its ref alone)
    logits: np.ndarray  # float64 (N, predictors)
    members: int  # the first `members` columns are members, whose labels agree or not

    def scores(self, y: np.ndarray | None = None) -> dict[str, SetScores]:
        """SetScores per predictor; a member's agreement is with the other members, the
        ensemble's the members' mean pairwise agreement."""
        labels = self.logits[:, : self.members] > 0
        pairwise = None
        if self.members >= 2:
            pairwise = (labels[:, :, None] == labels[:, None, :]).mean(axis=0)
        out = {}
        for j, name in enumerate(self.names):
            agreement = None
            if pairwise is not None:
                m = self.members
                rows = pairwise[j] if j < m else pairwise[np.triu_indices(m, 1)]
                agreement = float((rows.sum() - 1) / (m - 1)) if j < m else float(rows.mean())
            out[name] = scores_of(self.logits[:, j], y, agreement)
        return out


def ensemble_outputs(member_refs: list[str], member_logits, proba) -> Outputs:
    p = np.clip(np.asarray(proba, dtype=np.float64), _EPS, 1 - _EPS)
    stacked = np.log(p) - np.log1p(-p)
    logits = np.column_stack([np.asarray(member_logits, dtype=np.float64), stacked])
    return Outputs([*member_refs, ENSEMBLE], logits, len(member_refs))


def model_outputs(ref: str, logits) -> Outputs:
    return Outputs([ref], np.asarray(logits, dtype=np.float64).reshape(-1, 1), 1)
