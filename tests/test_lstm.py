"""The numpy LSTM against torch.nn.LSTM / LSTMCell and torch.autograd, in float64."""

import numpy as np
import pytest
import torch
from matplotlib.figure import Figure
from torch_reference import GATED_SIZES, GATED_TOL, gated_inputs, torch_gate_blocks

from rnnbook.lstm import (
    GradientFlow,
    LSTMParams,
    forget_bias_gradient_flow,
    lstm_cell,
    lstm_cell_jacobian,
    lstm_cell_spans,
    lstm_count_params,
    lstm_forward,
    lstm_from_torch,
    lstm_state_jacobian,
    lstm_to_torch,
)
from rnnbook.plots.gates import plot_gradient_flow
from rnnbook.rnn import RNNParams
from rnnbook.rnn import to_torch as rnn_to_torch


def torch_gates(module: torch.nn.LSTMCell, x, h):
    """torch's own pre-activations, split with torch's chunk: (i, f, g, o) activated."""
    (x_i, x_f, x_g, x_o), (h_i, h_f, h_g, h_o) = torch_gate_blocks(module, x, h, 4)
    i, f, g, o = x_i + h_i, x_f + h_f, x_g + h_g, x_o + h_o
    return torch.sigmoid(i), torch.sigmoid(f), torch.tanh(g), torch.sigmoid(o)


@pytest.mark.parametrize("d, n, B, T", GATED_SIZES)
@pytest.mark.parametrize("seed", [0, 1])
def test_forward_equals_torch_lstm(d, n, B, T, seed):
    params = LSTMParams.random(d, n, forget_bias=1.0, g=1.5, seed=seed)
    x, h0, c0 = gated_inputs(d, n, B, T, seed + 100, states=2)
    traj = lstm_forward(params, x, h0, c0)
    module = lstm_to_torch(params)
    out, (h_T, c_T) = module(torch.from_numpy(x),
                             (torch.from_numpy(h0)[None], torch.from_numpy(c0)[None]))
    assert np.max(np.abs(traj.h - out.detach().numpy())) <= GATED_TOL
    assert np.max(np.abs(traj.c[-1] - c_T[0].detach().numpy())) <= GATED_TOL
    assert np.max(np.abs(traj.h[-1] - h_T[0].detach().numpy())) <= GATED_TOL


@pytest.mark.parametrize("d, n, B, T", GATED_SIZES[:3])
def test_gates_follow_torch_order(d, n, B, T):
    """Gates, cell states from torch's chunk(4) order i, f, g, o, step by step."""
    params = LSTMParams.random(d, n, seed=3)
    x, h0, c0 = gated_inputs(d, n, B, T, 103, states=2)
    traj = lstm_forward(params, x, h0, c0)
    cell = lstm_to_torch(params, cell=True)
    h, c = torch.from_numpy(h0), torch.from_numpy(c0)
    for t in range(T):
        xt = torch.from_numpy(x[t])
        gates = torch_gates(cell, xt, h)
        for name, value in zip("ifgo", gates, strict=True):
            assert np.max(np.abs(getattr(traj, name)[t] - value.detach().numpy())) <= GATED_TOL
        h, c = cell(xt, (h, c))
        assert np.max(np.abs(traj.c[t] - c.detach().numpy())) <= GATED_TOL
        assert np.max(np.abs(traj.h[t] - h.detach().numpy())) <= GATED_TOL


def test_torch_default_init_round_trip():
    """from_torch sums torch's two biases; the result runs like the torch module."""
    torch.manual_seed(0)
    module = torch.nn.LSTM(3, 6, dtype=torch.float64)
    assert torch.any(module.bias_hh_l0 != 0)
    params = lstm_from_torch(module)
    x = np.random.default_rng(0).normal(size=(15, 2, 3))
    out, _ = module(torch.from_numpy(x))
    assert np.max(np.abs(lstm_forward(params, x).h - out.detach().numpy())) <= GATED_TOL
    cell = torch.nn.LSTMCell(3, 6, dtype=torch.float64)
    cell_params = lstm_from_torch(cell)
    h, c = cell(torch.from_numpy(x[0]))
    ours = lstm_cell(cell_params, x[0], np.zeros((2, 6)), np.zeros((2, 6)))
    assert np.max(np.abs(ours[0] - h.detach().numpy())) <= GATED_TOL
    assert np.max(np.abs(ours[1] - c.detach().numpy())) <= GATED_TOL


