"""One causal self-attention head in numpy, forward and backward.

For inputs X of shape (T, d) (or (B, T, d)) and weights W_q, W_k (d, k), W_v (d, v):

    Q = X W_q,  K = X W_k,  V = X W_v,
    S = Q K^T / sqrt(k) + M,   M[t, s] = -inf for s > t (the causal mask),
    P = softmax(S) row by row,  Y = P V.

Row t of Y is a weighted mean of the values of steps 1..t: the output at t depends on the input at
t - d through one softmax weight P[t, t - d], whatever the distance d (the chapter's "path
length one"). The price is the T x T score matrix: O(T^2 k) time and O(T^2) memory per head.

Backward (:func:`attention_backward`), with G = dL/dY:

    dV = P^T G,  dP = G V^T,  dS = P * (dP - rowsum(dP * P)),
    dQ = dS K / sqrt(k),  dK = dS^T Q / sqrt(k),
    dX = dQ W_q^T + dK W_k^T + dV W_v^T,  dW_q = X^T dQ, dW_k = X^T dK, dW_v = X^T dV.

The layout matches ``torch.nn.functional.scaled_dot_product_attention(q, k, v, is_causal=True)``
with q = X W_q, k = X W_k, v = X W_v.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from rnnbook.checks import check_array, check_count, check_seed


@dataclass(frozen=True, eq=False)
class AttentionParams:
    """The weights of one head: ``wq``, ``wk`` (d, k) and ``wv`` (d, v)."""

    wq: np.ndarray
    wk: np.ndarray
    wv: np.ndarray

    def __post_init__(self) -> None:
        for name in ("wq", "wk", "wv"):
            value = np.asarray(getattr(self, name), dtype=np.float64)
            if value.ndim != 2 or 0 in value.shape:
                raise ValueError(f"{name} must be a non-empty matrix (d, k), got shape "
                                 f"{value.shape}")
            if not np.all(np.isfinite(value)):
                raise ValueError(f"{name} contains NaN or infinite values")
            object.__setattr__(self, name, value)
        if self.wq.shape != self.wk.shape:
            raise ValueError(f"wq and wk must have the same shape, got {self.wq.shape} and "
                             f"{self.wk.shape}")
        if self.wv.shape[0] != self.wq.shape[0]:
            raise ValueError(f"wv must have {self.wq.shape[0]} rows (the input width), got "
                             f"shape {self.wv.shape}")

    @property
    def d(self) -> int:
        """Input width."""
        return self.wq.shape[0]

    @classmethod
    def random(cls, d: int, k: int, v: int | None = None, *, seed: int = 0) -> AttentionParams:
        """Return weights drawn from N(0, 1/d) (the usual fan-in scaling)."""
        d = check_count("d", d)
        k = check_count("k", k)
        v = k if v is None else check_count("v", v)
        rng = np.random.default_rng(check_seed("seed", seed))
        scale = 1.0 / np.sqrt(d)
        return cls(*(scale * rng.normal(size=(d, w)) for w in (k, k, v)))


@dataclass(frozen=True, eq=False)
class AttentionCache:
    """What the backward pass needs: inputs ``x``, ``q``, ``k``, ``v`` and the weights ``p``."""

    x: np.ndarray
    q: np.ndarray
    k: np.ndarray
    v: np.ndarray
    p: np.ndarray


def _inputs(x, d: int) -> np.ndarray:
    if isinstance(x, str | bytes):
        raise TypeError(f"x must be an array (T, d) or (B, T, d), got {type(x).__name__}")
    x = check_array("x", x, finite=False)
    if x.ndim not in (2, 3):
        raise ValueError(f"x must have shape (T, d) or (B, T, d), got shape {x.shape}")
    if x.shape[-2] == 0:
        raise ValueError(f"x is an empty sequence (T = 0), shape {x.shape}")
    if 0 in x.shape:
        raise ValueError(f"x has an empty axis: shape {x.shape}")
    if x.shape[-1] != d:
        raise ValueError(f"x has width {x.shape[-1]} but the weights expect d = {d}")
    if not np.all(np.isfinite(x)):
        raise ValueError("x contains NaN or infinite values")
    return x


def causal_mask(T: int) -> np.ndarray:
    """Return the (T, T) boolean mask that is True where step t may attend to step s (s <= t)."""
    T = check_count("T", T)
    return np.tril(np.ones((T, T), dtype=bool))


def attention_weights(q: np.ndarray, k: np.ndarray) -> np.ndarray:
    """Return the causal softmax weights P (..., T, T) of queries and keys (..., T, k)."""
    q = check_array("q", q, finite=False)
    k = check_array("k", k, finite=False)
    if q.ndim < 2 or q.shape != k.shape:
        raise ValueError(f"q and k must have the same shape (..., T, k), got {q.shape} and "
                         f"{k.shape}")
    if 0 in q.shape:
        raise ValueError(f"q has an empty axis (an empty sequence?): shape {q.shape}")
    if not (np.all(np.isfinite(q)) and np.all(np.isfinite(k))):
        raise ValueError("q and k must be finite")
    scores = q @ np.swapaxes(k, -1, -2) / np.sqrt(q.shape[-1])
    scores = np.where(causal_mask(q.shape[-2]), scores, -np.inf)
    scores = scores - scores.max(axis=-1, keepdims=True)
    weights = np.exp(scores)
    return weights / weights.sum(axis=-1, keepdims=True)


def attention_forward(params: AttentionParams, x) -> tuple[np.ndarray, AttentionCache]:
    """Return the head's outputs Y (T, v) or (B, T, v) and the cache for the backward pass.

    Parameters
    ----------
    params : AttentionParams
    x : array_like, shape (T, d) or (B, T, d)
        The input sequence(s), T >= 1.
    """
    if not isinstance(params, AttentionParams):
        raise TypeError(f"params must be AttentionParams, got {type(params).__name__}")
    x = _inputs(x, params.d)
    q, k, v = x @ params.wq, x @ params.wk, x @ params.wv
    p = attention_weights(q, k)
    return p @ v, AttentionCache(x=x, q=q, k=k, v=v, p=p)


def attention_backward(
    params: AttentionParams, cache: AttentionCache, grad_y
) -> dict[str, np.ndarray]:
    """Return the gradients ``x``, ``wq``, ``wk``, ``wv`` of L given ``grad_y`` = dL/dY.

    ``grad_y`` has the shape of the forward output.
    """
    if not isinstance(params, AttentionParams):
        raise TypeError(f"params must be AttentionParams, got {type(params).__name__}")
    if not isinstance(cache, AttentionCache):
        raise TypeError(f"cache must be an AttentionCache, got {type(cache).__name__}")
    g = check_array("grad_y", grad_y, finite=False)
    expected = cache.p.shape[:-1] + (cache.v.shape[-1],)
    if g.shape != expected:
        raise ValueError(f"grad_y must have the output's shape {expected}, got {g.shape}")
    if not np.all(np.isfinite(g)):
        raise ValueError("grad_y contains NaN or infinite values")
    p, q, k, v, x = cache.p, cache.q, cache.k, cache.v, cache.x
    scale = 1.0 / np.sqrt(q.shape[-1])
    dv = np.swapaxes(p, -1, -2) @ g
    dp = g @ np.swapaxes(v, -1, -2)
    ds = p * (dp - np.sum(dp * p, axis=-1, keepdims=True))
    dq = ds @ k * scale
    dk = np.swapaxes(ds, -1, -2) @ q * scale
    dx = dq @ params.wq.T + dk @ params.wk.T + dv @ params.wv.T

    def weight_grad(dz: np.ndarray) -> np.ndarray:
        return x.reshape(-1, x.shape[-1]).T @ dz.reshape(-1, dz.shape[-1])

    return {"x": dx, "wq": weight_grad(dq), "wk": weight_grad(dk), "wv": weight_grad(dv)}


def input_gradient_profile(params: AttentionParams, x, readout) -> np.ndarray:
    """Return ||dL/dx_{T-d}|| for d = 0..T-1 with L = readout . y_T (the last output).

    Parameters
    ----------
    x : array_like, shape (T, d)
    readout : array_like, shape (v,)
    """
    y, cache = attention_forward(params, x)
    if y.ndim != 2:
        raise ValueError(f"x must be one sequence (T, d), got shape {np.shape(x)}")
    w = check_array("readout", readout, finite=False)
    if w.shape != (y.shape[-1],):
        raise ValueError(f"readout must have shape ({y.shape[-1]},), got {w.shape}")
    grad = np.zeros_like(y)
    grad[-1] = w
    dx = attention_backward(params, cache, grad)["x"]
    return np.linalg.norm(dx[::-1], axis=-1)


def attention_cost(T: int, d: int) -> dict[str, int]:
    """Return multiply-adds and stored scores of one head's forward pass over T steps.

    ``scores_and_mix`` = 2 T^2 d (Q K^T and P V, full square), ``projections`` = 3 T d^2,
    ``stored_scores`` = T^2 (the matrix P kept for the backward pass).
    """
    T = check_count("T", T)
    d = check_count("d", d)
    return {"scores_and_mix": 2 * T * T * d, "projections": 3 * T * d * d,
            "stored_scores": T * T}
