"""Bad inputs for ``cnnfilter decode``, as a table: each row is a command line, its exit code and
a fragment of its one ``error:`` line; no row may print a traceback or touch a file around it
(tests/cli_errors_support.py). The streams are generated (tests/cnn_stream_support.py)."""

from __future__ import annotations

import hashlib
import json
import random
from pathlib import Path

import pytest
from cli_errors_support import check_bad_input
from cnn_stream_support import cnn_sei_nal, cnn_stream, sei_payload, with_sei
from onnx import TensorProto
from test_cli_errors import _onnx_model, _set_entry


@pytest.fixture(scope="module")
def work(tmp_path_factory) -> Path:
    d = tmp_path_factory.mktemp("decode-bad-inputs")
    gen = d / "gen"
    gen.mkdir()
    plain = cnn_stream(gen, "plain", None).read_bytes()
    cnn = cnn_stream(gen, "cnn", "default").read_bytes()
    (d / "plain.hevc").write_bytes(plain)
    sei_nal, payload = sei_payload(cnn)
    version, identity, mode = payload[:1], payload[1:17], payload[18:]

    def sei(ident=identity, text=mode, ver=version, extra=b""):
        return ver + ident + bytes([len(text)]) + text + extra

    streams = {
        "empty.hevc": b"",
        "random.bin": bytes(random.Random(1).randrange(256) for _ in range(4000)),
        "truncated.hevc": plain[: len(plain) * 2 // 3],
        "zeros.hevc": bytes(1000),
        "header-only.hevc": b"\x00\x00\x00\x01\x40",
        "forbidden-bit.hevc": plain.replace(
            b"\x00\x00\x00\x01\x40\x01", b"\x00\x00\x00\x01\xc0\x01"
        ),
        "unknown-set.hevc": with_sei(cnn, sei(ident=bytes(range(16)))),
        "other-mode.hevc": with_sei(cnn, sei(text=mode.replace(b"threads=1", b"threads=7"))),
        "non-ascii.hevc": with_sei(cnn, sei(text=b"cpu;\xc3\xa9\xff")),
        "escape.hevc": with_sei(cnn, sei(text=b"\x1b[2J\x1b]0;x\x07")),
        "sei-v2.hevc": with_sei(cnn, sei(ver=b"\x02")),
        "sei-short.hevc": with_sei(cnn, payload[:10]),
        "sei-long.hevc": with_sei(cnn, sei(extra=b"\x00\x01")),
        "sei-len.hevc": with_sei(cnn, version + identity + bytes([200]) + mode),
        "no-sei.hevc": cnn.replace(sei_nal, b""),
        "sei-empty.hevc": cnn.replace(sei_nal, cnn_sei_nal(b"")),
    }
    for name, data in streams.items():
        (d / name).write_bytes(data)
    # model sets for --post whose network cannot take the picture (the loader accepts them)
    for name, kw in {
        "fixedset": {"shape": (1, 1, 8, 8)},
        "int64set": {"elem": TensorProto.INT64},
    }.items():
        folder = d / name
        folder.mkdir()
        model = _onnx_model(folder / "m.onnx", **kw)
        sha = hashlib.sha256(model.read_bytes()).hexdigest()
        (folder / "modelset.json").write_text(json.dumps(_set_entry("m.onnx", sha, "m.json")))
    (d / "folder").mkdir()
    (d / "empty-models").mkdir()
    (d / "keep.yuv").write_bytes(b"a user's file that no failed command may touch")
    return d


ROWS = [
    # (id, argv with {w} for the work folder, exit code, fragment of the error line)
    ("missing-file", "-b {w}/nope.hevc", 2, "not found: {w}/nope.hevc"),
    ("folder-as-input", "-b {w}/folder", 2, "{w}/folder: is a folder"),
    ("empty-file", "-b {w}/empty.hevc", 2, "{w}/empty.hevc: no HEVC NAL unit found"),
    ("random-bytes", "-b {w}/random.bin", 2, "{w}/random.bin: "),
    ("zeros", "-b {w}/zeros.hevc", 2, "no HEVC NAL unit found"),
    ("header-only", "-b {w}/header-only.hevc", 2, "{w}/header-only.hevc: "),
    ("truncated", "-b {w}/truncated.hevc -o {w}/out.yuv", 2, "{w}/truncated.hevc: "),
    ("forbidden-zero-bit", "-b {w}/forbidden-bit.hevc", 2, "{w}/forbidden-bit.hevc: "),
    ("bad-d", "-b {w}/plain.hevc -d 7", 2, "-d 7: output bit depth"),
    ("bad-d-high", "-b {w}/plain.hevc -d 17", 2, "-d 17: output bit depth"),
    ("d-not-int", "-b {w}/plain.hevc -d ten", 2, "invalid int value: 'ten'"),
    ("no-b", "-o {w}/out.yuv", 2, "the following arguments are required: -b"),
    ("models-missing", "-b {w}/plain.hevc --models {w}/nope", 2, "--models {w}/nope: no such"),
    ("models-is-file", "-b {w}/plain.hevc --models {w}/keep.yuv", 2, "--models {w}/keep.yuv"),
    ("post-missing", "-b {w}/plain.hevc --post nosuchset", 2, "no model set named 'nosuchset'"),
    ("post-bad-path", "-b {w}/plain.hevc --post {w}/folder", 2, "not a model set"),
    ("post-fixed-shape", "-b {w}/plain.hevc -o {w}/o.yuv --post {w}/fixedset", 2, "fixed size 8x8"),
    ("post-int64", "-b {w}/plain.hevc -o {w}/o.yuv --post {w}/int64set", 2, "tensor(int64)"),
    ("out-folder", "-b {w}/plain.hevc -o {w}/folder", 2, "{w}/folder: is a folder"),
    ("out-no-folder", "-b {w}/plain.hevc -o {w}/nope/o.yuv", 2, "folder {w}/nope does not"),
    ("out-is-input", "-b {w}/plain.hevc -o {w}/plain.hevc", 2, "is also an input"),
    ("y4m-depth", "-b {w}/plain.hevc -o {w}/o.y4m -d 11", 2, "a .y4m file has no 11-bit"),
    (
        "unknown-set",
        "-b {w}/unknown-set.hevc",
        2,
        "unknown-set.hevc: the stream was encoded with model set 000102030405060708090a0b0c0d0e0f",
    ),
    ("unknown-set-how", "-b {w}/unknown-set.hevc -o {w}/o.yuv", 2, "give its folder with --models"),
    ("empty-models", "-b {w}/gen/cnn.hevc --models {w}/empty-models", 2, "has that identity"),
    ("other-mode", "-b {w}/other-mode.hevc", 2, "threads=7"),
    ("sei-non-ascii", "-b {w}/non-ascii.hevc", 2, "identification SEI is corrupt: its inference"),
    ("sei-escape", "-b {w}/escape.hevc", 2, "holds byte 0x1b at offset 0"),
    ("sei-version", "-b {w}/sei-v2.hevc", 2, "SEI has version 2"),
    ("sei-short", "-b {w}/sei-short.hevc", 2, "identification SEI is truncated"),
    ("sei-long", "-b {w}/sei-long.hevc", 2, "identification SEI is malformed"),
    ("sei-length", "-b {w}/sei-len.hevc", 2, "inference mode has 200 bytes"),
    ("sei-empty", "-b {w}/sei-empty.hevc", 2, "identification SEI is empty"),
    ("no-sei", "-b {w}/no-sei.hevc", 2, "no model set identification SEI precedes it"),
]


@pytest.mark.parametrize("argv,code,fragment", [r[1:] for r in ROWS], ids=[r[0] for r in ROWS])
def test_bad_decode_input(argv, code, fragment, work, capsys):
    args = ["decode", *argv.format(w=work).split()]
    check_bad_input(args, code, fragment.format(w=work), capsys, work)


def test_the_table_is_large_enough():
    assert len(ROWS) >= 20 and len({r[0] for r in ROWS}) == len(ROWS)