@pytest.mark.parametrize("d, n", [(1, 1), (4, 3), (10, 20)])
def test_cell_single_and_batch(d, n):
    params = LSTMParams.random(d, n, seed=5)
    rng = np.random.default_rng(5)
    x, h, c = rng.normal(size=(4, d)), rng.normal(size=(4, n)), rng.normal(size=(4, n))
    module = lstm_to_torch(params, cell=True)
    h_t, c_t = module(torch.from_numpy(x), (torch.from_numpy(h), torch.from_numpy(c)))
    ours_h, ours_c = lstm_cell(params, x, h, c)
    assert np.max(np.abs(ours_h - h_t.detach().numpy())) <= GATED_TOL
    assert np.max(np.abs(ours_c - c_t.detach().numpy())) <= GATED_TOL
    single_h, single_c = lstm_cell(params, x[1], h[1], c[1])
    assert single_h.shape == (n,)
    np.testing.assert_allclose(single_h, ours_h[1], rtol=0, atol=1e-15)
    np.testing.assert_allclose(single_c, ours_c[1], rtol=0, atol=1e-15)


def test_unbatched_sequence_matches_batch_of_one():
    params = LSTMParams.random(2, 4, seed=0)
    x = np.random.default_rng(1).normal(size=(9, 2))
    np.testing.assert_allclose(lstm_forward(params, x).h, lstm_forward(params, x[:, None]).h,
                               rtol=0, atol=1e-15)


@pytest.mark.parametrize("d, n", [(1, 1), (2, 32), (10, 7), (128, 64)])
def test_param_count_matches_torch(d, n):
    module = torch.nn.LSTM(d, n)
    assert lstm_count_params(d, n) == sum(p.numel() for p in module.parameters())
    cell = torch.nn.LSTMCell(d, n)
    assert lstm_count_params(d, n) == sum(p.numel() for p in cell.parameters())
    params = LSTMParams.random(d, n)
    assert lstm_count_params(d, n, torch_biases=False) == params.U.size + params.W.size + \
        params.b.size


def test_gate_blocks_and_forget_bias():
    params = LSTMParams.random(3, 4, forget_bias=5.0, seed=2)
    U_f, W_f, b_f = params.gate("f")
    np.testing.assert_array_equal(U_f, params.U[4:8])
    np.testing.assert_array_equal(W_f, params.W[4:8])
    assert np.all(b_f > 4.0)
    assert np.all(np.abs(params.gate("i")[2]) < 1.0)
    with pytest.raises(ValueError, match="unknown LSTM gate"):
        params.gate("z")


# --- Jacobians ----------------------------------------------------------------------------


def small_case(seed, n=4, d=3, B=2, T=6, **kwargs):
    params = LSTMParams.random(d, n, g=2.0, seed=seed, **kwargs)
    x, h0, c0 = gated_inputs(d, n, B, T, seed + 100, states=2)
    return params, x, lstm_forward(params, x, h0, c0)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_cell_jacobian_equals_autograd(seed):
    """dc_t/dc_{t-1} with h_{t-1} = o_{t-1} tanh(c_{t-1}), o_{t-1} from torch's own gates."""
    params, x, traj = small_case(seed)
    cell = lstm_to_torch(params, cell=True)
    jac = lstm_cell_jacobian(params, traj)
    T, B, n = traj.h.shape
    assert jac.total.shape == (T - 1, B, n, n)
    np.testing.assert_array_equal(jac.t, np.arange(2, T + 1))
    for t in range(2, T + 1):
        for b in range(B):
            h_before = torch.from_numpy(traj.h_prev[t - 2, b])  # h_{t-2}
            o_prev = torch_gates(cell, torch.from_numpy(x[t - 2, b]), h_before)[3].detach()
            x_t = torch.from_numpy(x[t - 1, b])
            c_prev = torch.from_numpy(traj.c[t - 2, b])
            h_prev = torch.from_numpy(traj.h[t - 2, b])

            def c_next(c, o_prev=o_prev, x_t=x_t):
                return cell(x_t, (o_prev * torch.tanh(c), c))[1]

            def c_next_h_fixed(c, x_t=x_t, h=h_prev):
                return cell(x_t, (h, c))[1]

            def h_of_c(c, o_prev=o_prev):
                return o_prev * torch.tanh(c)

            def c_of_h(h, x_t=x_t, c=c_prev):
                return cell(x_t, (h, c))[1]

            total = torch.autograd.functional.jacobian(c_next, c_prev).numpy()
            direct = torch.autograd.functional.jacobian(c_next_h_fixed, c_prev).numpy()
            via_h = (torch.autograd.functional.jacobian(c_of_h, h_prev)
                     @ torch.autograd.functional.jacobian(h_of_c, c_prev)).numpy()
            assert np.max(np.abs(jac.total[t - 2, b] - total)) <= GATED_TOL
            assert np.max(np.abs(np.diag(jac.forget[t - 2, b]) - direct)) <= GATED_TOL
            assert np.max(np.abs(jac.rest[t - 2, b] - via_h)) <= GATED_TOL


