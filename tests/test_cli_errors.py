"""Bad inputs across the commands, as a table: each row is a command line, its exit code and a
fragment of its one ``error:`` line; no row may print a traceback or touch a file around it.

The decoder's rows are in test_cli_errors_decode.py and the CTC runner's in
test_cli_errors_ctc.py; together the tables hold well over a hundred bad inputs.
"""

from __future__ import annotations

import hashlib
import json
import shutil
from pathlib import Path

import numpy as np
import pytest
from cli_errors_support import check_bad_input

onnx = pytest.importorskip("onnx", reason="the bad-model rows build ONNX files (test extra)")
from onnx import TensorProto, helper  # noqa: E402

W, H = 64, 48
FRAME = W * H * 3 // 2


def _onnx_model(path: Path, *, elem=TensorProto.FLOAT, shape=("N", 1, "H", "W"), channels=1):
    """A 1x1 convolution with weight 1 (the identity) with the given input declaration."""
    x = helper.make_tensor_value_info("x", elem, list(shape))
    y = helper.make_tensor_value_info("y", TensorProto.FLOAT, ["N", 1, "H", "W"])
    w = helper.make_tensor("w", TensorProto.FLOAT, [1, channels, 1, 1], [1.0] * channels)
    nodes = []
    src = "x"
    if elem != TensorProto.FLOAT:
        nodes.append(helper.make_node("Cast", ["x"], ["xf"], to=TensorProto.FLOAT))
        src = "xf"
    nodes.append(helper.make_node("Conv", [src, "w"], ["y"]))
    graph = helper.make_graph(nodes, "identity", [x], [y], initializer=[w])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    path.write_bytes(model.SerializeToString())
    card = {
        "format": "cnnfilter-modelcard/1",
        "name": path.stem,
        "onnx": path.name,
        "sha256": hashlib.sha256(path.read_bytes()).hexdigest(),
        "inputs": {"x": {"scale": 255.0}},
        "output": "image",
        "qp_range": [0, 51],
        "slice_types": ["I"],
    }
    path.with_suffix(".json").write_text(json.dumps(card))
    return path


def _manifest(folder: Path, manifest) -> None:
    folder.mkdir()
    text = manifest if isinstance(manifest, str) else json.dumps(manifest)
    (folder / "modelset.json").write_text(text)


def _set_entry(onnx_name: str, sha: str = "0" * 64, card: str = "good.json") -> dict:
    return {
        "format": "cnnfilter-modelset/1",
        "name": "t",
        "models": {"m": {"onnx": onnx_name, "card": card, "sha256": sha}},
        "luma": [{"slice_types": ["I"], "qp": [0, 51], "model": "m"}],
    }


