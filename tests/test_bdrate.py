"""BD-rate and BD-PSNR against independently computed values.

References:
- the ``bjontegaard`` package (FAU-LMS), whose PCHIP reproduces the JCT-VC/JVET Excel sheets to
  at least 10 decimals; its README example and HM-16.9 curves are compared to 1e-6;
- scipy's PchipInterpolator with its exact piecewise-polynomial integral (1e-9);
- closed-form cases (parallel straight RD lines);
- the HM-16.9 worked numbers of ../shared/docs/hm16.9_ctc.md (deblocking+SAO off vs on), whose
  inputs are printed rounded (kbps to 0.1, PSNR to 0.01 dB), so they agree to about 0.1 %.
"""

from __future__ import annotations

import math

import bjontegaard
import numpy as np
import pytest
from scipy.interpolate import PchipInterpolator

from cnnfilter.bdrate import BDError, bd_psnr, bd_rate, pchip_eval, pchip_slopes

# The bjontegaard package's README example (x265 presets measured with ffmpeg).
README_ANCHOR = ([9487.76, 4593.60, 2486.44, 1358.24], [40.037, 38.615, 36.845, 34.851])
README_TEST = ([9787.80, 4469.00, 2451.52, 1356.24], [40.121, 38.651, 36.970, 34.987])
# bjontegaard 1.3.0 on that example (bd_rate / bd_psnr, method=...), frozen here:
README_EXPECTED = {
    "pchip": (-4.417485350589045, 0.11969278542479489),
    "cubic": (-4.420462706026296, 0.12040941911471303),
}

# HM-16.9, QP 22/27/32/37: (kbps, Y-PSNR) with deblocking+SAO on, then off
# (../shared/docs/hm16.9_ctc.md, "HM-16.9 rate / PSNR points").
HM = {
    ("DrivingTrees", "AI"): (
        [3183.3, 2115.7, 1274.2, 677.8], [43.97, 39.72, 35.34, 31.46],
        [3174.3, 2108.3, 1267.3, 672.7], [43.90, 39.60, 35.22, 31.34],
    ),
    ("Flower", "AI"): (
        [4700.4, 2862.5, 1628.2, 903.8], [41.97, 37.77, 34.02, 30.73],
        [4683.3, 2848.8, 1617.4, 895.3], [41.87, 37.62, 33.83, 30.51],
    ),
    ("bigbuckbunny-crop", "AI"): (
        [1710.4, 1077.7, 658.6, 373.4], [44.76, 41.37, 37.94, 34.52],
        [1703.4, 1074.5, 656.5, 371.6], [44.58, 41.08, 37.58, 34.18],
    ),
    ("carphone", "AI"): (
        [842.3, 533.7, 328.2, 197.1], [43.21, 39.41, 35.77, 32.23],
        [837.9, 528.3, 323.9, 193.7], [43.07, 39.17, 35.48, 31.93],
    ),
    ("DrivingTrees", "LDP"): (
        [1064.5, 507.5, 247.0, 116.5], [40.93, 36.49, 32.91, 29.77],
        [1072.4, 510.1, 248.7, 117.8], [40.76, 36.29, 32.71, 29.60],
    ),
    ("Flower", "LDP"): (
        [699.8, 318.8, 158.3, 80.5], [39.96, 36.42, 33.34, 30.40],
        [697.5, 317.2, 156.8, 80.6], [39.78, 36.25, 33.13, 30.19],
    ),
    ("bigbuckbunny-crop", "LDP"): (
        [253.4, 132.3, 68.4, 37.6], [43.74, 40.20, 36.94, 33.96],
        [259.8, 134.3, 68.5, 37.7], [43.18, 39.67, 36.51, 33.50],
    ),
    ("carphone", "LDP"): (
        [194.3, 94.1, 48.2, 27.2], [41.32, 37.71, 34.43, 31.42],
        [196.7, 94.6, 48.8, 27.3], [40.97, 37.28, 34.05, 31.04],
    ),
    ("DrivingTrees", "RA"): (
        [876.4, 446.8, 237.7, 120.6], [40.46, 36.54, 33.30, 30.29],
        [871.0, 446.5, 237.0, 121.2], [40.40, 36.51, 33.22, 30.19],
    ),
    ("Flower", "RA"): (
        [567.6, 294.2, 158.6, 85.2], [40.56, 37.25, 34.16, 31.14],
        [564.9, 292.8, 157.6, 85.1], [40.51, 37.17, 34.05, 30.99],
    ),
    ("bigbuckbunny-crop", "RA"): (
        [249.0, 120.0, 66.1, 37.0], [43.58, 40.29, 37.35, 34.32],
        [248.9, 121.7, 66.3, 37.1], [43.43, 40.17, 37.09, 34.18],
    ),
    ("carphone", "RA"): (
        [165.1, 84.7, 46.6, 27.0], [41.24, 37.95, 34.87, 31.82],
        [163.8, 84.9, 46.4, 27.5], [41.08, 37.81, 34.66, 31.69],
    ),
}  # fmt: skip

