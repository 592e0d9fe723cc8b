"""Conformance bitstreams from ../shared/data/conformance."""

from __future__ import annotations

import pytest
from conftest import md5, planes_bytes

import cnnfilter

STREAMS = ["cros-64x64-I", "cros-64x64-I-P", "cros-bbb", "cros-test-25fps"]
# Made by HM-16.9 itself from the shared clips with its LDP and RA configurations.
HM = [
    "hm16.9/hm-bbbcrop-ldp-qp27",
    "hm16.9/hm-bbbcrop-ra-qp32",
    "hm16.9/hm-bikes-ldp-qp32",
    "hm16.9/hm-bikes-ra-qp37",
    "hm16.9/hm-cisco-ldp-qp37",
    "hm16.9/hm-cisco-ra-qp22",
]


def _dir(shared_data):
    d = shared_data / "conformance"
    if not d.is_dir():
        pytest.skip(f"{d} is missing")
    return d


@pytest.mark.parametrize("name", STREAMS + HM)
def test_streams_match_md5_in_output_order(name, shared_data):
    d = _dir(shared_data)
    if not (d / f"{name}.bit").exists():
        pytest.skip(f"{d / name}.bit is missing")
    res = cnnfilter.decode(d / f"{name}.bit")
    whole = b"".join(planes_bytes((p.y, p.u, p.v)) for p in res.pictures)
    assert md5(whole) == (d / f"{name}.md5").read_text().split()[0]
    per_frame = (d / f"{name}_frames_i420.md5").read_text().split()
    assert [md5(planes_bytes((p.y, p.u, p.v))) for p in res.pictures] == per_frame


@pytest.mark.parametrize("name", HM)
def test_hm_inter_streams_check_every_picture_hash(name, shared_data, tmp_path):
    d = _dir(shared_data)
    if not (d / f"{name}.bit").exists():
        pytest.skip(f"{d / name}.bit is missing")
    out = tmp_path / "out.yuv"
    res = cnnfilter.decode(d / f"{name}.bit", out)
    assert res.frames and all(f.hash == "OK" for f in res.frames)
    types = {f.slice_type for f in res.frames}
    assert ("B" in types) if "-ra-" in name else ("P" in types and "B" not in types)
    # written in output order: the file is the md5 file's whole output
    assert md5(out.read_bytes()) == (d / f"{name}.md5").read_text().split()[0]
    if "-ra-" in name:  # decoding order differs from output order in a random-access GOP
        assert [f.poc for f in res.frames] != sorted(f.poc for f in res.frames)
