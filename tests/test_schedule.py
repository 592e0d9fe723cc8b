"""The coding schedule of LDP and RA encodes (cnnfilter.gop.schedule): coding order, slice types,
QPs, NAL unit types, reference picture sets and lists, lambda factors and the SPS values, checked
against HM-16.9's own streams and against H.265's rules."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import DATA

import cnnfilter
from cnnfilter.config import parse_cfg_file
from cnnfilter.gop import (
    CRA_NUT,
    IDR_W_RADL,
    RADL_R,
    RASL_R,
    TRAIL_R,
    SpsNeeds,
    check_gop,
    hierarchy_depth,
    lambda_factor,
    schedule,
    sps_needs,
)

ROOT = Path(__file__).resolve().parents[1]
CFG = {
    "ldp": ROOT / "cfg" / "encoder_lowdelay_P_main.cfg",
    "ra": ROOT / "cfg" / "encoder_randomaccess_main.cfg",
}
HM = DATA / "conformance" / "hm16.9"


def _plan(cfg: str, frames: int, qp: int = 32, **override):
    gop: dict = {}
    v = parse_cfg_file(CFG[cfg], gop)
    v.update(override)
    table = check_gop(gop, v["GOPSize"], v["IntraPeriod"])
    return schedule(table, v["IntraPeriod"], v["DecodingRefreshType"], frames, qp)


@pytest.mark.parametrize(
    "name",
    [
        "hm-bbbcrop-ldp-qp27",
        "hm-bikes-ldp-qp32",
        "hm-cisco-ldp-qp37",
        "hm-bbbcrop-ra-qp32",
        "hm-bikes-ra-qp37",
        "hm-cisco-ra-qp22",
    ],
)
def test_schedule_is_hm_16_9s_for_the_same_cfg(name):
    """HM-16.9 coded these with its own cfg files (the same values as ours); decoding them gives
    per picture the POC, slice type, QP and the POCs of lists L0 and L1."""
    stream = HM / f"{name}.bit"
    if not stream.is_file():
        pytest.skip(f"HM-16.9 streams not available: {stream} is missing")
    cfg, qp = name.split("-")[2], int(name.split("-qp")[1])
    hm = cnnfilter.decode(stream).frames
    ours = _plan(cfg, len(hm), qp)
    assert [(p.poc, p.slice_type, p.qp, p.ref_lists()) for p in ours] == [
        (f.poc, f.slice_type, f.qp, tuple(tuple(r) for r in f.refs)) for f in hm
    ]


def test_ldp_start_borrows_the_pictures_coded_so_far():
    """The first pictures cannot have the table's -5, -9, -13: HM gives them the latest
    pictures coded instead, up to the 4 active references."""
    p = {x.frame: x for x in _plan("ldp", 17)}
    assert p[0].nal_type == IDR_W_RADL and p[0].slice_type == "I" and p[0].qp == 32
    assert p[3].refs == (-1, -2, -3) and p[5].refs == (-1, -2, -3, -5)
    assert p[12].refs == (-1, -4, -8, -12) and p[13].refs == (-1, -5, -9, -13)
    later = [x for x in p.values() if x.frame]
    assert all(x.nal_type == TRAIL_R and x.num_ref_active == (len(x.refs), 0) for x in later)
    assert [p[f].qp for f in range(1, 5)] == [35, 34, 35, 33]


def test_ra_reference_above_the_pictures_temporal_id_stays_unused():
    p = {x.frame: x for x in _plan("ra", 17)}
    # POC 16 (TemporalId 0) keeps POC 4 (TemporalId 1) for POC 12 but cannot use it.
    assert p[16].refs == (-8, -12, -16) and p[16].ref_used == (1, 0, 1)
    assert p[16].ref_lists() == ((8, 0), (8, 0))
    assert [p[f].temporal_id for f in (8, 4, 2, 1)] == [0, 1, 2, 3]


def test_ra_frames_past_the_end_are_left_out_in_coding_order():
    order = [x.frame for x in _plan("ra", 14)]
    assert order == [0, 8, 4, 2, 1, 3, 6, 5, 7, 12, 10, 9, 11, 13]
    p = {x.frame: x for x in _plan("ra", 14)}
    assert p[12].refs == (-4, -8)  # POC 16 is never coded
    assert p[13].ref_lists() == ((12, 8), (12, 8))


def test_ra_cra_rasl_and_trailing_pictures():
    pics = _plan("ra", 49)
    p = {x.frame: x for x in pics}
    assert p[32].nal_type == CRA_NUT and p[32].slice_type == "I" and p[32].qp == 32
    # The CRA keeps the pictures its RASL pictures need, unused by itself.
    assert p[32].refs == (-8, -12, -16) and p[32].ref_used == (0, 0, 0)
    assert all(p[f].nal_type == RASL_R for f in range(25, 32))
    assert p[28].ref_lists() == ((24, 20), (32, 24))
    # Its trailing pictures may not reach before it (8.3.2): they start as after the IDR.
    assert p[40].nal_type == TRAIL_R and p[40].refs == (-8,)
    assert p[36].refs == (-4, 4) and p[34].refs == (-2, 2, 6)
    assert [x.frame for x in pics][25:34] == [32, 28, 26, 25, 27, 30, 29, 31, 40]


def test_decoding_refresh_type_2_codes_idr_pictures_with_radl_leading_pictures():
    p = {x.frame: x for x in _plan("ra", 41, DecodingRefreshType=2)}
    assert p[32].nal_type == IDR_W_RADL and p[32].poc == 0 and p[32].refs == ()
    assert p[28].nal_type == RADL_R and p[28].poc == -4 and p[28].refs == (4,)
    assert p[40].poc == 8 and p[40].refs == (-8,)


def test_decoding_refresh_type_0_codes_trailing_intra_pictures():
    p = {x.frame: x for x in _plan("ra", 33, IntraPeriod=16, DecodingRefreshType=0)}
    assert p[16].nal_type == TRAIL_R and p[16].slice_type == "I" and p[16].qp == 32
    assert p[12].ref_lists() == ((8, 4), (16, 8))  # nothing is dropped at a trailing I
    assert p[24].refs == (-8, -12, -16)


def test_all_intra_without_a_table():
    pics = schedule([], 1, 0, 3, 27)
    assert [(x.frame, x.poc, x.slice_type, x.qp, x.nal_type) for x in pics] == [
        (0, 0, "I", 27, IDR_W_RADL),
        (1, 1, "I", 27, TRAIL_R),
        (2, 2, "I", 27, TRAIL_R),
    ]
    assert all(x.lambda_factor == 0.57 for x in pics)
    assert sps_needs(pics) == SpsNeeds(1, 0, 1)


def test_lambda_factor_is_hms_rule():
    # Intra pictures: 0.57 scaled down by the GOP size (at most by half).
    assert lambda_factor(32, 0, 1, None) == 0.57
    assert lambda_factor(32, 0, 4, None) == pytest.approx(0.57 * 0.85)
    assert lambda_factor(32, 0, 8, None) == pytest.approx(0.57 * 0.65)
    assert lambda_factor(32, 0, 16, None) == pytest.approx(0.57 * 0.5)
    # Depth 0 keeps the entry's factor; deeper pictures scale it by clip(2, 4, (QP - 12) / 6).
    assert lambda_factor(33, 8, 8, 0.442) == 0.442
    assert lambda_factor(34, 4, 8, 0.3536) == pytest.approx(0.3536 * 22 / 6)
    assert lambda_factor(22, 1, 8, 0.68) == pytest.approx(0.68 * 2)
    assert lambda_factor(45, 1, 8, 0.68) == pytest.approx(0.68 * 4)
    assert [hierarchy_depth(f, 8) for f in range(9)] == [0, 3, 2, 3, 1, 3, 2, 3, 0]
    assert [hierarchy_depth(f, 4) for f in range(5)] == [0, 2, 1, 2, 0]
    assert [hierarchy_depth(f, 6) for f in range(6)] == [0, 2, 2, 1, 2, 2]


def test_sps_values_fit_the_schedule():
    assert sps_needs(_plan("ldp", 17)) == SpsNeeds(1, 0, 5)
    # RA: POC 1 follows 8, 4 and 2 in output order; the DPB holds its 4 references + itself.
    assert sps_needs(_plan("ra", 17)) == SpsNeeds(4, 3, 5)
    assert sps_needs(_plan("ra", 1)) == SpsNeeds(1, 0, 1)
    assert sps_needs(_plan("ra", 97)) == SpsNeeds(4, 3, 5)


def test_qp_offsets_are_clipped_to_51():
    assert max(x.qp for x in _plan("ra", 9, qp=50)) == 51
