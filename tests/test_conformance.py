"""Conformance bitstreams from ../shared/data/conformance."""

from __future__ import annotations

import pytest
from conftest import md5, planes_bytes

import cnnfilter

INTRA = ["cros-64x64-I"]
INTER = ["cros-64x64-I-P", "cros-bbb", "cros-test-25fps"]


def _dir(shared_data):
    d = shared_data / "conformance"
    if not d.is_dir():
        pytest.skip(f"{d} is missing")
    return d


@pytest.mark.parametrize("name", INTRA)
def test_intra_streams_match_md5(name, shared_data):
    d = _dir(shared_data)
    res = cnnfilter.decode(d / f"{name}.bit")
    whole = b"".join(planes_bytes((p.y, p.u, p.v)) for p in res.pictures)
    assert md5(whole) == (d / f"{name}.md5").read_text().split()[0]
    per_frame = (d / f"{name}_frames_i420.md5").read_text().split()
    assert [md5(planes_bytes((p.y, p.u, p.v))) for p in res.pictures] == per_frame


@pytest.mark.parametrize("name", INTER)
def test_inter_streams_fail_cleanly(name, shared_data, tmp_path):
    d = _dir(shared_data)
    out = tmp_path / "out.yuv"
    with pytest.raises(cnnfilter.UnsupportedError, match="inter slices are not supported yet"):
        cnnfilter.decode(d / f"{name}.bit", out)
    assert not out.exists(), "a failed decode must not leave an output file behind"