@pytest.fixture(scope="module")
def work(tmp_path_factory) -> Path:
    d = tmp_path_factory.mktemp("bad-inputs")
    rng = np.random.default_rng(0)
    (d / "clip.yuv").write_bytes(rng.integers(0, 256, 3 * FRAME, dtype=np.uint8).tobytes())
    (d / "keep.yuv").write_bytes(b"a user's file that no failed command may touch")
    frame = b"FRAME\n" + bytes(FRAME)
    for name, header in {
        "good.y4m": f"YUV4MPEG2 W{W} H{H} F25:1 C420jpeg",
        "f0.y4m": f"YUV4MPEG2 W{W} H{H} F30:0 C420jpeg",
        "fx.y4m": f"YUV4MPEG2 W{W} H{H} Fabc C420jpeg",
        "wx.y4m": f"YUV4MPEG2 Wx H{H} F25:1",
        "nowh.y4m": "YUV4MPEG2 F25:1",
        "c444.y4m": f"YUV4MPEG2 W{W} H{H} F25:1 C444",
        "huge.y4m": f"YUV4MPEG2 W99999999 H{H} F25:1",
    }.items():
        (d / name).write_bytes(header.encode() + b"\n" + frame)
    (d / "junk.y4m").write_bytes(b"JUNK\n" + frame)
    (d / "garbage.cfg").write_bytes(bytes(range(256)))
    (d / "nocolon.cfg").write_text("QP 32\n")
    (d / "unknown.cfg").write_text("NoSuchKey : 1\n")
    (d / "range.cfg").write_text("QP : 99\n")
    (d / "gop.cfg").write_text("Frame1: P 1 3 0 0 0.4624 0 0 0 4 4 -1 -5 -9 -13 0\n")
    (d / "folder").mkdir()
    (d / "src" / "images" / "photos").mkdir(parents=True)
    good = _onnx_model(d / "good.onnx")
    _onnx_model(d / "int64.onnx", elem=TensorProto.INT64)
    _onnx_model(d / "fixed.onnx", shape=(1, 1, 8, 8))
    _onnx_model(d / "chan3.onnx", shape=("N", 3, "H", "W"), channels=3)
    (d / "nocard.onnx").write_bytes(good.read_bytes())
    (d / "garbage.onnx").write_bytes(b"not a model")
    card = json.loads((d / "good.json").read_text())
    (d / "garbage.json").write_text(
        json.dumps(card | {"sha256": hashlib.sha256(b"not a model").hexdigest(), "onnx": "x"})
    )
    (d / "broken.onnx").write_bytes(b"not a model either")
    broken = card | {"onnx": "broken.onnx", "name": "broken"}
    broken["sha256"] = hashlib.sha256(b"not a model either").hexdigest()
    (d / "broken.json").write_text(json.dumps(broken))
    (d / "badcard.onnx").write_bytes(good.read_bytes())
    (d / "badcard.json").write_text(json.dumps(card | {"inputs": ["x"], "onnx": "badcard.onnx"}))
    sha = card["sha256"]
    sets = d / "sets"
    sets.mkdir()
    _manifest(sets / "list", [])
    _manifest(sets / "entries", {**_set_entry("good.onnx"), "models": {"m": "good.onnx"}})
    _manifest(sets / "badjson", "{")
    _manifest(sets / "binary", "")
    (sets / "binary" / "modelset.json").write_bytes(b"\xff\xfe{")
    _manifest(sets / "abs", _set_entry(str(good.resolve()), sha))
    _manifest(sets / "dotdot", _set_entry("../../good.onnx", sha, "../../good.json"))
    _manifest(sets / "missing", _set_entry("gone.onnx", sha))
    _manifest(sets / "inference", {**_set_entry("good.onnx", sha), "inference": []})
    _manifest(sets / "threads", {**_set_entry("good.onnx", sha), "inference": {"threads": 0}})
    _manifest(sets / "norules", {**_set_entry("good.onnx", sha), "luma": []})
    _manifest(sets / "rulemodel", {**_set_entry("good.onnx", sha), "luma": [{"model": "zz"}]})
    _manifest(sets / "format", {**_set_entry("good.onnx", sha), "format": "other/9"})
    _manifest(sets / "sha", _set_entry("good.onnx"))
    for s in ("sha", "missing", "inference", "threads", "norules", "rulemodel", "format"):
        if s != "missing":
            shutil.copy(good, sets / s / "good.onnx")
        shutil.copy(d / "good.json", sets / s / "good.json")
    (d / "garbage.pt").write_bytes(b"not a checkpoint")
    return d


