"""When a run scores its model on the probe set: a curve with a shape at any budget.

Three sets of env steps, merged (:func:`eval_steps`):

* every ``loop.eval_every`` steps (the regular grid);
* ``loop.eval_points`` steps spaced evenly in log(step) from the end of the warm-up to the
  budget, so the early part of a run, where the error falls fastest and steps-to-threshold are
  read, is resolved finely at any budget (with the defaults, 20k steps: evaluations at 1000,
  1300, 1700, 2000, 2300, 3000, ... steps);
* the end of the warm-up (the first trained model) and the budget itself (the final figure).

Points are rounded to multiples of ``loop.update_every`` (the model only changes at training
rounds, so two evaluations inside one round would score the same model), and a log point
closer to a grid point than a quarter of its gap to the next log point is left out (the grid
point stands for it).
"""

from __future__ import annotations

import math

from agent.config import LoopConfig


def eval_steps(loop: LoopConfig, budget: int) -> list[int]:
    """The env steps (``1 .. budget``, sorted) after which the learner evaluates.

    Args:
        loop: the run's schedule (``warmup``, ``update_every``, ``eval_every``, ``eval_points``).
        budget: the run's env-step budget.

    Returns:
        Sorted, distinct steps; always ends with ``budget``.
    """
    steps = set(range(loop.eval_every, budget + 1, loop.eval_every))
    steps.add(budget)
    first = min(max(loop.warmup, loop.update_every), budget)
    steps.add(first)
    if loop.eval_points > 1 and budget > first:
        ratio = math.log(budget / first) / (loop.eval_points - 1)
        for i in range(loop.eval_points):
            raw = first * math.exp(ratio * i)
            rounded = round(raw / loop.update_every) * loop.update_every
            off_grid = min(rounded % loop.eval_every, -rounded % loop.eval_every)
            local_gap = raw * (math.exp(ratio) - 1)  # to the next log point
            if i == 0 or off_grid >= local_gap / 4:  # no near-duplicate of a grid point
                steps.add(min(max(rounded, first), budget))
    return sorted(steps)