def test_cell_jacobian_is_forget_gate_without_recurrence():
    params, _, traj = small_case(0)
    params = params.replace(W=np.zeros_like(params.W))
    traj = lstm_forward(params, traj.x, traj.h0, traj.c0)
    jac = lstm_cell_jacobian(params, traj)
    assert np.all(jac.rest == 0)
    np.testing.assert_array_equal(np.diagonal(jac.total, axis1=-2, axis2=-1), traj.f[1:])


@pytest.mark.parametrize("seed", [0, 4])
def test_state_jacobian_equals_autograd(seed):
    params, x, traj = small_case(seed)
    cell = lstm_to_torch(params, cell=True)
    S = lstm_state_jacobian(params, traj)
    T, B, n = traj.h.shape
    h_prev, c_prev = traj.h_prev, traj.c_prev
    for t in range(T):
        for b in range(B):
            x_t = torch.from_numpy(x[t, b])

            def step(state, x_t=x_t):
                h, c = cell(x_t, (state[n:], state[:n]))
                return torch.cat([c, h])

            state = torch.from_numpy(np.concatenate([c_prev[t, b], h_prev[t, b]]))
            expected = torch.autograd.functional.jacobian(step, state).numpy()
            assert np.max(np.abs(S[t, b] - expected)) <= GATED_TOL


@pytest.mark.parametrize("seed", [0, 1])
def test_spans_equal_autograd_for_every_k(seed):
    """dc_T/dc_k: perturb c_k, h_k = o_k tanh(c_k) follows, then run torch's cell to T."""
    params, x, traj = small_case(seed, T=7)
    cell = lstm_to_torch(params, cell=True)
    spans = lstm_cell_spans(params, traj)
    T, B, n = traj.h.shape
    np.testing.assert_array_equal(spans.k, np.arange(1, T + 1))
    np.testing.assert_array_equal(spans.distance, T - np.arange(1, T + 1))
    for k in range(1, T + 1):
        for b in range(B):
            o_k = torch_gates(cell, torch.from_numpy(x[k - 1, b]),
                              torch.from_numpy(traj.h_prev[k - 1, b]))[3].detach()

            def c_T(c_k, o_k=o_k, k=k, b=b):
                h, c = o_k * torch.tanh(c_k), c_k
                for t in range(k, T):
                    h, c = cell(torch.from_numpy(x[t, b]), (h, c))
                return c

            expected = torch.autograd.functional.jacobian(
                c_T, torch.from_numpy(traj.c[k - 1, b])).numpy()
            assert np.max(np.abs(spans.products[k - 1, b] - expected)) <= GATED_TOL
            assert spans.norms[k - 1, b] == pytest.approx(np.linalg.norm(expected, 2), rel=1e-10)
    np.testing.assert_allclose(spans.gate_path[0], np.prod(traj.f[1:], axis=0), rtol=1e-14)