ENCODE = ["encode", "-c", "encoder_intra_main.cfg", "-wdt", str(W), "-hgt", str(H), "-f", "1"]
ENC = [*ENCODE, "-i", "{d}/clip.yuv"]
ENC_OUT = [*ENC, "-b", "{d}/new.bin"]
Y4M = ["encode", "-c", "encoder_intra_main.cfg", "-b", "{d}/new.bin", "-i"]
FILTER = ["filter", "-m", "{d}/good.onnx", "-q", "32", "-wdt", str(W), "-hgt", str(H)]
FILT = [*FILTER, "-i", "{d}/clip.yuv"]
FILT_OUT = [*FILT, "-o", "{d}/new.yuv"]
FILTER_M = ["filter", "-q", "32", "-wdt", str(W), "-hgt", str(H), "-i", "{d}/clip.yuv"]
FILTER_M_OUT = [*FILTER_M, "-o", "{d}/new.yuv", "-m"]
ENC_CNN = [*ENC_OUT, "--cnn"]
CREATE = ["modelset", "create", "-o", "{d}/newset"]
TRAIN = ["train", "--arch", "vrcnn", "--data", "{d}/folder", "-o", "{d}/run", "--qp", "37"]
TRAIN += ["--steps", "1"]
EXPORT = ["export", "-o", "{d}/new.onnx", "-c"]

