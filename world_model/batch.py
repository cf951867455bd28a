"""Typed batch containers handed from the replay to world models.

Shapes use ``B`` batch, ``H`` horizon (transitions per sequence), ``D`` observation size
(``13 * E``), ``A`` action size (0 for action-free sources) and ``E`` entities. Termination and
truncation stay separate: a terminated transition ends its episode in the MDP, a truncated one
was only cut short (its ``next_obs`` is still a real next state).
"""

from __future__ import annotations

from typing import NamedTuple

import torch
from torch import Tensor


class TransitionBatch(NamedTuple):
    """Independent transitions sampled uniformly.

    Attributes:
        obs: ``(B, D)`` float32 observation before the step.
        action: ``(B, A)`` float32 action taken.
        next_obs: ``(B, D)`` float32 observation after the step.
        terminated: ``(B,)`` bool, the episode ended in a terminal state at this step.
        truncated: ``(B,)`` bool, the episode was cut short (time limit) at this step.
        regime: ``(B, E)`` int8 :class:`envs.regimes.Regime` code of each entity-transition.
    """

    obs: Tensor
    action: Tensor
    next_obs: Tensor
    terminated: Tensor
    truncated: Tensor
    regime: Tensor

    def as_sequence(self) -> SequenceBatch:
        """The same data as a one-step :class:`SequenceBatch` (``H = 1``)."""
        return SequenceBatch(
            obs=torch.stack([self.obs, self.next_obs], dim=1),
            action=self.action.unsqueeze(1),
            terminated=self.terminated.unsqueeze(1),
            truncated=self.truncated.unsqueeze(1),
            regime=self.regime.unsqueeze(1),
        )


class SequenceBatch(NamedTuple):
    """Contiguous H-step pieces of single episodes (never crossing an episode boundary).

    Only the last transition of a sequence may be terminated or truncated.

    Attributes:
        obs: ``(B, H + 1, D)`` float32 observations ``o_0 .. o_H``.
        action: ``(B, H, A)`` float32 actions ``a_0 .. a_{H-1}``.
        terminated: ``(B, H)`` bool, transition ``k`` ended the episode in a terminal state.
        truncated: ``(B, H)`` bool, transition ``k`` was cut short by a time limit.
        regime: ``(B, H, E)`` int8 regime of each entity over transition ``k``.
    """

    obs: Tensor
    action: Tensor
    terminated: Tensor
    truncated: Tensor
    regime: Tensor

    @property
    def horizon(self) -> int:
        """``H``, the number of transitions per sequence."""
        return int(self.action.shape[1])

    def alive(self) -> Tensor:
        """``(B, H)`` float mask: 1 where transition ``k`` follows no terminated transition.

        Replay sequences only terminate at their last step, so this is all ones for them; it
        guards hand-built batches.
        """
        term = self.terminated.to(torch.float32)
        before = torch.cumsum(term, dim=1) - term
        return (before == 0).to(torch.float32)