# Published BD-rates (pchip, cubic) in % of "LF off" against "LF on", same document.
HM_PUBLISHED = {
    ("DrivingTrees", "AI"): (0.96, 0.96), ("Flower", "AI"): (1.97, 1.97),
    ("bigbuckbunny-crop", "AI"): (4.35, 4.34), ("carphone", "AI"): (2.25, 2.25),
    ("DrivingTrees", "LDP"): (4.52, 4.51), ("Flower", "LDP"): (3.78, 3.78),
    ("bigbuckbunny-crop", "LDP"): (11.31, 11.38), ("carphone", "LDP"): (9.19, 9.20),
    ("DrivingTrees", "RA"): (1.02, 1.02), ("Flower", "RA"): (1.41, 1.41),
    ("bigbuckbunny-crop", "RA"): (4.38, 4.35), ("carphone", "RA"): (3.19, 3.20),
}  # fmt: skip
HM_PUBLISHED_MEAN_PCHIP = {"AI": 2.38, "LDP": 7.20, "RA": 2.50}


@pytest.mark.parametrize("method", ["pchip", "cubic"])
def test_readme_example_matches_bjontegaard(method):
    rate, psnr = (
        bd_rate(*README_ANCHOR, *README_TEST, method),
        bd_psnr(*README_ANCHOR, *README_TEST, method),
    )
    exp_rate, exp_psnr = README_EXPECTED[method]
    assert rate == pytest.approx(exp_rate, abs=1e-6)
    assert psnr == pytest.approx(exp_psnr, abs=1e-6)
    lib = bjontegaard.bd_rate(*README_ANCHOR, *README_TEST, method=method)
    assert rate == pytest.approx(lib, abs=1e-6)
    # The methods differ, so the comparison above can tell them apart.
    assert abs(README_EXPECTED["pchip"][0] - README_EXPECTED["cubic"][0]) > 1e-3


@pytest.mark.parametrize("method", ["pchip", "cubic"])
@pytest.mark.parametrize("key", list(HM), ids=[f"{s}-{c}" for s, c in HM])
def test_hm_curves_match_bjontegaard(key, method):
    ra, pa, rt, pt = HM[key]
    ours = bd_rate(ra, pa, rt, pt, method)
    lib = bjontegaard.bd_rate(ra, pa, rt, pt, method=method, min_overlap=0)
    assert ours == pytest.approx(lib, abs=1e-6)
    ours_psnr = bd_psnr(ra, pa, rt, pt, method)
    lib_psnr = bjontegaard.bd_psnr(ra, pa, rt, pt, method=method, min_overlap=0)
    assert ours_psnr == pytest.approx(lib_psnr, abs=1e-6)


@pytest.mark.parametrize("key", list(HM), ids=[f"{s}-{c}" for s, c in HM])
def test_hm_published_values(key):
    ra, pa, rt, pt = HM[key]
    pub_pchip, pub_cubic = HM_PUBLISHED[key]
    assert bd_rate(ra, pa, rt, pt, "pchip") == pytest.approx(pub_pchip, abs=0.1)
    assert bd_rate(ra, pa, rt, pt, "cubic") == pytest.approx(pub_cubic, abs=0.1)


@pytest.mark.parametrize("config", ["AI", "LDP", "RA"])
def test_hm_published_means(config):
    vals = [bd_rate(*HM[k], "pchip") for k in HM if k[1] == config]
    assert len(vals) == 4
    assert sum(vals) / 4 == pytest.approx(HM_PUBLISHED_MEAN_PCHIP[config], abs=0.05)