ROWS = [
    # encode: input
    ("enc-missing-input", [*ENCODE, "-i", "{d}/nope.yuv", "-b", "{d}/new.bin"], 2, "not found"),
    ("enc-folder-input", [*ENCODE, "-i", "{d}/folder", "-b", "{d}/new.bin"], 2, "folder"),
    ("enc-no-input", ["encode", "-b", "{d}/new.bin"], 2, "no input file"),
    ("enc-no-size", ["encode", "-i", "{d}/clip.yuv", "-b", "{d}/new.bin"], 2, "-wdt/-hgt"),
    ("enc-odd-width", [*ENC_OUT, "-wdt", "63"], 2, "even width"),
    ("enc-wrong-size", [*ENC_OUT, "-wdt", "66"], 2, "not a whole number"),
    ("enc-too-many-frames", [*ENC_OUT, "-f", "9"], 2, "9 were asked for"),
    ("enc-skip-all", [*ENC_OUT, "-f", "0", "-fs", "3"], 2, "no frames to encode"),
    ("enc-qp-high", [*ENC_OUT, "-q", "60"], 2, "out of range"),
    ("enc-qp-low", [*ENC_OUT, "-q", "-1"], 2, "out of range"),
    ("enc-qp-text", [*ENC_OUT, "-q", "x"], 2, "invalid int"),
    ("enc-fr-nan", [*ENC_OUT, "--FrameRate=nan"], 2, "not a valid float"),
    ("enc-fr-inf", [*ENC_OUT, "--FrameRate=inf"], 2, "not a valid float"),
    ("enc-fr-zero", [*ENC_OUT, "-fr", "0"], 2, "out of range"),
    ("enc-unknown-key", [*ENC_OUT, "--NoSuchKey=1"], 2, "unknown configuration key"),
    ("enc-key-typo", [*ENC_OUT, "--SAOO=1"], 2, "did you mean SAO"),
    ("enc-bad-bool", [*ENC_OUT, "--SAO=maybe"], 2, "not a valid bool"),
    ("enc-key-no-value", [*ENC_OUT, "--SAO"], 2, "needs a value"),
    ("enc-stray-arg", [*ENC_OUT, "stray"], 2, "unexpected argument"),
    ("enc-intra-period", [*ENC_OUT, "--IntraPeriod=32"], 2, "Frame1 is missing"),
    ("enc-lambda", [*ENC_OUT, "--LambdaModifier0=0"], 2, "out of range"),
    ("enc-cnn-mode", [*ENC_OUT, "--cnn-mode", "sometimes"], 2, "invalid choice"),
    # encode: y4m headers
    ("enc-y4m-f0", [*Y4M, "{d}/f0.y4m"], 2, "F30:0"),
    ("enc-y4m-fx", [*Y4M, "{d}/fx.y4m"], 2, "Fabc"),
    ("enc-y4m-wx", [*Y4M, "{d}/wx.y4m"], 2, "Wx"),
    ("enc-y4m-nowh", [*Y4M, "{d}/nowh.y4m"], 2, "no valid W/H"),
    ("enc-y4m-444", [*Y4M, "{d}/c444.y4m"], 2, "4:2:0"),
    ("enc-y4m-huge", [*Y4M, "{d}/huge.y4m"], 2, "no valid W/H"),
    ("enc-y4m-junk", [*Y4M, "{d}/junk.y4m"], 2, "YUV4MPEG2"),
    ("enc-y4m-size", [*Y4M, "{d}/good.y4m", "-wdt", "32", "-hgt", "32"], 2, "was given"),
    # encode: cfg files
    ("enc-cfg-missing", [*ENC_OUT, "-c", "{d}/nope.cfg"], 2, "configuration file not found"),
    ("enc-cfg-folder", [*ENC_OUT, "-c", "{d}/folder"], 2, "is a folder"),
    ("enc-cfg-binary", [*ENC_OUT, "-c", "{d}/garbage.cfg"], 2, "garbage.cfg"),
    ("enc-cfg-nocolon", [*ENC_OUT, "-c", "{d}/nocolon.cfg"], 2, "expected 'Key : value'"),
    ("enc-cfg-unknown", [*ENC_OUT, "-c", "{d}/unknown.cfg"], 2, "unknown.cfg:1"),
    ("enc-cfg-range", [*ENC_OUT, "-c", "{d}/range.cfg"], 2, "out of range"),
    ("enc-cfg-gop", [*ENC_OUT, "-c", "{d}/gop.cfg"], 2, "POC 0, which is no longer kept"),
    (
        "enc-ra-period",
        [*ENC_OUT, "-c", "encoder_randomaccess_main.cfg", "--IntraPeriod=12"],
        2,
        "not a multiple of GOPSize 8",
    ),
    (
        "enc-ra-gopsize",
        [*ENC_OUT, "-c", "encoder_randomaccess_main.cfg", "--GOPSize=6"],
        2,
        "Frame7 is given",
    ),
    (
        "enc-ldp-missing-ref",
        [
            *ENC_OUT,
            "-c",
            "encoder_lowdelay_P_main.cfg",
            "--Frame2=P 2 2 0 0 0.4624 0 0 0 2 2 -1 1 0",
        ],
        2,
        "references POC 3",
    ),
    # encode: outputs
    ("enc-nothing-to-write", ENC, 2, "nothing to write"),
    ("enc-b-folder", [*ENC, "-b", "{d}/folder"], 2, "is a folder"),
    ("enc-o-folder", [*ENC, "-o", "{d}/folder"], 2, "is a folder"),
    ("enc-b-no-parent", [*ENC, "-b", "{d}/nope/s.bin"], 2, "does not exist"),
    ("enc-b-unwritable", [*ENC, "-b", "/proc/cnnfilter-test.bin"], 2, "/proc"),
    ("enc-o-is-input", [*ENC, "-o", "{d}/clip.yuv"], 2, "is also an input"),
    ("enc-b-is-o", [*ENC, "-b", "{d}/new.yuv", "-o", "{d}/new.yuv"], 2, "different files"),
    ("enc-o-bad-folder-b-ok", [*ENC_OUT, "-o", "{d}/folder"], 2, "is a folder"),
    # encode: --cnn model sets
    ("enc-cnn-missing", [*ENC_CNN, "no-such-set"], 2, "no model set named"),
    ("enc-cnn-int64", [*ENC_CNN, "{d}/int64.onnx"], 2, "tensor(int64)"),
    ("enc-cnn-fixed", [*ENC_CNN, "{d}/fixed.onnx"], 2, "fixed size 8x8"),
    ("enc-cnn-chan3", [*ENC_CNN, "{d}/chan3.onnx"], 2, "3 channels"),
    ("enc-cnn-list", [*ENC_CNN, "{d}/sets/list"], 2, "JSON object"),
    ("enc-cnn-entries", [*ENC_CNN, "{d}/sets/entries"], 2, "model 'm' must be an object"),
    ("enc-cnn-badjson", [*ENC_CNN, "{d}/sets/badjson"], 2, "modelset.json: not valid JSON"),
    ("enc-cnn-abs", [*ENC_CNN, "{d}/sets/abs"], 2, "relative path inside"),
    ("enc-cnn-nocard", [*ENC_CNN, "{d}/nocard.onnx"], 2, "needs its card"),
    # filter
    ("filt-qp", [*FILTER, "-i", "{d}/clip.yuv", "-o", "{d}/new.yuv", "-q", "60"], 2, "0..51"),
    ("filt-missing-input", [*FILTER, "-i", "{d}/nope.yuv", "-o", "{d}/new.yuv"], 2, "not found"),
    ("filt-wrong-size", [*FILT_OUT, "-wdt", "60"], 2, "not a whole number"),
    ("filt-odd-size", [*FILT_OUT, "-wdt", "33", "-hgt", "2"], 2, "not a whole number"),
    (
        "filt-no-size",
        ["filter", "-m", "{d}/good.onnx", "-q", "32", "-i", "{d}/clip.yuv", "-o", "{d}/new.yuv"],
        2,
        "-wdt/-hgt",
    ),
    ("filt-too-many", [*FILT_OUT, "-f", "7"], 2, "7 were asked for"),
    ("filt-zero-frames", [*FILT_OUT, "-f", "0"], 2, "no complete frame"),
    ("filt-same-in-out", [*FILT, "-o", "{d}/clip.yuv"], 2, "is also an input"),
    ("filt-out-folder", [*FILT, "-o", "{d}/folder"], 2, "is a folder"),
    ("filt-out-no-parent", [*FILT, "-o", "{d}/nope/x.yuv"], 2, "does not exist"),
    ("filt-out-unwritable", [*FILT, "-o", "/proc/cnnfilter-test.yuv"], 2, "/proc"),
    ("filt-y4m-f0", [*FILTER, "-i", "{d}/f0.y4m", "-o", "{d}/new.yuv"], 2, "F30:0"),
    ("filt-m-missing", [*FILTER_M_OUT, "nope"], 2, "no model set named"),
    ("filt-m-int64", [*FILTER_M_OUT, "{d}/int64.onnx"], 2, "tensor(int64)"),
    ("filt-m-fixed", [*FILTER_M_OUT, "{d}/fixed.onnx"], 2, "fixed size"),
    ("filt-m-chan3", [*FILTER_M_OUT, "{d}/chan3.onnx"], 2, "3 channels"),
    ("filt-m-garbage", [*FILTER_M_OUT, "{d}/garbage.json"], 2, "the file next to it"),
    ("filt-m-badcard", [*FILTER_M_OUT, "{d}/badcard.onnx"], 2, "badcard.json"),
    ("filt-m-list", [*FILTER_M_OUT, "{d}/sets/list"], 2, "JSON object"),
    ("filt-m-entries", [*FILTER_M_OUT, "{d}/sets/entries"], 2, "must be an object"),
    ("filt-m-badjson", [*FILTER_M_OUT, "{d}/sets/badjson"], 2, "not valid JSON"),
    ("filt-m-binary", [*FILTER_M_OUT, "{d}/sets/binary"], 2, "not valid JSON"),
    ("filt-m-abs", [*FILTER_M_OUT, "{d}/sets/abs"], 2, "relative path inside"),
    ("filt-m-dotdot", [*FILTER_M_OUT, "{d}/sets/dotdot"], 2, "relative path inside"),
    ("filt-m-file-missing", [*FILTER_M_OUT, "{d}/sets/missing"], 2, "file missing"),
    ("filt-m-inference", [*FILTER_M_OUT, "{d}/sets/inference"], 2, "'inference' must be"),
    ("filt-m-threads", [*FILTER_M_OUT, "{d}/sets/threads"], 2, "threads must be"),
    ("filt-m-norules", [*FILTER_M_OUT, "{d}/sets/norules"], 2, "no luma rule"),
    ("filt-m-rule-model", [*FILTER_M_OUT, "{d}/sets/rulemodel"], 2, "not listed"),
    ("filt-m-format", [*FILTER_M_OUT, "{d}/sets/format"], 2, "format must be"),
    ("filt-m-sha", [*FILTER_M_OUT, "{d}/sets/sha"], 2, "sha256 check"),
    ("filt-provider-cuda", [*FILT_OUT, "--provider", "cuda"], 2, "CUDAExecutionProvider"),
    ("filt-slice-type", [*FILT_OUT, "--slice-type", "X"], 2, "invalid choice"),
    ("filt-no-model-for", [*FILT_OUT, "--slice-type", "P"], 2, "no luma model for a P slice"),
    # models
    ("models-unknown-flag", ["models", "--bogus"], 2, "unrecognized arguments"),
    # modelset
    ("ms-create-missing", [*CREATE, "{d}/nope.onnx"], 2, "model file missing"),
    ("ms-create-nocard", [*CREATE, "{d}/nocard.onnx"], 2, "model file missing"),
    ("ms-create-badcard", [*CREATE, "{d}/badcard.onnx"], 2, "badcard.json"),
    ("ms-create-broken", [*CREATE, "{d}/broken.onnx"], 2, "onnxruntime cannot load"),
    ("ms-create-twice", [*CREATE, "{d}/good.onnx", "{d}/good.onnx"], 2, "two models"),
    (
        "ms-create-into-set",
        ["modelset", "create", "-o", "{d}/sets/sha", "{d}/good.onnx"],
        2,
        "exists already",
    ),
    (
        "ms-create-into-file",
        ["modelset", "create", "-o", "{d}/clip.yuv", "{d}/good.onnx"],
        2,
        "not a folder",
    ),
    ("ms-create-threads", [*CREATE, "--threads", "0", "{d}/good.onnx"], 2, "threads must be"),
    ("ms-create-tile", [*CREATE, "--tile", "4", "{d}/good.onnx"], 2, "too small"),
    ("ms-create-slice", [*CREATE, "--slice-types", "Q", "{d}/good.onnx"], 2, "slice_types"),
    ("ms-show-missing", ["modelset", "show", "{d}/nope"], 2, "not found"),
    ("ms-show-list", ["modelset", "show", "{d}/sets/list"], 2, "JSON object"),
    ("ms-verify-sha", ["modelset", "verify", "{d}/sets/sha"], 2, "sha256 check"),
    ("ms-verify-dotdot", ["modelset", "verify", "{d}/sets/dotdot"], 2, "relative path"),
    ("ms-no-action", ["modelset"], 2, "required"),
    # dataset
    ("ds-no-source", ["dataset", "build", "-o", "{d}/ds", "--source", "{d}/nope"], 2, "nope"),
    (
        "ds-source-file",
        ["dataset", "build", "-o", "{d}/ds", "--source", "{d}/clip.yuv"],
        2,
        "clip.yuv",
    ),
    (
        "ds-qp",
        ["dataset", "build", "-o", "{d}/ds", "--source", "{d}/folder", "--qp", "60"],
        2,
        "60",
    ),
    (
        "ds-out-file",
        ["dataset", "build", "-o", "{d}/clip.yuv", "--source", "{d}/src"],
        2,
        "clip.yuv",
    ),
    ("ds-show-missing", ["dataset", "show", "{d}/nope"], 2, "nope"),
    ("ds-show-not-dataset", ["dataset", "show", "{d}/folder"], 2, "folder"),
    # train
    (
        "train-arch",
        ["train", "--arch", "nope", "--data", "{d}/folder", "-o", "{d}/run"],
        2,
        "unknown network 'nope'",
    ),
    ("train-data", TRAIN, 2, "folder"),
    ("train-data-missing", [*TRAIN, "--data", "{d}/nope"], 2, "nope"),
    (
        "train-no-qp",
        ["train", "--arch", "vrcnn", "--data", "{d}/folder", "-o", "{d}/run"],
        2,
        "give --qp",
    ),
    ("train-qp-type", [*TRAIN, "--qp", "x"], 2, "invalid int"),
    ("train-resume-nothing", [*TRAIN, "--resume", "--steps", "1"], 2, "folder"),
    # export
    ("export-missing", [*EXPORT, "{d}/nope.pt"], 2, "nope.pt"),
    ("export-garbage", [*EXPORT, "{d}/garbage.pt"], 2, "garbage.pt"),
    ("export-folder", [*EXPORT, "{d}/folder"], 2, "folder"),
    ("export-opset", [*EXPORT, "{d}/garbage.pt", "--opset", "9"], 2, "opset"),
    # top level
    ("no-command", [], 2, "required"),
    ("unknown-command", ["frobnicate"], 2, "invalid choice"),
]


