"""The model set identification SEI applies to the pictures that follow it in decoding order
(docs/bitstream.md, section 1): streams made with different model sets can be concatenated or
spliced at an IRAP, and every picture is filtered with its own sequence's set."""

from __future__ import annotations

import pytest
from cnn_stream_support import MODELS, access_units, cnn_stream, planes_bytes
from conftest import md5

import cnnfilter


@pytest.fixture(scope="module")
def streams(tmp_path_factory):
    d = tmp_path_factory.mktemp("sei-scope")
    a = cnn_stream(d, "a", "default", seed=0).read_bytes()
    b = cnn_stream(d, "b", "qpvrcnn-ai", seed=1).read_bytes()
    return a, b


def decoded(data: bytes):
    res = cnnfilter.decode(data, models=MODELS)
    assert res.frames and all(f.cnn_ctus == f.ctus for f in res.frames)
    return res


def test_the_two_sets_differ(streams):
    """The premise: B's pictures decoded with A's model set would not match their MD5 SEI."""
    a, b = streams
    sei_a = next(n for t, n in cnnfilter._hevc.nal_units(a) if t == 39)
    sei_b = next(n for t, n in cnnfilter._hevc.nal_units(b) if t == 39)
    assert sei_a != sei_b
    swapped = b.replace(sei_b, sei_a)
    res = cnnfilter.decode(swapped, models=MODELS)
    assert all(f.hash == "MISMATCH" for f in res.frames)


def test_concatenation(streams):
    a, b = streams
    res = decoded(a + b)
    assert len(res.frames) == 6
    assert [f.hash for f in res.frames] == ["OK"] * 6
    assert md5(planes_bytes(res)) == md5(planes_bytes(decoded(a)) + planes_bytes(decoded(b)))


def test_splice_at_irap(streams):
    """A cut after A's second picture (a non-IRAP), then B from its IRAP (its first picture:
    the encoder's All-Intra streams have one IDR, then intra TRAIL_R pictures)."""
    a, b = streams
    aus_a = access_units(a)
    assert len(aus_a) == 3 and [t for t, _ in cnnfilter._hevc.nal_units(aus_a[2])][0] == 1
    assert 16 <= [t for t, _ in cnnfilter._hevc.nal_units(b) if t < 32][0] <= 21
    head = b"".join(aus_a[:2])
    res = decoded(head + b)
    assert [f.hash for f in res.frames] == ["OK"] * 5
    assert md5(planes_bytes(res)) == md5(planes_bytes(decoded(head)) + planes_bytes(decoded(b)))


def test_new_sequence_does_not_inherit_the_set(streams):
    """A coded video sequence whose IRAP lacks the SEI is refused rather than filtered with
    the previous sequence's model set."""
    a, b = streams
    sei_b = next(n for t, n in cnnfilter._hevc.nal_units(b) if t == 39)
    first_b = access_units(b)[0]
    stripped = first_b.replace(b"\x00\x00\x00\x01" + sei_b, b"")
    assert stripped != first_b
    with pytest.raises(cnnfilter.BitstreamError, match="POC 0 uses the in-loop CNN, but no model"):
        cnnfilter.decode(a + stripped, models=MODELS)
