"""Chapter 3's figures and alt text: they draw the numbers they are given, and survive overflow."""

import dataclasses

import numpy as np
import pytest
from matplotlib.figure import Figure

from rnnbook.decomposition import describe_profile, mlp_vs_rnn, term_norms_by_distance
from rnnbook.experiments.lag import load_runs
from rnnbook.explorer import render_png
from rnnbook.plots.decomposition import (
    MSE_LIMITS,
    NORM_LIMITS,
    plot_depth_contrast,
    plot_distance_profile,
    plot_lag_results,
)


def texts(fig: Figure) -> str:
    return " ".join(t.get_text() for ax in fig.axes for t in ax.texts)


@pytest.mark.parametrize("rho,activation", [(0.5, "tanh"), (0.9, "sigmoid"), (1.2, "relu"),
                                            (2.0, "tanh")])
def test_distance_profile_draws_the_term_norms_and_the_share(rho, activation):
    profile = term_norms_by_distance(rho, 30, activation, n=12)
    fig = plot_distance_profile(profile)
    left, right = fig.axes
    assert left.get_yscale() == "log" and left.get_ylim() == pytest.approx(NORM_LIMITS)
    norms_line = left.lines[0]
    np.testing.assert_allclose(norms_line.get_xdata(), profile.distance)
    np.testing.assert_allclose(norms_line.get_ydata(), profile.norms)
    np.testing.assert_allclose(right.lines[0].get_ydata(), profile.far_share)
    horizontal = [line.get_ydata()[0] for line in left.lines[1:3]]
    assert horizontal == pytest.approx([profile.total_norm, profile.eps * profile.max_term_norm])
    assert f"horizon {profile.horizon}" in texts(fig)


def test_an_explorer_frame_stays_small():
    fig = plot_distance_profile(term_norms_by_distance(0.9, 60, "tanh"))
    assert len(render_png(fig, dpi=96)) < 30_000


def test_distance_profile_marks_values_below_the_axis():
    profile = term_norms_by_distance(0.5, 60, "sigmoid", n=12)
    assert profile.norms[-1] < NORM_LIMITS[0]
    assert "below 1e-20 from ℓ =" in texts(plot_distance_profile(profile))


def test_distance_profile_survives_overflow():
    profile = term_norms_by_distance(0.9, 20, "tanh", n=8)
    norms = profile.norms.copy()
    norms[12:] = np.inf
    broken = dataclasses.replace(profile, norms=norms, far_share=np.full(20, np.nan),
                                 total_norm=np.inf, max_term_norm=np.inf, horizon=19)
    fig = plot_distance_profile(broken)
    assert "overflow" in texts(fig)
    assert "undefined" in texts(fig)
    render_png(fig)


def test_describe_profile_gives_the_numbers():
    profile = term_norms_by_distance(0.9, 60, "tanh")
    text = describe_profile(profile)
    assert f"{profile.norms[10]:.2g} at distance 10" in text
    assert f"norm {profile.total_norm:.2g}" in text
    assert f"{100 * profile.far_share[10]:.2g}%" in text
    assert f"horizon {profile.horizon}" in text
    short = describe_profile(term_norms_by_distance(0.9, 4, "tanh"))
    assert "at distance 3" in short and "distance 5" not in short
    norms = profile.norms.copy()
    norms[30:] = np.inf
    overflow = dataclasses.replace(profile, norms=norms, far_share=np.full(60, np.nan))
    assert "overflow (inf) at distance 59" in describe_profile(overflow)
    assert "undefined" in describe_profile(overflow)
    with pytest.raises(TypeError, match="DistanceProfile"):
        describe_profile(profile.norms)
    with pytest.raises(ValueError, match="beyond"):
        describe_profile(profile, beyond=-1)
    assert "farther than 20 make up" in describe_profile(profile, beyond=20)


@pytest.mark.parametrize("rho", [0.9, 3.0])
def test_depth_contrast_draws_both_networks(rho):
    contrast = mlp_vs_rnn(rho, 20, "tanh", n=12)
    fig = plot_depth_contrast(contrast)
    left, right = fig.axes
    assert left.get_yscale() == right.get_yscale() == "log"
    assert left.get_ylim() == right.get_ylim()
    np.testing.assert_allclose(left.lines[0].get_ydata(), contrast.mlp_layer_norms)
    np.testing.assert_allclose(right.lines[0].get_ydata(), contrast.rnn_term_norms)
    assert right.lines[1].get_ydata()[0] == pytest.approx(contrast.rnn_total_norm)
    assert f"{contrast.mlp_layer_norms[-1]:.2g}" in texts(fig)


def test_lag_results_draw_every_run():
    results = load_runs()
    fig = plot_lag_results(results)
    left, right = fig.axes
    curves = [line for line in left.lines if np.asarray(line.get_xdata()).size > 2]
    assert len(curves) == len(results.runs)
    assert left.get_yscale() == right.get_yscale() == "log"
    dots = [line for line in right.lines if line.get_marker() == "o"]
    finals = sorted(float(y) for line in dots for y in line.get_ydata())
    assert finals == pytest.approx(sorted(np.clip([r.final_loss for r in results.runs],
                                                  *MSE_LIMITS)))


def test_lag_results_survive_a_diverged_run():
    results = load_runs()
    run = results.runs[0]
    nan_run = dataclasses.replace(run, eval_loss=np.where(run.eval_steps > 100, np.nan,
                                                          run.eval_loss),
                                  final_loss=float("nan"), success=False)
    broken = dataclasses.replace(results, runs=(nan_run, *results.runs[1:]))
    fig = plot_lag_results(broken)
    assert "overflow" in texts(fig)
    render_png(fig)


@pytest.mark.parametrize("plot", [plot_distance_profile, plot_depth_contrast, plot_lag_results])
def test_wrong_input_is_refused(plot):
    with pytest.raises(TypeError, match="expects"):
        plot(np.ones(5))