def test_product_of_one_step_jacobians_misses_the_output_gate_path():
    """prod C_t equals dc_T/dc_k only when o_t does not depend on h_{t-1} (W_o = 0)."""
    params, x, traj = small_case(2, T=8)
    W = params.W.copy()
    n = params.n_hidden
    for W_o_zero, equal in ((False, False), (True, True)):
        if W_o_zero:
            W[3 * n:] = 0.0
        p = params.replace(W=W)
        tr = lstm_forward(p, x, traj.h0, traj.c0)
        C = lstm_cell_jacobian(p, tr).total[:, 0]  # C_2..C_T of the first sequence
        exact = lstm_cell_spans(p, tr).products[0, 0]  # dc_T/dc_1
        chained = np.eye(n)
        for C_t in C:
            chained = C_t @ chained  # C_T ... C_2
        gap = np.max(np.abs(chained - exact))
        assert (gap <= GATED_TOL) if equal else (gap > 1e-6)


def test_spans_of_constant_forget_gate():
    """With W = 0 and U_f = 0 the forget gate is constant: dc_T/dc_k = diag(f)^(T-k)."""
    params, _, traj = small_case(1, T=10)
    U = params.U.copy()
    n = params.n_hidden
    U[n:2 * n] = 0.0
    params = params.replace(W=np.zeros_like(params.W), U=U)
    traj = lstm_forward(params, traj.x, traj.h0, traj.c0)
    spans = lstm_cell_spans(params, traj)
    f = traj.f[0, 0]
    for k in range(1, 11):
        np.testing.assert_allclose(spans.products[k - 1, 0], np.diag(f ** (10 - k)), rtol=1e-13)


# --- the explorer's compute and plot -------------------------------------------------------


def test_gradient_flow_rnn_part_equals_autograd():
    T, n = 8, 4
    flow = forget_bias_gradient_flow(1.0, T=T, n=n, seed=3)
    x = np.random.default_rng([3, 7]).normal(size=(T, 1, 1))
    rnn, _ = rnn_to_torch(RNNParams.random(1, n, 1, seed=3))
    h_T = rnn(torch.from_numpy(x))[0][:, 0]
    for k in range(1, T):
        def run_from(h_k, k=k):
            h = h_k[None]
            for t in range(k, T):
                h = rnn(torch.from_numpy(x[t:t + 1]), h[None])[1][0]
            return h[0]

        expected = torch.autograd.functional.jacobian(run_from, h_T[k - 1].detach()).numpy()
        assert flow.rnn[T - k] == pytest.approx(np.linalg.norm(expected, 2), rel=1e-10)
    params = LSTMParams.random(1, n, forget_bias=1.0, seed=3)
    spans = lstm_cell_spans(params, lstm_forward(params, x))
    np.testing.assert_array_equal(flow.lstm, spans.norms[::-1, 0])


def test_gradient_flow_follows_the_forget_bias():
    flows = [forget_bias_gradient_flow(b, T=60, n=16) for b in (-2.0, 0.0, 2.0, 5.0)]
    assert all(isinstance(f, GradientFlow) for f in flows)
    for flow in flows:
        assert flow.distance.tolist() == list(range(60))
        assert flow.lstm[0] == pytest.approx(1.0)
        assert flow.rnn.shape == flow.lstm.shape == flow.forget_path.shape == (60,)
    means = [f.mean_forget for f in flows]
    far = [f.forget_path[-1] for f in flows]
    assert means == sorted(means) and far == sorted(far)
    assert flows[0].lstm[-1] < 1e-20 < flows[-1].lstm[-1]


def test_plot_gradient_flow_returns_figures_also_when_exploding():
    for flow in (forget_bias_gradient_flow(1.0, T=30, n=8),
                 forget_bias_gradient_flow(1.0, T=30, n=8, g=40.0)):
        fig = plot_gradient_flow(flow)
        assert isinstance(fig, Figure) and len(fig.axes) == 2
    assert any("off the scale" in text.get_text() for text in fig.axes[0].texts)
    broken = GradientFlow(0.0, np.arange(5), np.array([1, 0.5, np.inf, np.inf, np.inf]),
                          np.ones(5), np.array([1.0, np.nan, np.nan, np.nan, np.nan]),
                          np.full((5, 2), 0.5), 1.0)
    fig = plot_gradient_flow(broken)
    assert any("overflow" in text.get_text() for text in fig.axes[0].texts)
    with pytest.raises(TypeError, match="GradientFlow"):
        plot_gradient_flow(np.ones(3))


