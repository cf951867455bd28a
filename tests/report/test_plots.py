"""Figures and statistics: bands across seeds, alignment, graceful absence."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pytest
from matplotlib.collections import PolyCollection

from agent.report import plots
from agent.report.run_folder import column
from agent.stats import align, bootstrap_band
from envs.layout import Entity, EntityLayout

Rows = Callable[..., list[dict[str, float]]]


def test_bootstrap_band_brackets_the_mean_and_needs_two_runs() -> None:
    rng = np.random.default_rng(0)
    values = rng.normal(5.0, 1.0, size=(8, 3))
    values[:, 2] = 7.0  # all seeds agree: a zero-width band
    values[1:, 1] = np.nan  # one seed only: no band
    mean, lo, hi = bootstrap_band(values)
    np.testing.assert_allclose(mean[0], values[:, 0].mean())
    assert lo[0] < mean[0] < hi[0]
    assert hi[0] - lo[0] < 4 * values[:, 0].std() / np.sqrt(8)  # ~3.9 standard errors at 95%
    assert mean[1] == values[0, 1] and np.isnan(lo[1]) and np.isnan(hi[1])
    assert lo[2] == hi[2] == 7.0


def test_align_puts_runs_on_the_union_of_steps(make_rows: Rows) -> None:
    runs = [make_rows(1.0), make_rows(2.0, (100, 300, 400))]
    steps, values = align([column(rows, "probe/impact/pos_mm") for rows in runs])
    assert steps.tolist() == [100, 200, 300, 400]
    assert np.isnan(values[1, 1]) and np.isnan(values[0, 3])
    assert values[1, 2] == pytest.approx(10.0)


def test_comparison_draws_bands_only_for_groups_with_seeds(make_rows: Rows) -> None:
    fig = plots.compare_probe_errors(
        {"active": [make_rows(1.0), make_rows(1.2)], "random": [make_rows(2.0)]}
    )
    assert fig is not None
    impact_ax = fig.axes[0]
    assert len(impact_ax.lines) == 2
    assert sum(isinstance(c, PolyCollection) for c in impact_ax.collections) == 1


def test_figures_are_skipped_when_their_data_is_absent(make_rows: Rows) -> None:
    assert plots.calibration(make_rows(1.0)) is None
    assert plots.regime_errors([]) is None
    assert plots.regimes_over_time([{"step": 1.0}]) is None
    rows = make_rows(1.0)
    rows[-1]["curiosity/calibration/all"] = 0.4
    fig = plots.calibration(rows)
    assert fig is not None
    assert [line.get_label() for line in fig.axes[0].lines if line.get_marker() == "o"] == ["all"]
    assert plots.regimes_over_time(rows) is not None


def test_visitation_heatmap_counts_where_objects_were() -> None:
    layout = EntityLayout(
        (Entity("agent", "agent", 1), Entity("a", "object", 2), Entity("b", "object", 3))
    )
    obs = np.zeros((500, layout.obs_dim), np.float32)
    blocks = layout.split(obs)
    rng = np.random.default_rng(0)
    blocks[:, 0, 0:2] = rng.uniform(-0.3, 0.3, (500, 2))  # the agent roams
    blocks[:, 1:, 0:2] = (0.2, -0.1)  # both objects never move
    fig = plots.visitation(blocks.reshape(500, -1), layout, bins=30)
    assert fig is not None
    counts = fig.axes[0].images[0].get_array()
    assert counts.max() == 1000  # two objects x 500 steps in one bin
    y, x = np.unravel_index(np.argmax(counts), counts.shape)
    x0, x1, y0, y1 = fig.axes[0].images[0].get_extent()
    assert x0 + (x + 0.5) * (x1 - x0) / 30 == pytest.approx(0.2, abs=0.03)
    assert y0 + (y + 0.5) * (y1 - y0) / 30 == pytest.approx(-0.1, abs=0.03)


def test_error_plots_draw_the_physics_baselines_when_logged(make_rows: Rows) -> None:
    rows = make_rows(1.0)
    plain = plots.regime_errors(rows)
    assert plain is not None and not any(ln.get_linestyle() == "--" for ln in plain.axes[0].lines)
    for r in rows:
        r["baseline/constant_velocity/impact/pos_mm"] = 12.0
        r["baseline/nothing_moves/impact/pos_mm"] = 30.0
    fig = plots.regime_errors(rows)
    assert fig is not None
    styles = [ln.get_linestyle() for ln in fig.axes[0].lines]
    assert styles.count("--") == 1 and styles.count(":") == 1
    cv = next(ln for ln in fig.axes[0].lines if ln.get_linestyle() == "--")
    assert set(cv.get_ydata()) == {12.0}
    compared = plots.compare_probe_errors({"active": [rows], "random": [make_rows(2.0)]})
    assert compared is not None
    labels = [ln.get_label() for ln in compared.axes[0].lines]
    assert "constant velocity" in labels and "nothing moves" in labels


def test_regimes_plot_shows_the_moving_regimes_on_their_own_scale() -> None:
    rows = [
        {"step": float(s), "explore/regime/impact": 0.01, "explore/regime/contact": 0.03,
         "explore/regime/free": 0.02, "explore/regime/rest": 0.94}
        for s in (100, 200, 300)
    ]  # fmt: skip
    fig = plots.regimes_over_time(rows)
    assert fig is not None
    ax = fig.axes[0]
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["impact", "contact", "free"]
    assert ax.get_ylim()[1] < 0.1  # the 6% that moves fills the plot, not a sliver
    assert "94%" in ax.get_title()


def test_loss_plot_has_one_panel_per_term(make_rows: Rows) -> None:
    rows = make_rows(1.0)
    for i, r in enumerate(rows):
        r.update({"wm/loss/total": 8.0 + i, "wm/loss/recon": 0.1, "curiosity/raw_mean": 0.5})
    fig = plots.training(rows)
    assert fig is not None
    titles = [ax.get_title() for ax in fig.axes if ax.axison]
    assert titles == ["loss: recon", "loss: total", "raw intrinsic reward (batch mean)"]
