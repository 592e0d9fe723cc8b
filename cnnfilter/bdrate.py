"""Bjøntegaard-delta rate and PSNR, computed as the JCT-VC / JVET CTC spreadsheets compute them.

Two interpolation methods are offered:

``"pchip"`` (default)
    The method of the JCT-VC common-test-conditions sheet (JCTVC-L1100 onwards) and of JVET's
    template: for BD-rate, log10(rate) is interpolated as a function of PSNR with a piecewise
    cubic Hermite polynomial whose slopes follow Fritsch and Carlson (the monotone "pchip"
    slopes: weighted harmonic mean of the neighbouring secant slopes inside, zero at local
    extrema, and the shape-preserving three-point formula at the two ends). Both curves are
    integrated *exactly* (each cubic piece in closed form) over the PSNR interval where they
    overlap; the mean log-rate difference is turned back into a percentage.

``"cubic"``
    The original VCEG-M33 method: a least-squares third-order polynomial of log10(rate) over
    PSNR, integrated exactly over the overlap. With four points per curve the polynomial passes
    through all of them.

BD-PSNR swaps the axes: PSNR is interpolated over log10(rate) and the mean PSNR difference over
the overlapping log-rate interval is returned in dB.

Sign convention: a negative BD-rate means the test needs fewer bits than the anchor for the
same quality (a saving); a positive BD-PSNR means the test has higher quality at the same rate.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from .errors import UserError

METHODS = ("pchip", "cubic")

__all__ = ["METHODS", "BDError", "bd_rate", "bd_psnr", "pchip_slopes", "pchip_eval"]


class BDError(UserError):
    """RD points that do not allow a Bjøntegaard-delta computation (the message says why)."""


def _curve(
    rate: Sequence[float], dist: Sequence[float], name: str, min_points: int
) -> tuple[np.ndarray, np.ndarray]:
    r = np.asarray(rate, dtype=np.float64).ravel()
    d = np.asarray(dist, dtype=np.float64).ravel()
    if r.size != d.size:
        raise BDError(f"{name}: {r.size} rate value(s) but {d.size} PSNR value(s)")
    if r.size < min_points:
        raise BDError(f"{name}: {r.size} RD point(s), this method needs at least {min_points}")
    if not (np.all(np.isfinite(r)) and np.all(np.isfinite(d))):
        raise BDError(f"{name}: rates and PSNRs must be finite numbers")
    if np.any(r <= 0):
        raise BDError(f"{name}: rates must be positive (got {r.min():g})")
    return np.log10(r), d


def _sorted_strict(x: np.ndarray, y: np.ndarray, name: str, axis: str) -> tuple[np.ndarray, ...]:
    order = np.argsort(x, kind="stable")
    xs, ys = x[order], y[order]
    if np.any(np.diff(xs) <= 0):
        raise BDError(f"{name}: two RD points have the same {axis}; cannot interpolate the curve")
    return xs, ys


def pchip_slopes(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Fritsch-Carlson derivatives at the knots ``x`` (strictly increasing) of data ``y``."""
    x = np.asarray(x, dtype=np.float64)
    y = np.asarray(y, dtype=np.float64)
    n = x.size
    h = np.diff(x)
    delta = np.diff(y) / h
    d = np.zeros(n)
    if n == 2:
        d[:] = delta[0]
        return d
    # Interior knots: weighted harmonic mean of the two secants, 0 where they differ in sign.
    for k in range(1, n - 1):
        a, b = delta[k - 1], delta[k]
        if a * b > 0:
            w1 = 2.0 * h[k] + h[k - 1]
            w2 = h[k] + 2.0 * h[k - 1]
            d[k] = (w1 + w2) / (w1 / a + w2 / b)
    d[0] = _end_slope(h[0], h[1], delta[0], delta[1])
    d[-1] = _end_slope(h[-1], h[-2], delta[-1], delta[-2])
    return d


def _end_slope(h0: float, h1: float, m0: float, m1: float) -> float:
    """Shape-preserving non-centred three-point slope at an end knot."""
    s = ((2.0 * h0 + h1) * m0 - h0 * m1) / (h0 + h1)
    if np.sign(s) != np.sign(m0):
        return 0.0
    if np.sign(m0) != np.sign(m1) and abs(s) > abs(3.0 * m0):
        return 3.0 * m0
    return float(s)


