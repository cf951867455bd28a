"""What a run shows while it runs: one progress line.

On a terminal: a tqdm bar whose rate and ETA come from an exponential moving average of the
rate over whole training cycles (``loop.update_every`` steps: acting plus the training round
that ends it), so they do not swing between the fast acting steps and the slow training
rounds; the latest probe errors (object position, mm) beside constant velocity's when the
evaluation rows carry the physics baselines. Not on a terminal (a log file, a pipe, a Ray
worker): one plain line per evaluation, nothing else.
"""

from __future__ import annotations

import math
import sys
import time
from typing import IO, Any

REGIMES = ("impact", "contact", "free")


def _clock(seconds: float) -> str:
    if not math.isfinite(seconds):
        return "?"
    s = int(seconds)
    return f"{s // 3600}:{s // 60 % 60:02d}:{s % 60:02d}"


def probe_brief(row: dict[str, float], regimes: tuple[str, ...] = REGIMES) -> str:
    """``impact 5.1mm (cv 8.2)  contact ...`` from an evaluation row; regimes without a figure
    are left out."""
    parts = []
    for regime in regimes:
        value = row.get(f"probe/{regime}/pos_mm")
        if value is None or not math.isfinite(value):
            continue
        text = f"{regime} {value:.1f}mm"
        cv = row.get(f"baseline/constant_velocity/{regime}/pos_mm")
        if cv is not None and math.isfinite(cv):
            text += f" (cv {cv:.1f})"
        parts.append(text)
    return "  ".join(parts)


class Progress:
    """Progress of one run from ``initial`` to ``total`` env steps.

    Args:
        total: the budget.
        initial: steps already done (a resumed run).
        cycle: steps per rate sample (the training cycle, ``loop.update_every``).
        alpha: weight of the newest cycle in the moving average of seconds per step.
        stream: where the plain lines go (default stdout); its ``isatty`` chooses the mode.
        interactive: force the mode (tests); default ``stream.isatty()``.
    """

    def __init__(
        self,
        total: int,
        initial: int = 0,
        cycle: int = 100,
        alpha: float = 0.2,
        stream: IO[str] | None = None,
        interactive: bool | None = None,
    ) -> None:
        self.total, self.n, self.cycle, self.alpha = total, initial, max(cycle, 1), alpha
        self.stream = stream if stream is not None else sys.stdout
        self.interactive = self.stream.isatty() if interactive is None else interactive
        self.rate: float | None = None  # steps/s: 1 / moving average of seconds per step
        self._sec: float | None = None
        self._mark = (initial, time.perf_counter())
        self._last_eval: dict[str, float] | None = None
        self._bar: Any = None
        if self.interactive:
            from tqdm import tqdm

            self._bar = tqdm(
                total=total, initial=initial, desc="run", unit="step",
                bar_format="{l_bar}{bar}| {n_fmt}/{total_fmt} [{elapsed}{postfix}]",
            )  # fmt: skip

    @property
    def eta(self) -> float:
        """Seconds to the budget at the smoothed rate (inf before the first cycle)."""
        return (self.total - self.n) / self.rate if self.rate else math.inf

    def update(self, n: int, last_eval: dict[str, float] | None = None) -> None:
        """The run is at env step ``n``; ``last_eval`` is the latest evaluation row."""
        self.n = n
        start, t0 = self._mark
        sampled = n - start >= self.cycle
        if sampled:
            now = time.perf_counter()
            # Average the *time per step*, not the rate: after a fast random warm-up a rate
            # average would show the warm-up's speed for many slow cycles (and an ETA far too
            # short); seconds per step follow a slow phase within a few cycles.
            sample = max(now - t0, 1e-9) / (n - start)
            self._sec = sample if self._sec is None else (
                self.alpha * sample + (1 - self.alpha) * self._sec
            )  # fmt: skip
            self.rate = 1.0 / self._sec
            self._mark = (n, now)
        new_eval = bool(last_eval) and last_eval is not self._last_eval
        if new_eval:
            self._last_eval = last_eval
        if self._bar is not None:
            self._bar.update(n - self._bar.n)
            if new_eval or sampled:
                self._bar.set_postfix_str(self.postfix(), refresh=False)
        elif new_eval:
            print(self.line(), file=self.stream, flush=True)

    def postfix(self) -> str:
        rate = f"{self.rate:.1f} step/s, eta {_clock(self.eta)}" if self.rate else "measuring"
        brief = probe_brief(self._last_eval or {})
        return f", {rate}" + (f" | {brief}" if brief else "")

    def line(self) -> str:
        """One plain line: step, rate, ETA and the latest probe errors."""
        rate = f"{self.rate:.1f} steps/s  eta {_clock(self.eta)}" if self.rate else "rate ?"
        return f"step {self.n}/{self.total}  {rate}  {probe_brief(self._last_eval or {})}".rstrip()

    def close(self) -> None:
        if self._bar is not None:
            self._bar.close()
