"""Numba kernels: whole runs of the first-order methods fused with the loss gradients.

Every parameter is an argument (no module globals) and each kernel is compiled once and cached on
disk. They compute exactly what the ``init``/``update`` pairs of :mod:`solvers.omd.first_order`
compute, in the same order of operations; the tests hold the two paths to 1e-12.
"""

from __future__ import annotations

import math

import numba
import numpy as np

from solvers.omd.steps import step_formula_jit

_jit = numba.njit(cache=True, fastmath=False)


@_jit
def _grad(code, a, b, t, x, out):
    """Gradient of the t-th loss of family ``code`` at x, written into ``out``."""
    d = x.shape[0]
    if code == 0:
        for i in range(d):
            out[i] = a[t, i]
    elif code == 1:
        for i in range(d):
            out[i] = x[i] - a[t, i]
    else:
        r = -b[t]
        for i in range(d):
            r += a[t, i] * x[i]
        for i in range(d):
            out[i] = a[t, i] * r


@_jit
def _sq_dist(u, v):
    s = 0.0
    for i in range(u.shape[0]):
        diff = u[i] - v[i]
        s += diff * diff
    return s


@_jit
def _project_ball(y, radius, out):
    s = 0.0
    for i in range(y.shape[0]):
        s += y[i] * y[i]
    norm = math.sqrt(s)
    scale = 1.0
    if norm > radius:
        scale = radius / norm
    for i in range(y.shape[0]):
        out[i] = y[i] * scale


@_jit
def run_euclid(code, a, b, radius, x1, step_code, p0, p1, p2, optimistic):
    """Optimistic OMD / OGD on the ball; returns (x, x_hat, g, hint, eta), x_hat of length T+1."""
    T, d = a.shape
    xs = np.empty((T, d))
    xh = np.empty((T + 1, d))
    gs = np.empty((T, d))
    ms = np.zeros((T, d))
    etas = np.empty(T)
    y = np.empty(d)
    g = np.empty(d)
    x = np.empty(d)
    xh[0] = x1
    v = 0.0
    eta = step_formula_jit(step_code, p0, p1, p2, 1, 0.0)
    for i in range(d):
        y[i] = xh[0, i] - eta * ms[0, i]
    _project_ball(y, radius, x)
    for t in range(T):
        xs[t] = x
        etas[t] = eta
        _grad(code, a, b, t, x, g)
        gs[t] = g
        for i in range(d):
            y[i] = xh[t, i] - eta * g[i]
        _project_ball(y, radius, xh[t + 1])
        v += _sq_dist(g, ms[t])
        if t + 1 < T:
            if optimistic:
                ms[t + 1] = g
            eta = step_formula_jit(step_code, p0, p1, p2, t + 2, v)
            for i in range(d):
                y[i] = xh[t + 1, i] - eta * ms[t + 1, i]
            _project_ball(y, radius, x)
    return xs, xh, gs, ms, etas


@_jit
def run_oftrl(code, a, b, radius, nu):
    """OFTRL of Sachs et al. on the ball; returns (x, g, hint, eta)."""
    T, d = a.shape
    d2 = (2.0 * radius) ** 2
    xs = np.empty((T, d))
    gs = np.empty((T, d))
    ms = np.zeros((T, d))
    etas = np.empty(T)
    gsum = np.zeros(d)
    y = np.empty(d)
    g = np.empty(d)
    x = np.zeros(d)
    eta = d2 / nu
    acc = 0.0
    for t in range(T):
        xs[t] = x
        etas[t] = eta
        _grad(code, a, b, t, x, g)
        gs[t] = g
        acc += eta * _sq_dist(g, ms[t])
        for i in range(d):
            gsum[i] += g[i]
        eta = d2 / (nu + acc)
        if t + 1 < T:
            ms[t + 1] = g
            for i in range(d):
                y[i] = -0.5 * eta * (gsum[i] + g[i])
            _project_ball(y, radius, x)
    return xs, gs, ms, etas


@_jit
def run_oftl(code, a, b, radius, x1, mu):
    """OFTL of Sachs et al. on the ball; returns (x, g, hint)."""
    T, d = a.shape
    xs = np.empty((T, d))
    gs = np.empty((T, d))
    ms = np.zeros((T, d))
    gsum = np.zeros(d)
    xsum = np.zeros(d)
    y = np.empty(d)
    g = np.empty(d)
    x = x1.copy()
    for t in range(T):
        xs[t] = x
        _grad(code, a, b, t, x, g)
        gs[t] = g
        for i in range(d):
            gsum[i] += g[i]
            xsum[i] += x[i]
        if t + 1 < T:
            ms[t + 1] = g
            weight = mu * (t + 1)
            for i in range(d):
                y[i] = xsum[i] / (t + 1) - (gsum[i] + g[i]) / weight
            _project_ball(y, radius, x)
    return xs, gs, ms


@_jit
def run_hedge(code, a, b, delta, fixed_eta, optimistic):
    """Optimistic Hedge (FTRL form) on the simplex; returns (x, g, hint, eta)."""
    T, d = a.shape
    log_d = math.log(d)
    xs = np.empty((T, d))
    gs = np.empty((T, d))
    ms = np.zeros((T, d))
    etas = np.empty(T)
    gsum = np.zeros(d)
    z = np.empty(d)
    g = np.empty(d)
    x = np.full(d, 1.0 / d)
    v = 0.0
    eta = fixed_eta if fixed_eta > 0 else math.sqrt(log_d / delta)
    for t in range(T):
        xs[t] = x
        etas[t] = eta
        _grad(code, a, b, t, x, g)
        gs[t] = g
        m = 0.0
        for i in range(d):
            m = max(m, abs(g[i] - ms[t, i]))
            gsum[i] += g[i]
        v += m * m
        eta = fixed_eta if fixed_eta > 0 else math.sqrt(log_d / (delta + v))
        if t + 1 < T:
            if optimistic:
                ms[t + 1] = g
            for i in range(d):
                z[i] = eta * (gsum[i] + ms[t + 1, i])
            zmin = z.min()
            total = 0.0
            for i in range(d):
                x[i] = math.exp(-(z[i] - zmin))
                total += x[i]
            for i in range(d):
                x[i] /= total
    return xs, gs, ms, etas