# --- bad input ------------------------------------------------------------------------------


def test_bad_params_raise():
    good = LSTMParams.random(2, 3)
    with pytest.raises(ValueError, match=r"W has shape \(9, 3\), expected \(12, 3\)"):
        good.replace(W=np.ones((9, 3)))
    with pytest.raises(ValueError, match="b has shape"):
        good.replace(b=np.ones(3))
    with pytest.raises(ValueError, match="NaN"):
        good.replace(U=np.full((12, 2), np.nan))
    with pytest.raises(TypeError, match="no field"):
        good.replace(V=1)
    with pytest.raises(ValueError, match="n_hidden"):
        LSTMParams.random(2, 0)
    with pytest.raises(TypeError, match="n_input"):
        LSTMParams.random(2.0, 3)
    with pytest.raises(ValueError, match="forget_bias"):
        LSTMParams.random(2, 3, forget_bias=np.nan)


def test_bad_inputs_raise():
    params = LSTMParams.random(2, 3)
    with pytest.raises(ValueError, match=r"last axis must have size 2"):
        lstm_forward(params, np.ones((5, 4, 3)))
    with pytest.raises(ValueError, match="NaN"):
        lstm_forward(params, np.full((5, 2), np.nan))
    with pytest.raises(ValueError, match="batch size 2"):
        lstm_forward(params, np.ones((5, 4, 2)), h0=np.ones((2, 3)))
    with pytest.raises(ValueError, match="dimensions"):
        lstm_forward(params, np.ones(5))
    with pytest.raises(ValueError, match="empty"):
        lstm_forward(params, np.ones((0, 2)))
    with pytest.raises(TypeError, match="LSTMParams"):
        lstm_forward(RNNParams.random(2, 3, 1), np.ones((5, 2)))
    with pytest.raises(ValueError, match="batch axis"):
        lstm_cell(params, np.ones(2), np.ones((1, 3)), np.ones((1, 3)))
    with pytest.raises(ValueError, match="T >= 2"):
        lstm_cell_jacobian(params, lstm_forward(params, np.ones((1, 2))))
    other = LSTMParams.random(2, 4)
    with pytest.raises(ValueError, match="does not match"):
        lstm_cell_spans(other, lstm_forward(params, np.ones((3, 2))))
    with pytest.raises(ValueError, match="T must be >= 2"):
        forget_bias_gradient_flow(1.0, T=1)
    with pytest.raises(ValueError, match="finite"):
        forget_bias_gradient_flow(np.inf)
    with pytest.raises(ValueError, match="n_hidden"):
        lstm_count_params(3, 0)


def test_bad_torch_modules_raise():
    with pytest.raises(ValueError, match="one-layer"):
        lstm_from_torch(torch.nn.LSTM(2, 3, num_layers=2))
    with pytest.raises(ValueError, match="proj_size"):
        lstm_from_torch(torch.nn.LSTM(2, 3, proj_size=2))
    with pytest.raises(TypeError, match="torch.nn.LSTM"):
        lstm_from_torch(torch.nn.GRU(2, 3))


def test_describe_gradient_flow_names_the_numbers():
    from rnnbook.lstm import describe_gradient_flow

    flow = forget_bias_gradient_flow(3.0, T=40, n=8)
    text = describe_gradient_flow(flow, distances=(10, 100))
    assert "bias +3" in text and "g = 1" in text and f"{flow.mean_forget:.2f}" in text
    assert f"LSTM {flow.lstm[10]:.2g}" in text and f"RNN {flow.rnn[39]:.2g}" in text
    assert "distance 39" in text and "distance 100" not in text  # clipped to the longest
    broken = GradientFlow(0.0, np.arange(3), np.array([1.0, 2.0, np.inf]), np.ones(3),
                          np.array([1.0, 0.5, 0.25]), np.full((3, 2), 0.5), 1.0)
    assert "at distance 2: LSTM overflow (inf), forget path 1, RNN 0.25" in (
        describe_gradient_flow(broken))
    with pytest.raises(TypeError, match="GradientFlow"):
        describe_gradient_flow("flow")
    with pytest.raises(ValueError, match="distance must be >= 0"):
        describe_gradient_flow(flow, distances=(-1,))