def test_the_tables_hold_over_a_hundred_bad_inputs():
    from test_cli_errors_ctc import CASES as CTC_ROWS
    from test_cli_errors_decode import ROWS as DECODE_ROWS

    assert len(ROWS) + len(CTC_ROWS) + len(DECODE_ROWS) >= 100
    assert len({r[0] for r in ROWS}) == len(ROWS), "row names must be unique"


@pytest.mark.parametrize("name,argv,code,fragment", ROWS, ids=[r[0] for r in ROWS])
def test_bad_input(name, argv, code, fragment, work, capsys):
    argv = [a.replace("{d}", str(work)) for a in argv]
    check_bad_input(argv, code, fragment.replace("{d}", str(work)), capsys, watch=work)


def test_filter_failing_midway_leaves_the_existing_output_as_it_was(work, capsys, monkeypatch):
    # A filter that fails on the second frame (as a crash or a kill would stop it): the final
    # name keeps what it held, and no temporary file is left beside it.
    from cnnfilter.errors import UserError
    from cnnfilter.modelset import ModelSet

    calls = []
    real = ModelSet.filter_luma

    def failing(self, y, qp, slice_type):
        calls.append(1)
        if len(calls) == 2:
            raise UserError("simulated failure on frame 2")
        return real(self, y, qp, slice_type)

    monkeypatch.setattr(ModelSet, "filter_luma", failing)
    argv = [a.replace("{d}", str(work)) for a in FILT] + ["-o", str(work / "keep.yuv")]
    check_bad_input(argv, 2, "simulated failure", capsys, watch=work)