def test_pchip_matches_scipy_exact_integral():
    """Our closed-form integration against scipy's PCHIP and its exact integral."""
    rng = np.random.default_rng(7)
    for _ in range(200):
        n = int(rng.integers(3, 8))
        q = np.sort(rng.uniform(28.0, 46.0, n))
        r = 1000.0 * np.exp(0.22 * (q - 30.0) + rng.normal(0.0, 0.08, n))
        q2 = np.sort(q + rng.normal(0.15, 0.2, n))
        r2 = r * np.exp(rng.normal(-0.04, 0.06, n))
        if np.any(np.diff(q2) <= 1e-3):
            continue
        lo, hi = max(q[0], q2[0]), min(q[-1], q2[-1])
        ia = PchipInterpolator(q, np.log10(r)).integrate(lo, hi)
        it = PchipInterpolator(q2, np.log10(r2)).integrate(lo, hi)
        expected = (10 ** ((it - ia) / (hi - lo)) - 1) * 100
        assert bd_rate(r, q, r2, q2, "pchip") == pytest.approx(expected, abs=1e-9)


def test_pchip_slopes_and_values_match_scipy():
    x = np.array([30.0, 33.5, 34.0, 38.0, 41.0, 41.5])
    y = np.array([2.0, 2.4, 2.3, 2.9, 3.5, 3.49])  # non-monotone: zero slopes, end rules
    ref = PchipInterpolator(x, y)
    assert np.max(np.abs(pchip_slopes(x, y) - ref.derivative()(x))) < 1e-12
    xq = np.linspace(30.0, 41.5, 97)
    assert np.max(np.abs(pchip_eval(x, y, xq) - ref(xq))) < 1e-12


@pytest.mark.parametrize("method", ["pchip", "cubic"])
def test_parallel_lines_closed_form(method):
    """log10(rate) = a + b*PSNR for both, the test 10 % cheaper: BD-rate is exactly -10 %."""
    psnr = [31.0, 34.5, 38.0, 41.2]
    a, b = 1.3, 0.085
    rate_a = [10 ** (a + b * q) for q in psnr]
    psnr_t = [q + 0.4 for q in psnr]  # shifted support, same line: result unchanged
    rate_t = [0.9 * 10 ** (a + b * q) for q in psnr_t]
    assert bd_rate(rate_a, psnr, rate_t, psnr_t, method) == pytest.approx(-10.0, abs=1e-9)
    # BD-PSNR: the test line sits -log10(0.9)/b dB above the anchor at any rate.
    assert bd_psnr(rate_a, psnr, rate_t, psnr_t, method) == pytest.approx(
        -math.log10(0.9) / b, abs=1e-9
    )


def test_swapping_anchor_and_test_inverts_the_ratio():
    ra, pa, rt, pt = HM[("carphone", "LDP")]
    x = bd_rate(ra, pa, rt, pt) / 100
    y = bd_rate(rt, pt, ra, pa) / 100
    assert (1 + x) * (1 + y) == pytest.approx(1.0, abs=1e-12)
    assert bd_psnr(ra, pa, rt, pt) == pytest.approx(-bd_psnr(rt, pt, ra, pa), abs=1e-12)


def test_point_order_does_not_matter():
    ra, pa, rt, pt = HM[("Flower", "RA")]
    ref = bd_rate(ra, pa, rt, pt)
    assert bd_rate(ra[::-1], pa[::-1], rt[1::-1] + rt[2:], pt[1::-1] + pt[2:]) == ref


@pytest.mark.parametrize(
    "args,method,match",
    [
        (([1, 2, 3, 4], [30, 31, 32], [1, 2, 3, 4], [30, 31, 32, 33]), "pchip", "3 PSNR"),
        (([1, 0, 3, 4], [30, 31, 32, 33], [1, 2, 3, 4], [30, 31, 32, 33]), "pchip", "positive"),
        (([1, 2, 3, 4], [30, 30, 32, 33], [1, 2, 3, 4], [30, 31, 32, 33]), "pchip", "same PSNR"),
        (([1, 2, 3, 4], [30, 31, 32, 33], [1, 2, 3, 4], [40, 41, 42, 43]), "pchip", "overlap"),
        (([1, 2, 3], [30, 31, 32], [1, 2, 3], [30, 31, 32]), "cubic", "at least 4"),
        (([1, 2, 3, 4], [30, 31, 32, float("nan")], [1, 2, 3, 4], [30, 31, 32, 33]), "pchip",
         "finite"),
        (([1, 2, 3, 4], [30, 31, 32, 33], [1, 2, 3, 4], [30, 31, 32, 33]), "akima", "unknown"),
    ],
)  # fmt: skip
def test_errors_are_clear(args, method, match):
    with pytest.raises(BDError, match=match):
        bd_rate(*args, method=method)