def _hermite_coeffs(x: np.ndarray, y: np.ndarray, d: np.ndarray) -> np.ndarray:
    """Per-interval coefficients c0..c3 of y_k + c1 s + c2 s^2 + c3 s^3, s = x - x_k."""
    h = np.diff(x)
    delta = np.diff(y) / h
    c0 = y[:-1]
    c1 = d[:-1]
    c2 = (3.0 * delta - 2.0 * d[:-1] - d[1:]) / h
    c3 = (d[:-1] - 2.0 * delta + d[1:]) / (h * h)
    return np.stack([c0, c1, c2, c3], axis=1)


def pchip_eval(x: Sequence[float], y: Sequence[float], xq: Sequence[float]) -> np.ndarray:
    """Evaluates the PCHIP interpolant of (x, y) at ``xq`` (clamped to the knot range)."""
    xs, ys = _sorted_strict(np.asarray(x, float), np.asarray(y, float), "curve", "abscissa")
    coeffs = _hermite_coeffs(xs, ys, pchip_slopes(xs, ys))
    q = np.clip(np.asarray(xq, dtype=np.float64), xs[0], xs[-1])
    k = np.clip(np.searchsorted(xs, q, side="right") - 1, 0, xs.size - 2)
    s = q - xs[k]
    c = coeffs[k]
    return c[:, 0] + s * (c[:, 1] + s * (c[:, 2] + s * c[:, 3]))


def _primitive(c: np.ndarray, s: float) -> float:
    """Integral from 0 to s of c0 + c1 t + c2 t^2 + c3 t^3."""
    return float(s * (c[0] + s * (c[1] / 2.0 + s * (c[2] / 3.0 + s * c[3] / 4.0))))


def _pchip_integral(x: np.ndarray, y: np.ndarray, lo: float, hi: float) -> float:
    """Exact integral over [lo, hi] (inside the knot range) of the PCHIP interpolant."""
    coeffs = _hermite_coeffs(x, y, pchip_slopes(x, y))
    total = 0.0
    for k in range(x.size - 1):
        a = max(lo, x[k])
        b = min(hi, x[k + 1])
        if b <= a:
            continue
        total += _primitive(coeffs[k], b - x[k]) - _primitive(coeffs[k], a - x[k])
    return total


def _cubic_integral(x: np.ndarray, y: np.ndarray, lo: float, hi: float) -> float:
    p = np.polyfit(x, y, 3)
    ip = np.polyint(p)
    return float(np.polyval(ip, hi) - np.polyval(ip, lo))


def _mean_difference(
    xa: np.ndarray, ya: np.ndarray, xt: np.ndarray, yt: np.ndarray, method: str, axis: str
) -> float:
    if method not in METHODS:
        raise BDError(f"unknown BD method {method!r}; choose one of {', '.join(METHODS)}")
    xa, ya = _sorted_strict(xa, ya, "anchor", axis)
    xt, yt = _sorted_strict(xt, yt, "test", axis)
    lo = max(xa[0], xt[0])
    hi = min(xa[-1], xt[-1])
    if hi <= lo:
        raise BDError(
            f"the anchor and test curves do not overlap in {axis} "
            f"(anchor {xa[0]:.4f}..{xa[-1]:.4f}, test {xt[0]:.4f}..{xt[-1]:.4f})"
        )
    integral = _pchip_integral if method == "pchip" else _cubic_integral
    return (integral(xt, yt, lo, hi) - integral(xa, ya, lo, hi)) / (hi - lo)


def bd_rate(
    rate_anchor: Sequence[float],
    psnr_anchor: Sequence[float],
    rate_test: Sequence[float],
    psnr_test: Sequence[float],
    method: str = "pchip",
) -> float:
    """BD-rate of the test against the anchor, in percent (negative = the test saves bits)."""
    min_points = 4 if method == "cubic" else 2
    la, pa = _curve(rate_anchor, psnr_anchor, "anchor", min_points)
    lt, pt = _curve(rate_test, psnr_test, "test", min_points)
    diff = _mean_difference(pa, la, pt, lt, method, "PSNR")
    return float((10.0**diff - 1.0) * 100.0)


def bd_psnr(
    rate_anchor: Sequence[float],
    psnr_anchor: Sequence[float],
    rate_test: Sequence[float],
    psnr_test: Sequence[float],
    method: str = "pchip",
) -> float:
    """BD-PSNR of the test against the anchor, in dB (positive = the test has higher quality)."""
    min_points = 4 if method == "cubic" else 2
    la, pa = _curve(rate_anchor, psnr_anchor, "anchor", min_points)
    lt, pt = _curve(rate_test, psnr_test, "test", min_points)
    return float(_mean_difference(la, pa, lt, pt, method, "log-rate"))