def test_filter_writes_its_output_when_it_succeeds(work, capsys, tmp_path):
    from cli_errors_support import run_main

    out = tmp_path / "out.yuv"
    argv = [a.replace("{d}", str(work)) for a in FILT] + ["-o", str(out)]
    code, stdout, err = run_main(argv, capsys)
    assert code == 0, err
    # the identity model: the output equals the input, frame for frame
    assert out.read_bytes() == (work / "clip.yuv").read_bytes()
    assert [p.name for p in tmp_path.iterdir()] == ["out.yuv"]


@pytest.mark.parametrize(
    "exc",
    [
        RuntimeError("an internal inconsistency"),
        ValueError("an internal inconsistency"),
        OSError("an internal inconsistency"),
        KeyError("an internal inconsistency"),
    ],
    ids=lambda e: type(e).__name__,
)
def test_a_bug_is_exit_3_with_its_traceback(exc, capsys, monkeypatch):
    # Not a user error: the traceback is shown, with a request to report it, and the exit code
    # is neither 1 (reserved for a hash mismatch) nor 2. A bare ValueError or an OSError that
    # names no file is a bug too: the user's mistakes are raised as UserError and its kin.
    from cli_errors_support import run_main

    from cnnfilter.cli import build_parser

    def broken(args):
        raise exc

    monkeypatch.setattr(
        "cnnfilter.cli.build_parser",
        lambda: _with_func(build_parser(), "models", broken),
    )
    code, _, err = run_main(["models"], capsys)
    assert code == 3
    assert (
        "Traceback" in err and f"{type(exc).__name__}: " in err and "internal inconsistency" in err
    )
    assert "please report it" in err


def _with_func(parser, command, func):
    for action in parser._subparsers._group_actions:
        action.choices[command].set_defaults(func=func)
    return parser
