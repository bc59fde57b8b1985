"""Per-step Jacobians, their products and the Pascanu bounds, checked against torch autograd."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
import torch
from matplotlib.figure import Figure
from torch_reference import TORCH_ACTIVATIONS

from rnnbook.explorer import render_png
from rnnbook.jacobian import (
    AlternatingSaturation,
    BoundSurvey,
    EigenProducts,
    JacobianForms,
    Saturation,
    alternating_saturation,
    bound_survey,
    eigen_and_products,
    jacobian_forms,
    net_jacobian,
    net_jacobians,
    pascanu_bound,
    pascanu_condition,
    products_and_bounds,
    saturation_example,
    slopes,
    span_norm,
    span_norms,
    span_product,
    span_products,
    state_jacobian,
    step_jacobians,
)
from rnnbook.plots.jacobian import (
    plot_circular_law,
    plot_eigen_and_products,
    plot_nonnormal_transient,
    plot_saturation,
)
from rnnbook.rnn import RNNParams, forward, to_torch
from rnnbook.spectra import (
    circular_law,
    eigenvalues,
    nonnormal_transient,
    rescale_to_spectral_norm,
    spectral_norm,
    spectral_radius,
)

ACTIVATIONS = ["tanh", "sigmoid", "relu", "identity"]


def setup(activation: str, n: int, seed: int, T: int = 7, B: int = 3, scale: float = 1.3):
    params = RNNParams.random(3, n, 2, activation=activation, g=scale, seed=seed)
    rng = np.random.default_rng(seed + 100)
    x = rng.normal(size=(T, B, 3))
    h0 = rng.normal(scale=0.5, size=(B, n))
    return params, forward(params, x, h0)


def torch_weights(params: RNNParams):
    return (torch.from_numpy(params.U), torch.from_numpy(params.W), torch.from_numpy(params.b))


def torch_run_from_h(params, trajectory, batch, k, t):
    """Return h_k -> h_t in torch: steps k+1..t of the RNN."""
    U, W, b = torch_weights(params)
    f = TORCH_ACTIVATIONS[params.activation]
    x = torch.from_numpy(trajectory.x[:, batch])

    def run(h):
        for j in range(k + 1, t + 1):
            h = f(U @ x[j - 1] + W @ h + b)
        return h

    return run


def torch_run_from_z(params, trajectory, batch, k, t, output="z"):
    """Return z_k -> z_t (or -> h_t) in torch."""
    U, W, b = torch_weights(params)
    f = TORCH_ACTIVATIONS[params.activation]
    x = torch.from_numpy(trajectory.x[:, batch])

    def run(z):
        h = f(z)
        for j in range(k + 1, t + 1):
            z = U @ x[j - 1] + W @ h + b
            h = f(z)
        return z if output == "z" else h

    return run


def h_at(trajectory, batch, k):
    states = trajectory.h0[batch] if k == 0 else trajectory.h[k - 1, batch]
    return torch.from_numpy(states.copy())


@pytest.mark.parametrize("activation", ACTIVATIONS)
@pytest.mark.parametrize("n,seed", [(1, 0), (4, 1), (9, 2)])
@pytest.mark.parametrize("batch", [0, 2])
def test_step_jacobians_equal_torch_jacobian_of_one_step(activation, n, seed, batch):
    params, trajectory = setup(activation, n, seed)
    J = step_jacobians(params, trajectory, batch)
    T = trajectory.z.shape[0]
    assert J.shape == (T, n, n)
    for t in range(1, T + 1):
        step = torch_run_from_h(params, trajectory, batch, t - 1, t)
        expected = torch.autograd.functional.jacobian(step, h_at(trajectory, batch, t - 1))
        np.testing.assert_allclose(J[t - 1], expected.numpy(), rtol=1e-12, atol=1e-14)


def test_batch_selection_matters():
    params, trajectory = setup("tanh", 5, 3)
    assert not np.allclose(step_jacobians(params, trajectory, 0),
                           step_jacobians(params, trajectory, 1))


@pytest.mark.parametrize("activation", ACTIVATIONS)
@pytest.mark.parametrize("n,seed", [(3, 0), (6, 4)])
def test_span_products_equal_autograd_and_products_of_torch_jacobians(activation, n, seed):
    params, trajectory = setup(activation, n, seed, T=6)
    batch = 1
    J = step_jacobians(params, trajectory, batch)
    T = J.shape[0]
    products = span_products(J)
    norms = span_norms(J)
    assert products.shape == (T + 1, n, n) and norms.shape == (T + 1,)
    one_step = [
        torch.autograd.functional.jacobian(torch_run_from_h(params, trajectory, batch, t - 1, t),
                                           h_at(trajectory, batch, t - 1)).numpy()
        for t in range(1, T + 1)
    ]
    for d in range(T + 1):
        k = T - d
        run = torch_run_from_h(params, trajectory, batch, k, T)
        whole = torch.autograd.functional.jacobian(run, h_at(trajectory, batch, k)).numpy()
        chained = np.eye(n)
        for t in range(T, k, -1):
            chained = chained @ one_step[t - 1]
        np.testing.assert_allclose(products[d], whole, rtol=1e-11, atol=1e-14)
        np.testing.assert_allclose(products[d], chained, rtol=1e-11, atol=1e-14)
        np.testing.assert_allclose(norms[d], np.linalg.norm(whole, 2), rtol=1e-11, atol=1e-300)


@pytest.mark.parametrize("activation", ACTIVATIONS)
def test_general_spans_equal_autograd(activation):
    params, trajectory = setup(activation, 5, 7, T=8)
    J = step_jacobians(params, trajectory, 2)
    for t, k in [(8, 0), (5, 2), (3, 3), (7, 1), (1, 0)]:
        expected = torch.autograd.functional.jacobian(
            torch_run_from_h(params, trajectory, 2, k, t), h_at(trajectory, 2, k)).numpy()
        np.testing.assert_allclose(span_product(J, t, k), expected, rtol=1e-11, atol=1e-14)
        np.testing.assert_allclose(state_jacobian(params, trajectory, t, k, 2), expected,
                                   rtol=1e-11, atol=1e-14)
        assert span_norm(J, t, k) == pytest.approx(np.linalg.norm(expected, 2), rel=1e-11,
                                                   abs=1e-300)


@pytest.mark.parametrize("activation", ["tanh", "relu"])
@pytest.mark.parametrize("seed", [0, 5])
def test_full_product_equals_torch_nn_rnn_gradient_wrt_h0(activation, seed):
    params, trajectory = setup(activation, 6, seed, T=9, B=1)
    rnn, _ = to_torch(params)
    x = torch.from_numpy(trajectory.x)

    def final_state(h0):
        _, h_T = rnn(x, h0.reshape(1, 1, -1))
        return h_T.reshape(-1)

    expected = torch.autograd.functional.jacobian(final_state, torch.from_numpy(trajectory.h0[0]))
    J = step_jacobians(params, trajectory)
    np.testing.assert_allclose(span_products(J)[-1], expected.numpy(), rtol=1e-11, atol=1e-14)


@pytest.mark.parametrize("activation", ACTIVATIONS)
@pytest.mark.parametrize("t,k", [(6, 1), (6, 4), (4, 2), (3, 3)])
def test_net_space_jacobians_equal_autograd(activation, t, k):
    params, trajectory = setup(activation, 5, 11, T=6)
    batch = 0
    z_k = torch.from_numpy(trajectory.z[k - 1, batch].copy())
    expected = torch.autograd.functional.jacobian(
        torch_run_from_z(params, trajectory, batch, k, t), z_k).numpy()
    np.testing.assert_allclose(net_jacobian(params, trajectory, t, k, batch), expected,
                               rtol=1e-11, atol=1e-14)
    if t == k + 1:
        np.testing.assert_allclose(net_jacobians(params, trajectory, batch)[t - 2], expected,
                                   rtol=1e-12, atol=1e-14)


@pytest.mark.parametrize("activation", ACTIVATIONS)
@pytest.mark.parametrize("t,k", [(6, 1), (5, 3), (2, 1), (4, 4)])
def test_state_and_net_forms_meet_in_dh_t_dz_k(activation, t, k):
    params, trajectory = setup(activation, 4, 13, T=6)
    forms = jacobian_forms(params, trajectory, t, k, batch=1)
    assert isinstance(forms, JacobianForms)
    left = forms.slope_t[:, None] * forms.net  # D_t dz_t/dz_k
    right = forms.state * forms.slope_k[None, :]  # dh_t/dh_k D_k
    np.testing.assert_allclose(left, right, rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(forms.mixed, left, rtol=1e-12, atol=1e-14)
    z_k = torch.from_numpy(trajectory.z[k - 1, 1].copy())
    expected = torch.autograd.functional.jacobian(
        torch_run_from_z(params, trajectory, 1, k, t, output="h"), z_k).numpy()
    np.testing.assert_allclose(forms.mixed, expected, rtol=1e-11, atol=1e-14)
    # the other cut of the same chain: W dh_t/dh_k = dz_{t+1}/dz_{k+1} W
    if t < 6:
        np.testing.assert_allclose(params.W @ forms.state,
                                   net_jacobian(params, trajectory, t + 1, k + 1, 1) @ params.W,
                                   rtol=1e-11, atol=1e-14)


def test_one_step_forms_share_eigenvalues_not_singular_values():
    params, trajectory = setup("tanh", 5, 17, T=4)
    J = step_jacobians(params, trajectory)  # J_t = D_t W
    K = net_jacobians(params, trajectory)  # K_{t+1} = W D_t
    for t in range(1, 4):
        np.testing.assert_allclose(np.poly(J[t - 1]), np.poly(K[t - 1]), rtol=1e-9, atol=1e-12)
        assert not np.allclose(np.linalg.svd(J[t - 1], compute_uv=False),
                               np.linalg.svd(K[t - 1], compute_uv=False), rtol=1e-3)


@pytest.mark.parametrize("activation", ["tanh", "sigmoid", "relu"])
@pytest.mark.parametrize("scale", [0.3, 1.0, 2.5, 6.0])
def test_pascanu_bound_holds_on_many_random_instances(activation, scale):
    gamma = {"tanh": 1.0, "sigmoid": 0.25, "relu": 1.0}[activation]
    for seed in range(12):
        rng = np.random.default_rng(1000 + seed)
        n = int(rng.integers(2, 12))
        params = RNNParams.random(2, n, 1, activation=activation, g=scale,
                                  seed=seed)
        x = rng.normal(scale=float(rng.choice([0.1, 1.0, 5.0])), size=(25, 2))
        result = products_and_bounds(params, forward(params, x))
        sigma = spectral_norm(params.W)
        assert result.gamma == gamma and result.sigma_max == pytest.approx(sigma, rel=1e-12)
        np.testing.assert_allclose(result.bound, (gamma * sigma) ** np.arange(26), rtol=1e-12)
        tolerance = 1 + 1e-10
        assert np.all(result.norms <= result.trajectory_bound * tolerance)
        assert np.all(result.trajectory_bound <= result.bound * tolerance)
        condition = pascanu_condition(params.W, activation)
        if condition.vanishing_guaranteed:
            assert result.norms[-1] <= condition.kappa**25 * tolerance < 1
        if not condition.explosion_possible:
            assert np.all(result.norms <= 1 + 1e-10)


def test_pascanu_bound_is_attained_by_a_linear_rnn_with_scaled_orthogonal_w():
    Q, _ = np.linalg.qr(np.random.default_rng(3).normal(size=(6, 6)))
    params = RNNParams.random(2, 6, 1, activation="identity", seed=0).replace(W=1.3 * Q)
    result = products_and_bounds(params, forward(params, np.ones((30, 2))))
    np.testing.assert_allclose(result.norms, result.bound, rtol=1e-10)
    np.testing.assert_allclose(result.bound, 1.3 ** np.arange(31), rtol=1e-12)


def test_pascanu_condition_thresholds():
    W = rescale_to_spectral_norm(np.random.default_rng(0).normal(size=(5, 5)), 3.0)
    tanh, sigmoid = pascanu_condition(W, "tanh"), pascanu_condition(W, "sigmoid")
    assert tanh.kappa == pytest.approx(3.0) and tanh.explosion_possible
    assert not tanh.vanishing_guaranteed
    assert sigmoid.kappa == pytest.approx(0.75) and sigmoid.vanishing_guaranteed
    assert not sigmoid.explosion_possible
    np.testing.assert_allclose(pascanu_bound(W, "sigmoid", 4), 0.75 ** np.arange(5), rtol=1e-12)


def test_linear_rnn_products_are_powers_of_w():
    params, trajectory = setup("identity", 6, 21, T=12, scale=1.4)
    J = step_jacobians(params, trajectory)
    np.testing.assert_array_equal(J, np.broadcast_to(params.W, J.shape))
    expected = [np.linalg.norm(np.linalg.matrix_power(params.W, d), 2) for d in range(13)]
    np.testing.assert_allclose(span_norms(J), expected, rtol=1e-11)


def test_span_norms_overflow_to_inf_and_stay_exact_before():
    J = np.broadcast_to(10.0 * np.eye(4), (400, 4, 4))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        norms = span_norms(J)
        assert np.isinf(span_norm(J, 400, 50))
    d = np.arange(401)
    np.testing.assert_allclose(norms[d <= 308], 10.0 ** d[d <= 308], rtol=1e-12)
    assert np.all(np.isinf(norms[d > 308]))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        products = span_products(J)
    # beyond float64 the products are +inf on the diagonal and exactly 0 off it (never NaN)
    assert not np.isnan(products).any()
    np.testing.assert_array_equal(np.diagonal(products[-1]), np.inf)
    assert np.count_nonzero(products[-1]) == 4
    np.testing.assert_allclose(products[:309], np.array([10.0 ** d * np.eye(4)
                                                          for d in range(309)]), rtol=1e-13)


def test_span_norms_zero_and_nan():
    J = np.stack([np.eye(3), np.zeros((3, 3)), 2 * np.eye(3)])  # J_1, J_2, J_3
    np.testing.assert_array_equal(span_norms(J), [1.0, 2.0, 0.0, 0.0])
    J[0, 0, 0] = np.nan
    norms = span_norms(J)
    assert norms[2] == 0.0 and np.isnan(norms[3])
    J = np.stack([2 * np.eye(2), np.full((2, 2), np.nan), np.eye(2)])
    norms = span_norms(J)
    np.testing.assert_array_equal(norms[:2], [1.0, 1.0])
    assert np.isnan(norms[2:]).all()


@pytest.mark.parametrize("activation", ["identity", "tanh", "relu"])
def test_overflowed_forward_pass_gives_signed_inf_not_nan(activation):
    W = 40.0 * np.random.default_rng(0).normal(size=(4, 4))
    params = RNNParams.random(1, 4, 1, activation="identity", seed=0).replace(W=W)
    trajectory = forward(params, np.ones((400, 1)))  # overflows, carried as +-inf
    assert not np.isnan(trajectory.z).any() and np.isinf(trajectory.z[-1]).all()
    first = trajectory.overflow_step
    assert first is not None and np.isfinite(trajectory.z[:first - 1]).all()
    assert not np.isfinite(trajectory.z[first - 1]).all()
    params = params.replace(activation=activation)
    s = slopes(params, trajectory)
    assert not np.isnan(s).any()
    norms = span_norms(step_jacobians(params, trajectory))
    assert not np.isnan(norms).any() and norms[0] == 1.0


def test_saturation_example_vanishes_with_rho_above_one():
    result = saturation_example()
    assert isinstance(result, Saturation)
    assert result.rho == pytest.approx(1.5, rel=1e-12)
    assert result.sigma_max > 1  # gamma sigma_max > 1: Pascanu does not promise vanishing
    assert result.linear[-1] > 1e4  # the linear RNN with this W explodes
    assert result.norms[-1] < 1e-60  # the saturated tanh RNN's product vanishes
    # and here it is proven: every step's largest slope times sigma_max is below 1
    assert np.all(result.max_slope * result.sigma_max < 0.6)
    assert np.all(result.norms <= result.trajectory_bound * (1 + 1e-10))
    assert result.trajectory_bound[-1] < 1e-7


def test_saturation_with_a_smaller_bias_still_vanishes_and_without_bias_does_not_as_fast():
    moderate = saturation_example(bias=4.0, T=40)
    assert moderate.norms[-1] < 1e-20 and moderate.rho > 1
    unbiased = saturation_example(bias=0.0, T=40)
    assert unbiased.norms[-1] > 1e6 * moderate.norms[-1]


def test_eigen_and_products_fields():
    result = eigen_and_products(1.5, "tanh", n=12, T=30)
    assert isinstance(result, EigenProducts)
    assert result.eigenvalues.shape == (12,) and result.eigenvalues.dtype == complex
    assert result.rho == pytest.approx(np.abs(result.eigenvalues).max(), rel=1e-12)
    assert result.rho <= result.sigma_max
    assert result.d.shape == result.norms.shape == result.bound.shape == (31,)
    assert np.all(result.norms <= result.bound * (1 + 1e-10))
    np.testing.assert_allclose(result.bound, result.sigma_max ** np.arange(31), rtol=1e-12)
    linear = eigen_and_products(1.5, "identity", n=12, T=30)
    np.testing.assert_allclose(linear.norms, linear.linear, rtol=1e-11)
    np.testing.assert_allclose(linear.eigenvalues, result.eigenvalues)  # same seed, same W


@pytest.mark.parametrize("weight,slope", [(1.5, 0.1), (1.2, 0.3), (0.8, 0.05)])
def test_alternating_saturation_follows_its_targets_and_matches_torch(weight, slope):
    result = alternating_saturation(weight, slope, T=12)
    assert isinstance(result, AlternatingSaturation)
    rnn, _ = to_torch(result.params)
    x = torch.from_numpy(result.x)
    h0 = torch.zeros(2, dtype=torch.float64)
    with torch.no_grad():
        states, _ = rnn(x[:, None, :])
    z = torch.atanh(states[:, 0, :]).numpy()
    c = np.arctanh(np.sqrt(1 - slope))
    targets = np.array([[0.0, c] if t % 2 else [c, 0.0] for t in range(1, 13)])
    np.testing.assert_allclose(z, targets, atol=1e-9)
    J = result.jacobians
    for t in (1, 2, 7):
        step = torch_run_from_h(result.params, forward(result.params, result.x), 0, t - 1, t)
        start = h0 if t == 1 else states[t - 2, 0]
        expected = torch.autograd.functional.jacobian(step, start).numpy()
        np.testing.assert_allclose(J[t - 1], expected, rtol=1e-12, atol=1e-14)

    def final_state(h):
        _, h_T = rnn(x[:, None, :], h.reshape(1, 1, -1))
        return h_T.reshape(-1)

    whole = torch.autograd.functional.jacobian(final_state, h0).numpy()
    assert result.norms[-1] == pytest.approx(np.linalg.norm(whole, 2), rel=1e-9)
    # every step's eigenvalues have modulus a sqrt(slope); pairs multiply to a^2 diag(...)
    np.testing.assert_allclose(result.step_radii, weight * np.sqrt(slope), rtol=1e-9)
    np.testing.assert_allclose(np.abs(eigenvalues(J[4])), weight * np.sqrt(slope), rtol=1e-9)
    np.testing.assert_allclose(result.norms[::2], weight ** np.arange(0, 13, 2), rtol=1e-9)


def test_alternating_saturation_explodes_although_every_step_radius_is_below_one():
    result = alternating_saturation(1.5, 0.1, T=40)
    assert result.step_radii.max() < 0.5
    assert spectral_radius(result.params.W) == pytest.approx(1.5)
    assert result.norms[-1] == pytest.approx(1.5**40, rel=1e-9)
    with pytest.raises(ValueError, match="slope must be at most 1"):
        alternating_saturation(1.5, 1.5)
    with pytest.raises(ValueError, match="weight"):
        alternating_saturation(0.0, 0.1)
    with pytest.raises(ValueError, match="T must"):
        alternating_saturation(1.5, 0.1, T=1)


def test_bound_survey_agrees_with_direct_products_and_the_bound_holds():
    survey = bound_survey(("tanh", "sigmoid", "identity"), (0.5, 3.0), (3, 7), seeds=2,
                          T=20)
    assert isinstance(survey, BoundSurvey)
    assert survey.kappa.shape == (24,) and survey.T == 20
    for i in (0, 5, 13, 23):
        n, g, s = int(survey.n[i]), float(survey.g[i]), i % 2
        params = RNNParams.random(2, n, 1, activation=str(survey.activation[i]),
                                  g=g, seed=s)
        x = np.random.default_rng(1000 + s).normal(size=(20, 2))
        direct = products_and_bounds(params, forward(params, x))
        assert survey.kappa[i] == pytest.approx(direct.gamma * direct.sigma_max, rel=1e-12)
        assert survey.final[i] == pytest.approx(direct.norms[-1], rel=1e-10)
        assert survey.largest[i] == pytest.approx(direct.norms[1:].max(), rel=1e-10)
        ratio = np.max(direct.norms[1:] / direct.bound[1:])
        assert survey.worst_ratio[i] == pytest.approx(ratio, rel=1e-9)
    assert np.all(survey.worst_ratio <= 1 + 1e-10)
    # the linear RNN attains it at d = 1 (||W|| = sigma_max); tanh's slopes are below 1
    np.testing.assert_allclose(survey.worst_ratio[survey.activation == "identity"], 1.0,
                               rtol=1e-12)
    assert np.all(survey.worst_ratio[survey.activation == "tanh"] < 1)
    assert np.all(survey.kappa[survey.largest > 1] > 1)  # growth needs kappa > 1


def test_bound_survey_rejects_bad_arguments():
    with pytest.raises(TypeError, match="activations"):
        bound_survey("tanh")
    with pytest.raises(ValueError, match="unknown activation"):
        bound_survey(("softplus",), (1.0,), (2,), seeds=1, T=2)
    with pytest.raises(ValueError, match=r"^gs\[0\] must"):
        bound_survey(("tanh",), (-1.0,))
    with pytest.raises(ValueError, match="size"):
        bound_survey(("tanh",), (1.0,), (0,))
    with pytest.raises(ValueError, match="empty"):
        bound_survey(("tanh",), (), (2,))


def test_bad_inputs_raise():
    params, trajectory = setup("tanh", 4, 0, T=5, B=2)
    other = RNNParams.random(3, 5, 2, seed=0)
    with pytest.raises(ValueError, match=r"expected \(T, B, 5\)"):
        step_jacobians(other, trajectory)
    with pytest.raises(TypeError, match="RNNParams"):
        step_jacobians("params", trajectory)
    with pytest.raises(TypeError, match="Trajectory"):
        step_jacobians(params, trajectory.z)
    with pytest.raises(ValueError, match="batch must be between 0 and 1"):
        step_jacobians(params, trajectory, batch=2)
    with pytest.raises(TypeError, match="batch"):
        step_jacobians(params, trajectory, batch=0.5)
    J = step_jacobians(params, trajectory)
    with pytest.raises(ValueError, match="t must be between 0 and 5"):
        span_product(J, 6, 0)
    with pytest.raises(ValueError, match="k must be between 0 and 2"):
        span_norm(J, 2, 3)
    with pytest.raises(ValueError, match="k must be between 1"):
        net_jacobian(params, trajectory, 3, 0)
    with pytest.raises(ValueError, match=r"\(T, n, n\)"):
        span_norms(J[0])
    with pytest.raises(ValueError, match=r"\(T, n, n\)"):
        span_products(np.ones((3, 2, 4)))
    with pytest.raises(TypeError):
        span_norms("J")
    with pytest.raises(ValueError, match="unknown activation"):
        pascanu_bound(params.W, "softplus", 5)
    with pytest.raises(ValueError, match="steps"):
        pascanu_bound(params.W, "tanh", -1)
    with pytest.raises(ValueError, match="^g must"):
        eigen_and_products(-1.0)
    with pytest.raises(ValueError, match="^g must"):
        eigen_and_products(float("nan"))
    with pytest.raises(TypeError, match="^g must"):
        eigen_and_products("1")
    with pytest.raises(ValueError, match="rho"):
        saturation_example(rho=0.0)
    with pytest.raises(ValueError, match="T must"):
        saturation_example(T=0)


def draw(fig) -> bytes:
    assert isinstance(fig, Figure)
    width, height = fig.get_size_inches()
    assert (width, height) == pytest.approx((7.0, 2.8)) or width < 7
    return render_png(fig)


def figure_texts(fig) -> str:
    return " ".join(text.get_text() for ax in fig.axes for text in ax.texts)


@pytest.mark.parametrize("activation,scale", [("tanh", 1.0), ("sigmoid", 6.0)])
def test_plot_eigen_and_products_draws_every_regime(activation, scale):
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        result = eigen_and_products(scale, activation, T=40)
        fig = plot_eigen_and_products(result)
        png = draw(fig)
    assert 2_000 < len(png) < 30_000
    left, right = fig.axes
    assert right.get_yscale() == "log" and len(right.lines) >= 3
    assert len(left.lines) >= 3  # circles and eigenvalues
    labels = [tick.get_text() for tick in right.get_yticklabels()]
    assert labels == ["10\u207b\u2074\u2070", "10\u207b\u00b2\u2070", "10\u2070",
                      "10\u00b2\u2070", "10\u2074\u2070"]  # plain Unicode, no mathtext


def test_plot_marks_overflow_and_clipping():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        exploding = eigen_and_products(6.0, "relu", T=300)  # the bound overflows to inf
        fig = plot_eigen_and_products(exploding)
        draw(fig)
    assert np.isinf(exploding.bound[-1])
    assert "off the scale" in figure_texts(fig) or "overflow" in figure_texts(fig)
    vanishing = plot_eigen_and_products(eigen_and_products(0.5, "sigmoid", T=60))
    assert "below 1e-40" in figure_texts(vanishing)


def test_plot_nonnormal_transient_marks_the_peak():
    fig = plot_nonnormal_transient(nonnormal_transient(0.9, 10.0))
    assert "peak 38.7 at k = 9" in figure_texts(fig)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        draw(plot_nonnormal_transient(nonnormal_transient(3.0, 1.0, steps=800)))


def test_other_plots_draw_and_reject_wrong_results():
    draw(plot_saturation(saturation_example()))
    draw(plot_circular_law(circular_law(100, 1.5)))
    for plot in (plot_eigen_and_products, plot_nonnormal_transient, plot_saturation,
                 plot_circular_law):
        with pytest.raises(TypeError, match="expected"):
            plot(object())
