"""Training pairs for the in-loop filters: (reconstruction without deblocking and SAO, original,
QP, slice type), All-Intra, from the shared images.

Split (fixed; see ``split_of``): **validation = CBSD68 + CSet14** (81 images that are never used
for training); **training** = BSDS500 minus BSD68 (432), CUrban100 subset (30), McMaster18 and
CSet5. BSDS500 and CBSD68 come from the same collection but share no image. **Held out
entirely** (``HELD_OUT``): the scikit-image photographs and the raw clips, because they are the
CTC runner's test sequences (the built-in set and ``sequences/shared_video.yaml``); training on
them would inflate every BD-rate the runner reports.

Pictures: images are converted to 8-bit I420 with BT.601 limited-range matrices (ffmpeg's
default for RGB -> yuv420p; chroma is the 2x2 mean), grey images get neutral chroma; every
picture is cropped at the bottom/right to a multiple of 8 so no codec needs a conformance
window. Only luma is stored.

Storage (``dataset.json`` at the root describes everything)::

    <root>/dataset.json            manifest: codec, arguments, QPs, split rule, one entry per
                                   frame with its size, offset, slice type and per-QP slice QP
                                   and PSNR of the reconstruction
    <root>/<split>/orig.npy        uint8, 1-D: the original luma of every frame, concatenated
    <root>/<split>/rec_qpNN.npy    uint8, 1-D: the reconstructed luma at QP NN, same offsets
    <root>/<split>/side_NAME_qpNN.npy  (``--side``) uint8, 1-D: the side-information plane NAME
                                   (``SIDE_PLANES``) the codec hands the in-loop CNN with that
                                   reconstruction, same offsets

A frame is ``arr[offset : offset + h * w].reshape(h, w)``; the .npy files are opened as
memory maps, so training reads only the patches it samples.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from .errors import UserError
from .inference import SIDE_INPUTS
from .outputs import atomic_output
from .yuv import rgb_to_ycbcr420

DATASET_FORMAT = "cnnfilter-dataset/1"
DEFAULT_QPS = (22, 27, 32, 37)
VALIDATION_SETS = ("CBSD68", "CSet14")
# The CTC test content: never trained on, never validated on (see the module docstring).
HELD_OUT = ("skimage", "video")
IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".tif", ".tiff", ".bmp")
X265_ARGS = [
    "--keyint",
    "1",
    "--no-deblock",
    "--no-sao",
    "--ipratio",
    "1",
    "--aq-mode",
    "0",
    "--psy-rd",
    "0",
    "--psy-rdoq",
    "0",
    "--no-info",
    "--hash",
    "1",
    "--pools",
    "1",
    "--frame-threads",
    "1",
]
X265_OFF = ("--no-deblock", "--no-sao")
OURS_OVERRIDES = {"SAO": 0, "LoopFilterDisable": 1, "IntraPeriod": 1}
OURS_IN_LOOP = {"SAO": 1, "LoopFilterDisable": 0, "IntraPeriod": 1}
# What P/B pictures of an LDP/RA dataset predict from: "unfiltered" references (the sequence is
# coded with deblocking and SAO off, and each frame's reconstruction is stored), or "filtered"
# ones as in the loop (coded with them on, and each frame's reconstruction *before* deblocking,
# what the in-loop CNN receives, is stored; ``PreFilterRecorder``).
REFERENCES = ("unfiltered", "filtered")
# The side-information planes a ``--side`` dataset stores: every one the codec hands the in-loop
# CNN (``hevc/cnn_side.h``), computed by the encoder from the coding information the decoder
# has too.
SIDE_PLANES = tuple(SIDE_INPUTS)
SLICE_TYPES_OF = {"AI": ("I",), "LDP": ("I", "P"), "RA": ("I", "B")}
MOTION_NOTE = (
    "each image is a 9-frame moving sequence (cnnfilter.moving: a window of at most 256x192 "
    "panning at a constant sub-pixel velocity of up to 2.75 px/frame with a zoom of up to "
    "0.4 %/frame, bicubic, from a hash of the image's name)"
)


def psnr(a: np.ndarray, b: np.ndarray) -> float:
    mse = float(np.mean((a.astype(np.float64) - b.astype(np.float64)) ** 2))
    return 100.0 if mse == 0 else 10.0 * np.log10(255.0**2 / mse)


def split_of(rel: str) -> str:
    """'val' for pictures of a validation collection, 'held-out' for the CTC test content (the
    scikit-image photographs and the clips; ``rel`` is relative to images/ or is video/...),
    else 'train'."""
    top = rel.split("/", 1)[0]
    if top in HELD_OUT:
        return "held-out"
    return "val" if top in VALIDATION_SETS else "train"


# ----------------------------------------------------------------------------- sources


@dataclass(frozen=True)
class Item:
    """One source picture."""

    name: str  # "images/CSet5/baby.png"
    path: Path
    width: int  # after cropping to a multiple of 8
    height: int
    fps: float
    frames: tuple[int, ...]  # frame indices: (0,) for a picture, 0..8 for a moving sequence
    split: str
    config: str = "AI"  # LDP, RA: a moving sequence made from the image (cnnfilter.moving)

    def load(self) -> list[tuple[np.ndarray, np.ndarray, np.ndarray]]:
        if self.config != "AI":
            from .moving import moving_frames

            return moving_frames(self.path, self.name, self.width, self.height, len(self.frames))
        return [image_to_i420(self.path, self.width, self.height)]


def _pil() -> Any:
    try:
        from PIL import Image
    except ImportError as e:
        raise UserError(
            "reading the training images needs Pillow: pip install 'cnnfilter[train]'"
        ) from e
    return Image


def image_to_i420(
    path: Path, width: int | None = None, height: int | None = None
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """An image as 8-bit I420 planes (BT.601 limited range), cropped to width x height."""
    Image = _pil()
    with Image.open(path) as im:
        grey = im.mode in ("L", "I;16", "I", "1")
        a = np.asarray(im.convert("L" if grey else "RGB"), dtype=np.float64)
    h = height or a.shape[0] // 8 * 8
    w = width or a.shape[1] // 8 * 8
    a = a[:h, :w]

    if grey:
        y = 16.0 + 219.0 * a / 255.0
        c = np.full((h // 2, w // 2), 128, np.uint8)
        return np.clip(np.floor(y + 0.5), 0, 255).astype(np.uint8), c, c.copy()
    return rgb_to_ycbcr420(a)


def scan_sources(root: str | Path, limit: int | None = None, config: str = "AI") -> list[Item]:
    """Every image under root/images that is not held out, in a fixed (sorted) order. The clips
    under root/video are held out (see the module docstring). ``limit`` keeps at most that many
    items per collection (for smoke builds). With ``config`` LDP or RA each image becomes a
    moving sequence (``cnnfilter.moving``); images too small for one are skipped."""
    from . import moving

    root = Path(root)
    if not (root / "images").is_dir():
        raise FileNotFoundError(f"{root}: no images/ folder (is --source right?)")
    Image = _pil()
    items: list[Item] = []
    if (root / "images").is_dir():
        for coll in sorted(p for p in (root / "images").iterdir() if p.is_dir()):
            files = sorted(p for p in coll.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES)
            for f in files[:limit]:
                with Image.open(f) as im:
                    w, h = im.size
                rel = f"{coll.name}/{f.name}"
                if w < 16 or h < 16 or split_of(rel) == "held-out":
                    continue
                if config == "AI":
                    size, frames = (w // 8 * 8, h // 8 * 8), (0,)
                else:
                    size, frames = moving.window(w, h), tuple(range(moving.FRAMES))
                    if min(size) < 64:
                        continue
                items.append(Item(f"images/{rel}", f, *size, 25.0, frames, split_of(rel), config))
    if not items:
        raise UserError(f"{root}: no training or validation images found")
    return items


# ----------------------------------------------------------------------------- codecs


@dataclass
class CodedFrame:
    rec: np.ndarray  # uint8 luma
    slice_type: str
    qp: int
    # with filtered references: the reconstruction after deblocking and SAO (the baseline)
    rec_lf: np.ndarray | None = None
    # with side information: SIDE_PLANES name -> uint8 plane of the rec's size
    side: dict[str, np.ndarray] | None = None


class PreFilterRecorder:
    """A pass-through in-loop "model set": what ``cnnfilter.encode(..., cnn=...)`` needs of a
    :class:`cnnfilter.modelset.ModelSet` (name, identity, inference_mode, has_chroma,
    filters, filter_luma; it has no ONNX model, so ``filters`` is empty). It keeps a copy of
    each picture's luma as the encoder hands it to the CNN, the reconstruction before
    deblocking, and returns it unchanged; with ``cnn_mode="off"`` every
    CTU flag is signalled off, so the pictures are the deblocking + SAO anchor's. The codec calls
    the CNN once per picture in coding order, without its POC: ``by_poc`` pairs the calls with
    the encoder's per-picture stats (same order) and checks that they agree."""

    name = "pre-deblocking-recorder"
    identity = hashlib.sha256(b"cnnfilter.dataset.PreFilterRecorder").digest()[:16]
    inference_mode = "record"
    has_chroma = False

    def __init__(self) -> None:
        self.calls: list[tuple[int, str, np.ndarray, dict[str, np.ndarray] | None]] = []
        self.filters: dict[str, Any] = {}

    def filter_luma(
        self, y: np.ndarray, qp: int, slice_type: str, side: Any = None, *_: Any, **__: Any
    ) -> np.ndarray:
        # y and the side planes are views valid during the call only
        planes = None if side is None else {k: np.array(v, copy=True) for k, v in side.items()}
        self.calls.append((int(qp), str(slice_type), np.array(y, copy=True), planes))
        return y

    def by_poc(self, frames: list[Any]) -> dict[int, np.ndarray]:
        """{POC: recorded luma}, given the encode's ``FrameStats`` in coding order: one call
        per coded picture, with that picture's slice type and QP."""
        return {poc: call[2] for poc, call in self._match(frames).items()}

    def side_by_poc(self, frames: list[Any]) -> dict[int, dict[str, np.ndarray]]:
        """{POC: the side planes handed over with the picture} (as ``by_poc``)."""
        out = {}
        for poc, call in self._match(frames).items():
            if call[3] is None:
                raise RuntimeError(f"the encoder handed no side information with picture {poc}")
            out[poc] = call[3]
        return out

    def _match(self, frames: list[Any]) -> dict[int, tuple[Any, ...]]:
        if len(self.calls) != len(frames):
            raise RuntimeError(
                f"the encoder called the CNN {len(self.calls)} times for {len(frames)} pictures"
            )
        out: dict[int, tuple[Any, ...]] = {}
        for call, f in zip(self.calls, frames, strict=True):
            qp, slice_type = call[0], call[1]
            if (qp, slice_type) != (f.qp, f.slice_type) or f.poc in out:
                raise RuntimeError(
                    f"CNN call for a {slice_type} picture at QP {qp} does not match coded "
                    f"picture {f.poc} ({f.slice_type}, QP {f.qp})"
                )
            out[f.poc] = call
        return out


def _write_i420(path: Path, frames: list[tuple[np.ndarray, np.ndarray, np.ndarray]]) -> None:
    with path.open("wb") as f:
        for planes in frames:
            for p in planes:
                f.write(np.ascontiguousarray(p).tobytes())


def _decode_check(bitstream: Path, n: int, what: str) -> list[Any]:
    from .decoding import decode

    res = decode(bitstream)
    if len(res.pictures or []) != n:
        raise UserError(f"{what}: decoded {len(res.pictures or [])} picture(s), expected {n}")
    if res.mismatches:
        raise UserError(f"{what}: decoded-picture hash mismatch")
    return list(zip(sorted(res.frames, key=lambda f: f.poc), res.pictures, strict=True))


def code_x265(
    frames: list[tuple[np.ndarray, np.ndarray, np.ndarray]],
    qp: int,
    fps: float,
    tmp: Path,
    in_loop: bool = False,
) -> list[CodedFrame]:
    """All-Intra x265 with deblocking and SAO off (``in_loop``: on, x265's defaults), decoded by
    cnnfilter.decode (bit-exact)."""
    exe = shutil.which("x265")
    if not exe:
        raise FileNotFoundError("--codec x265 needs the x265 command (apt-get install x265)")
    h, w = frames[0][0].shape
    src, bs = tmp / "in.yuv", tmp / "out.hevc"
    _write_i420(src, frames)
    cmd = [
        exe,
        "--input",
        str(src),
        "--input-res",
        f"{w}x{h}",
        "--fps",
        f"{fps:g}",
        "--frames",
        str(len(frames)),
        "--qp",
        str(qp),
        *(X265_ARGS if not in_loop else [a for a in X265_ARGS if a not in X265_OFF]),
        "-o",
        str(bs),
    ]
    r = subprocess.run(cmd, capture_output=True, text=True)
    if r.returncode != 0:
        raise UserError(f"x265 failed ({r.returncode}): {r.stderr.strip().splitlines()[-1:]}")
    out = []
    for info, pic in _decode_check(bs, len(frames), "x265 stream"):
        out.append(CodedFrame(pic.y.copy(), info.slice_type, info.qp))
    return out


def code_ours(
    frames: list[tuple[np.ndarray, np.ndarray, np.ndarray]],
    qp: int,
    fps: float,
    tmp: Path,
    in_loop: bool = False,
    cfg: str | None = None,
    config: str = "AI",
    references: str = "unfiltered",
    side: bool = False,
) -> list[CodedFrame]:
    """The project's own encoder (``cnnfilter.encode``), deblocking and SAO off (``in_loop``:
    on), All-Intra (``config`` LDP or RA: the shipped cfg file of that configuration); the
    reconstruction it writes must equal what ``cnnfilter.decode`` makes of its bitstream.

    ``references="filtered"`` (LDP, RA) codes with deblocking and SAO on, as the anchor does,
    so P/B pictures predict from filtered references, and returns as ``rec`` each picture's
    reconstruction before deblocking (what the in-loop CNN receives, ``PreFilterRecorder``)
    and as ``rec_lf`` the one after deblocking and SAO.

    ``side`` also returns the side-information planes the encoder hands the in-loop CNN with
    each picture (``CodedFrame.side``), recorded the same way."""
    from .encoding import encode
    from .yuv import read_frames

    record = references == "filtered" and not in_loop  # checked by build_dataset
    side = side and not in_loop  # (the in-loop pass makes only the validation baseline)
    h, w = frames[0][0].shape
    src, bs, rec = tmp / "in.yuv", tmp / "out.hevc", tmp / "rec.yuv"
    _write_i420(src, frames)
    overrides = dict(OURS_IN_LOOP if in_loop or record else OURS_OVERRIDES)
    if config != "AI":
        from .ctc.settings import cfg_file

        overrides.pop("IntraPeriod")
        cfg = cfg or str(cfg_file(config))
    recorder = PreFilterRecorder() if record or side else None
    res = encode(
        str(src),
        str(bs),
        str(rec),
        width=w,
        height=h,
        fps=fps,
        frames=len(frames),
        qp=qp,
        cfg=cfg,
        overrides=overrides,
        cnn=recorder,
        cnn_mode="off",
    )
    recs = [y.copy() for y, _, _ in read_frames(rec, w, h)]
    decoded = _decode_check(bs, len(frames), "encoder output")
    pre = recorder.by_poc(res.frames) if recorder is not None else {}
    if recorder is not None and sorted(pre) != [info.poc for info, _ in decoded]:
        raise RuntimeError(f"pre-deblocking pictures of POCs {sorted(pre)}, decoded other POCs")
    planes = recorder.side_by_poc(res.frames) if side and recorder is not None else {}
    out = []
    for (info, pic), r in zip(decoded, recs, strict=True):
        if not np.array_equal(pic.y, r):
            raise UserError(f"encoder reconstruction differs from the decoded picture {info.poc}")
        sp = planes.get(info.poc)
        if record:
            out.append(CodedFrame(pre[info.poc], info.slice_type, info.qp, rec_lf=r, side=sp))
        else:
            # deblocking and SAO off: what the CNN was handed is the reconstruction itself
            if side and not np.array_equal(pre[info.poc], r):
                raise RuntimeError(f"picture {info.poc}: the CNN was handed another picture")
            out.append(CodedFrame(r, info.slice_type, info.qp, side=sp))
    return out


def codec_description(
    codec: str, config: str = "AI", references: str = "unfiltered"
) -> dict[str, Any]:
    if codec == "custom":
        return {"codec": "custom", "version": "", "note": "a caller-supplied coder (tests)"}
    if codec == "x265":
        exe = shutil.which("x265")
        version = ""
        if exe:
            r = subprocess.run([exe, "--version"], capture_output=True, text=True)
            lines = (r.stderr + r.stdout).splitlines()
            version = next(
                (ln.split("version", 1)[1].strip() for ln in lines if "version" in ln), ""
            )
        return {"codec": "x265", "version": version, "args": X265_ARGS, "decoder": "cnnfilter"}
    import cnnfilter

    if references == "filtered":  # the anchor's in-loop filters; IntraPeriod from the cfg file
        overrides = {k: v for k, v in OURS_IN_LOOP.items() if k != "IntraPeriod"}
    else:
        overrides = OURS_OVERRIDES
    return {
        "codec": "ours",
        "version": cnnfilter.__version__,
        "overrides": overrides,
        **({"references": references} if config != "AI" else {}),
        "source_commit": source_commit(),
    }


def source_commit(root: Path | None = None) -> str:
    """The git commit of the source tree that holds this package ('+dirty' when it has
    uncommitted changes to tracked files), or '' outside a checkout: with it a dataset can be
    rebuilt by the same encoder. `root` (tests): the tree to ask instead of the package's."""
    root = (root or Path(__file__).parents[1]).resolve()
    try:
        # An installed copy can sit inside some other checkout (pyenv's, say): only a checkout
        # whose top level is this package's own tree names the encoder.
        top = subprocess.run(
            ["git", "-C", str(root), "rev-parse", "--show-toplevel"], capture_output=True, text=True
        )
        if top.returncode or Path(top.stdout.strip()).resolve() != root:
            return ""
        head = subprocess.run(
            ["git", "-C", str(root), "rev-parse", "HEAD"], capture_output=True, text=True
        )
        if head.returncode:
            return ""
        dirty = subprocess.run(
            ["git", "-C", str(root), "status", "--porcelain", "--untracked-files=no"],
            capture_output=True,
            text=True,
        )
    except OSError:
        return ""
    return head.stdout.strip() + ("+dirty" if dirty.stdout.strip() else "")


# ----------------------------------------------------------------------------- building


def build_dataset(
    source: str | Path,
    out: str | Path,
    *,
    codec: str = "ours",
    qps: tuple[int, ...] = DEFAULT_QPS,
    limit: int | None = None,
    cfg: str | None = None,
    progress: bool = True,
    coder: Callable[..., list[CodedFrame]] | None = None,
    baseline: bool = True,
    jobs: int = 1,
    config: str = "AI",
    references: str = "unfiltered",
    side: bool = False,
) -> Path:
    """Encodes every source at every QP and writes the dataset; returns the manifest path.
    ``config`` LDP or RA codes a moving sequence made from each image (``cnnfilter.moving``)
    with that configuration, so the pairs include P or B pictures. ``references`` says what
    their P/B pictures predict from (``REFERENCES``): ``unfiltered`` (deblocking and SAO off)
    or ``filtered`` (on, as in the loop; the stored reconstruction is then the one before
    deblocking, and the validation baseline comes from the same encode).

    ``coder(frames, qp, fps, tmpdir, in_loop=False) -> list[CodedFrame]`` replaces the codec
    (with ``codec="custom"``, for tests). With ``baseline`` the validation pictures are coded a
    second time with deblocking and SAO on (``add_baseline``). ``jobs`` sources are coded at
    once (the encoder releases the GIL); the dataset does not depend on it. ``side`` stores the
    side-information planes (``SIDE_PLANES``) with every reconstruction; a custom coder must
    then return them (``CodedFrame.side``)."""
    if codec not in ("ours", "x265") and not (codec == "custom" and coder is not None):
        raise UserError(f"--codec {codec}: use 'ours' or 'x265'")
    if not qps or any(not 0 <= q <= 51 for q in qps):
        raise UserError(f"QPs must be within 0..51, got {list(qps)}")
    if config not in SLICE_TYPES_OF:
        raise UserError(f"--cfg {config}: use AI, LDP, RA or an encoder configuration file")
    if config != "AI" and codec == "x265":
        raise UserError(f"--cfg {config} needs --codec ours (the x265 dataset is All-Intra)")
    if references not in REFERENCES:
        raise UserError(f"--references {references}: use {' or '.join(REFERENCES)}")
    if references == "filtered" and config == "AI":
        raise UserError(
            "--references filtered changes nothing in All-Intra (no picture predicts from "
            "another): use it with --cfg LDP or RA"
        )
    if side and codec == "x265":
        raise UserError(
            "--side needs --codec ours (the side planes come from our encoder's coding "
            "information; x265 does not hand it over)"
        )
    if references == "filtered" and coder is not None:
        raise UserError("--references filtered needs the built-in coder (codec 'ours')")
    out = Path(out)
    if out.exists() and not out.is_dir():
        raise UserError(f"{out}: exists and is not a folder")
    if (out / "dataset.json").exists():
        raise UserError(f"{out} already holds a dataset; remove it or choose another --out")
    items = scan_sources(source, limit, config)
    if coder is None:
        coder = (
            code_x265
            if codec == "x265"
            else (
                lambda f, q, r, t, in_loop=False: code_ours(
                    f, q, r, t, in_loop, cfg, config, references, side
                )
            )
        )
    # with filtered references the encode is the anchor's: its output is the baseline
    lf_in_pass = baseline and references == "filtered"

    # offsets are known up front, so the arrays are memory maps filled in place
    layout: dict[str, list[dict[str, Any]]] = {"train": [], "val": []}
    totals = {"train": 0, "val": 0}
    for it in items:
        for fi in it.frames:
            layout[it.split].append(
                {
                    "source": it.name,
                    "frame": fi,
                    "width": it.width,
                    "height": it.height,
                    "offset": totals[it.split],
                }
            )
            totals[it.split] += it.width * it.height
    out.mkdir(parents=True, exist_ok=True)
    # A folder of this run's own (a fresh name each time): only it is ever removed.
    tmpdir = Path(tempfile.mkdtemp(prefix=".building.", dir=out))
    try:
        _fill(
            out, tmpdir, items, qps, totals, layout, coder, codec, jobs, progress, config,
            lf_in_pass, side,
        )  # fmt: skip
    finally:
        shutil.rmtree(tmpdir, ignore_errors=True)
    manifest = {
        "format": DATASET_FORMAT,
        "configuration": config,
        "qps": list(qps),
        "slice_types": list(SLICE_TYPES_OF[config]),
        **({"motion": MOTION_NOTE} if config != "AI" else {}),
        **codec_description(codec, config, references),
        "source": str(Path(source).resolve()),
        "cfg": cfg,  # None: the encoder's built-in defaults (codec 'ours')
        "limit_per_collection": limit,
        "split_rule": (
            f"val = {' + '.join(VALIDATION_SETS)} (never trained on); held out entirely = "
            f"{' + '.join(HELD_OUT)} (the CTC test content); train = all other images"
        ),
        "color": "BT.601 limited range, 4:2:0, crop to a multiple of 8; luma stored",
        "splits": {
            s: {
                "orig": f"{s}/orig.npy",
                "rec": {str(q): f"{s}/rec_qp{q}.npy" for q in qps},
                "samples": totals[s],
                "frames": layout[s],
                **(
                    {"rec_lf": {str(q): f"{s}/rec_lf_qp{q}.npy" for q in qps}}
                    if lf_in_pass and s == "val"
                    else {}
                ),
                **(
                    {
                        "side": {
                            n: {str(q): f"{s}/side_{n}_qp{q}.npy" for q in qps} for n in SIDE_PLANES
                        }
                    }
                    if side
                    else {}
                ),
            }
            for s in totals
            if totals[s]
        },
    }
    if side:
        manifest["side_planes"] = (
            "side/<name>: the planes the encoder hands the in-loop CNN with each stored "
            "reconstruction (docs/models.md, 'Side information'), unscaled uint8"
        )
    if lf_in_pass and "val" in manifest["splits"]:
        manifest["baseline"] = (
            "val/rec_lf_*: the same encode's reconstruction after deblocking and SAO"
        )
    path = out / "dataset.json"
    with atomic_output(path, what="dataset manifest") as tmp:
        tmp.write_text(json.dumps(manifest, indent=1) + "\n")
    if baseline and not lf_in_pass and "val" in manifest["splits"]:
        add_baseline(out, coder=coder, progress=progress, cfg=cfg, jobs=jobs)
    return path


def _fill(
    out: Path,
    tmpdir: Path,
    items: list[Any],
    qps: list[int],
    totals: dict[str, int],
    layout: dict[str, list[dict[str, Any]]],
    coder: Any,
    codec: str,
    jobs: int,
    progress: bool,
    config: str = "AI",
    lf_in_pass: bool = False,
    side: bool = False,
) -> None:
    """Codes every source at every QP into memory maps under ``tmpdir``, then moves the
    finished split folders into ``out``. ``lf_in_pass``: the coder returns each frame's
    deblocking + SAO reconstruction too (``CodedFrame.rec_lf``), stored for validation;
    ``side``: it returns the side planes (``CodedFrame.side``), stored for both splits."""
    from tqdm import tqdm

    arrays: dict[tuple[str, str], np.ndarray] = {}
    for split, total in totals.items():
        if not total:
            continue
        (tmpdir / split).mkdir(exist_ok=True)
        lf = [f"rec_lf_qp{q}" for q in qps] if lf_in_pass and split == "val" else []
        sides = [f"side_{n}_qp{q}" for n in SIDE_PLANES for q in qps] if side else []
        for key in ["orig", *[f"rec_qp{q}" for q in qps], *lf, *sides]:
            arrays[(split, key)] = np.lib.format.open_memmap(
                tmpdir / split / f"{key}.npy", mode="w+", dtype=np.uint8, shape=(total,)
            )
    cursor = {"train": 0, "val": 0}
    work = tempfile.mkdtemp(prefix="cnnfilter-dataset-")
    try:
        bar = tqdm(total=len(items), desc=f"dataset ({codec})", unit="src", disable=not progress)
        for it, frames, coded_by_qp in _code_all(items, qps, coder, Path(work), jobs, False):
            bar.update(1)
            bar.set_postfix_str(it.name[-32:])
            entries = layout[it.split][cursor[it.split] : cursor[it.split] + len(frames)]
            cursor[it.split] += len(frames)
            for (y, _, _), e in zip(frames, entries, strict=True):
                arrays[(it.split, "orig")][e["offset"] : e["offset"] + y.size] = y.ravel()
                e["qp"] = {}
            for q, coded in zip(qps, coded_by_qp, strict=True):
                for (y, _, _), c, e in zip(frames, coded, entries, strict=True):
                    if c.rec.shape != y.shape:
                        raise UserError(f"{it.name}: reconstruction has the wrong size")
                    if c.slice_type not in SLICE_TYPES_OF[config]:
                        raise UserError(f"{it.name}: a {c.slice_type} slice in a {config} dataset")
                    arrays[(it.split, f"rec_qp{q}")][e["offset"] : e["offset"] + y.size] = (
                        c.rec.ravel()
                    )
                    e["slice_type"] = c.slice_type
                    e["qp"][str(q)] = {"slice_qp": c.qp, "psnr": round(psnr(c.rec, y), 4)}
                    if (it.split, f"rec_lf_qp{q}") in arrays:
                        if c.rec_lf is None or c.rec_lf.shape != y.shape:
                            raise RuntimeError(f"{it.name}: no deblocking + SAO picture")
                        arrays[(it.split, f"rec_lf_qp{q}")][e["offset"] : e["offset"] + y.size] = (
                            c.rec_lf.ravel()
                        )
                        e["qp"][str(q)]["psnr_lf"] = round(psnr(c.rec_lf, y), 4)
                    for n in SIDE_PLANES if side else ():
                        plane = None if c.side is None else c.side.get(n)
                        if plane is None or plane.shape != y.shape:
                            raise RuntimeError(f"{it.name}: no '{n}' side plane of its size")
                        a = arrays[(it.split, f"side_{n}_qp{q}")]
                        a[e["offset"] : e["offset"] + y.size] = plane.ravel()
    finally:
        bar.close()
        shutil.rmtree(work, ignore_errors=True)
    for a in arrays.values():
        a.flush()
    del arrays
    for split in totals:
        if (tmpdir / split).is_dir():
            os.replace(tmpdir / split, out / split)


def _code_all(
    items: list[Item],
    qps: tuple[int, ...] | list[int],
    coder: Callable[..., list[CodedFrame]],
    work: Path,
    jobs: int,
    in_loop: bool,
) -> Iterator[tuple[Item, list[Any], list[list[CodedFrame]]]]:
    """(item, its frames, its coded frames per QP) for every item, in the items' order, with up
    to ``jobs`` items coded at once, each in its own work folder."""

    def one(k: int) -> tuple[Item, list[Any], list[list[CodedFrame]]]:
        it = items[k]
        tmp = work / f"job{k}"
        tmp.mkdir(parents=True, exist_ok=True)
        try:
            frames = it.load()
            if in_loop:
                coded = [coder(frames, q, it.fps, tmp, in_loop=True) for q in qps]
            else:
                coded = [coder(frames, q, it.fps, tmp) for q in qps]
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
        return it, frames, coded

    if jobs <= 1:
        for k in range(len(items)):
            yield one(k)
        return
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(max_workers=jobs) as pool:
        # a bounded window of submitted items keeps memory flat and the order fixed
        pending = [pool.submit(one, k) for k in range(min(len(items), 2 * jobs))]
        nxt = len(pending)
        while pending:
            yield pending.pop(0).result()
            if nxt < len(items):
                pending.append(pool.submit(one, nxt))
                nxt += 1


def add_baseline(
    root: str | Path,
    *,
    coder: Callable[..., list[CodedFrame]] | None = None,
    progress: bool = True,
    cfg: str | None = None,
    jobs: int = 1,
) -> Path:
    """Codes the validation pictures again with the same codec and QPs but deblocking and SAO
    **on**, and stores them as ``val/rec_lf_qpNN.npy`` (+ per-frame ``psnr_lf``), so validation
    can report the gain over the standard in-loop filters as well. In All-Intra the in-loop
    filters do not feed intra prediction, so an HM-style encoder spends about the same bits on
    both; x265 changes some decisions when they are on (about 80% of the samples differ)."""
    from tqdm import tqdm

    root = Path(root)
    path = root / "dataset.json"
    if not path.is_file():
        raise FileNotFoundError(f"{root}: no dataset.json")
    m = json.loads(path.read_text())
    val = m.get("splits", {}).get("val")
    if not val:
        raise UserError(f"{root}: the dataset has no validation split")
    config = m.get("configuration", "AI")
    if coder is None:
        if m["codec"] == "x265":
            coder = code_x265
        elif m["codec"] == "ours":
            coder = lambda f, q, r, t, in_loop=False: code_ours(f, q, r, t, in_loop, cfg, config)  # noqa: E731
        else:
            raise UserError(f"{root}: codec '{m['codec']}' needs an explicit coder")
    qps = [int(q) for q in m["qps"]]
    items = [
        i
        for i in scan_sources(m["source"], m.get("limit_per_collection"), config)
        if i.split == "val"
    ]
    by_key = {(e["source"], e["frame"]): e for e in val["frames"]}
    arrays = {
        q: np.lib.format.open_memmap(
            root / "val" / f"rec_lf_qp{q}.npy.tmp", mode="w+", dtype=np.uint8,
            shape=(val["samples"],),
        )
        for q in qps
    }  # fmt: skip
    work = tempfile.mkdtemp(prefix="cnnfilter-dataset-")
    try:
        bar = tqdm(
            total=len(items), desc="baseline (deblocking+SAO on)", unit="src",
            disable=not progress,
        )  # fmt: skip
        for it, frames, coded_by_qp in _code_all(items, qps, coder, Path(work), jobs, True):
            bar.update(1)
            entries = [by_key[(it.name, fi)] for fi in it.frames]
            for q, coded in zip(qps, coded_by_qp, strict=True):
                for (y, _, _), c, e in zip(frames, coded, entries, strict=True):
                    want = (e.get("slice_type", "I"), e["qp"][str(q)]["slice_qp"])
                    if c.rec.shape != y.shape or (c.slice_type, c.qp) != want:
                        raise UserError(f"{it.name}: unexpected baseline picture")
                    arrays[q][e["offset"] : e["offset"] + y.size] = c.rec.ravel()
                    e["qp"][str(q)]["psnr_lf"] = round(psnr(c.rec, y), 4)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    for q, a in arrays.items():
        a.flush()
        del a
        os.replace(root / "val" / f"rec_lf_qp{q}.npy.tmp", root / "val" / f"rec_lf_qp{q}.npy")
    val["rec_lf"] = {str(q): f"val/rec_lf_qp{q}.npy" for q in qps}
    m["baseline"] = "val/rec_lf_*: the same codec and QP with deblocking and SAO on"
    path.write_text(json.dumps(m, indent=1) + "\n")
    return path


# ----------------------------------------------------------------------------- reading


@dataclass
class Frame:
    source: str
    width: int
    height: int
    offset: int
    slice_type: str
    qp_info: dict[str, Any]


class SplitData:
    """One split of a dataset: memory-mapped original and per-QP reconstructed luma (and, in a
    ``--side`` dataset, the per-QP side planes)."""

    def __init__(self, root: Path, name: str, desc: dict[str, Any]) -> None:
        self.name = name
        self.orig = np.load(root / desc["orig"], mmap_mode="r")
        self.rec = {int(q): np.load(root / p, mmap_mode="r") for q, p in desc["rec"].items()}
        # the same pictures with deblocking + SAO on (validation split only, if built)
        self.rec_lf = {
            int(q): np.load(root / p, mmap_mode="r") for q, p in desc.get("rec_lf", {}).items()
        }
        self.side = {
            n: {int(q): np.load(root / p, mmap_mode="r") for q, p in per_qp.items()}
            for n, per_qp in desc.get("side", {}).items()
        }
        self.frames = [
            Frame(
                f["source"],
                f["width"],
                f["height"],
                f["offset"],
                f.get("slice_type", "I"),
                f.get("qp", {}),
            )
            for f in desc["frames"]
        ]
        sides = [a for per_qp in self.side.values() for a in per_qp.values()]
        for arr in [self.orig, *self.rec.values(), *self.rec_lf.values(), *sides]:
            if arr.shape != (desc["samples"],) or arr.dtype != np.uint8:
                raise UserError(f"{root}: {name} arrays do not match the manifest")

    def pair(self, i: int, qp: int) -> tuple[np.ndarray, np.ndarray]:
        """(reconstruction, original) luma of frame i at QP qp, as (h, w) uint8 views."""
        f = self.frames[i]
        if qp not in self.rec:
            raise UserError(f"QP {qp} is not in this dataset (it has {sorted(self.rec)})")
        sl = slice(f.offset, f.offset + f.width * f.height)
        return (
            self.rec[qp][sl].reshape(f.height, f.width),
            self.orig[sl].reshape(f.height, f.width),
        )

    def side_planes(self, i: int, qp: int, names: list[str]) -> dict[str, np.ndarray]:
        """The side planes ``names`` of frame i at QP qp, as (h, w) uint8 views."""
        f = self.frames[i]
        missing = [n for n in names if qp not in self.side.get(n, {})]
        if missing:
            raise UserError(
                f"the dataset has no side plane {', '.join(missing)} at QP {qp} "
                f"(build it with 'cnnfilter dataset build --side')"
            )
        sl = slice(f.offset, f.offset + f.width * f.height)
        return {n: self.side[n][qp][sl].reshape(f.height, f.width) for n in names}


class PairDataset:
    """A dataset written by ``build_dataset``."""

    def __init__(self, root: str | Path) -> None:
        self.root = Path(root)
        path = self.root / "dataset.json"
        if not path.is_file():
            raise FileNotFoundError(f"{self.root}: no dataset.json (run 'cnnfilter dataset build')")
        self.manifest = json.loads(path.read_text())
        if self.manifest.get("format") != DATASET_FORMAT:
            raise UserError(f"{path}: not a {DATASET_FORMAT} manifest")
        self.qps = [int(q) for q in self.manifest["qps"]]
        self.splits = {
            n: SplitData(self.root, n, d) for n, d in self.manifest.get("splits", {}).items()
        }

    def split(self, name: str) -> SplitData:
        if name not in self.splits:
            raise UserError(f"{self.root}: the dataset has no '{name}' split")
        return self.splits[name]

    def summary(self) -> dict[str, Any]:
        m = self.manifest
        digest = hashlib.sha256((self.root / "dataset.json").read_bytes()).hexdigest()[:16]
        return {
            "codec": m.get("codec"),
            "codec_version": m.get("version"),
            # the encoder settings the data was made with
            "codec_settings": {
                k: m[k]
                for k in ("overrides", "references", "args", "cfg", "source_commit")
                if k in m
            },
            "configuration": m.get("configuration"),
            "qps": self.qps,
            "split_rule": m.get("split_rule"),
            "train_frames": len(self.splits["train"].frames) if "train" in self.splits else 0,
            "val_frames": len(self.splits["val"].frames) if "val" in self.splits else 0,
            "manifest_sha256_16": digest,
            "content_sha256_16": self.content_digest(),
        }

    def content_digest(self) -> str:
        """A digest of what the dataset holds (each frame's source, size and per-QP PSNR), not of
        where it was built: a deterministic rebuild elsewhere has the same digest, a rebuild by
        a changed encoder almost surely not."""
        h = hashlib.sha256()
        for name in sorted(self.splits):
            for f in self.splits[name].frames:
                qps = {q: round(float(v.get("psnr", 0.0)), 4) for q, v in sorted(f.qp_info.items())}
                h.update(json.dumps([name, f.source, f.width, f.height, qps]).encode())
        return h.hexdigest()[:16]


class PatchSampler:
    """Random (reconstruction, original, QP) patches from one split, at offsets that are
    multiples of 8, with the 8 flips/transposes as augmentation; frames are drawn in proportion
    to their area. With ``side`` names, each batch's side planes, cropped and transformed with
    their patches, are left in ``self.side_batch`` (n, len(side), p, p) uint8."""

    def __init__(
        self,
        data: SplitData,
        qps: list[int],
        patch: int,
        seed: int,
        augment: bool = True,
        slice_types: list[str] | None = None,
        side: list[str] | None = None,
    ) -> None:
        ok = [
            i
            for i, f in enumerate(data.frames)
            if f.width >= patch and f.height >= patch
            and (slice_types is None or f.slice_type in slice_types)
        ]  # fmt: skip
        if not ok:
            types = f" of slice type {'/'.join(slice_types)}" if slice_types else ""
            raise UserError(f"no {data.name} frame{types} is at least {patch}x{patch}")
        self.nominal = np.zeros(0, np.int64)  # the dataset QPs of the last batch
        self.side = list(side or [])
        self.side_batch = np.zeros((0, len(self.side), patch, patch), np.uint8)
        if self.side:
            data.side_planes(ok[0], int(qps[0]), self.side)  # a clear error now if absent
        self.data, self.qps, self.patch, self.augment = data, list(qps), patch, augment
        self.idx = np.array(ok)
        area = np.array([data.frames[i].width * data.frames[i].height for i in ok], np.float64)
        self.p = area / area.sum()
        self.rng = np.random.default_rng(seed)

    def sample(self, n: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """uint8 rec (n, p, p), uint8 orig (n, p, p), int slice QP (n,): what the network is
        conditioned on (in P/B pictures the GOP's QP offset is added to the dataset QP, which
        ``self.nominal`` keeps)."""
        p = self.patch
        rec = np.empty((n, p, p), np.uint8)
        org = np.empty((n, p, p), np.uint8)
        side = np.empty((n, len(self.side), p, p), np.uint8)
        qp = self.rng.choice(self.qps, size=n)
        frames = self.rng.choice(self.idx, size=n, p=self.p)
        for k in range(n):
            f = self.data.frames[frames[k]]
            # offsets on the 8x8 grid: nets that stride or pool see the coding-block grid at
            # the phase whole-frame inference shows them (flips keep it when p % 8 == 0)
            y0 = 8 * int(self.rng.integers(0, (f.height - p) // 8 + 1))
            x0 = 8 * int(self.rng.integers(0, (f.width - p) // 8 + 1))
            r, o = self.data.pair(int(frames[k]), int(qp[k]))
            a, b = r[y0 : y0 + p, x0 : x0 + p], o[y0 : y0 + p, x0 : x0 + p]
            planes = self.data.side_planes(int(frames[k]), int(qp[k]), self.side)
            s = [planes[nm][y0 : y0 + p, x0 : x0 + p] for nm in self.side]
            if self.augment:
                t = int(self.rng.integers(0, 8))
                a, b = _dihedral(a, t), _dihedral(b, t)
                s = [_dihedral(v, t) for v in s]
            rec[k], org[k] = a, b
            for j, v in enumerate(s):
                side[k, j] = v
        self.nominal = qp
        self.side_batch = side
        sqp = [slice_qp(self.data, int(i), int(q)) for i, q in zip(frames, qp, strict=True)]
        return rec, org, np.array(sqp, dtype=qp.dtype)


def _dihedral(a: np.ndarray, t: int) -> np.ndarray:
    if t & 4:
        a = a.T
    if t & 2:
        a = a[::-1]
    if t & 1:
        a = a[:, ::-1]
    return a


def lf_plane(data: SplitData, i: int, qp: int, crop: int = 0) -> np.ndarray | None:
    """The deblocking+SAO reconstruction of frame i (cropped as ``iter_val_pairs``), if built."""
    if qp not in data.rec_lf:
        return None
    f = data.frames[i]
    a = np.asarray(data.rec_lf[qp][f.offset : f.offset + f.width * f.height])
    a = a.reshape(f.height, f.width)
    if crop:
        ch, cw = min(crop, f.height), min(crop, f.width)
        y0, x0 = (f.height - ch) // 2 // 8 * 8, (f.width - cw) // 2 // 8 * 8
        a = a[y0 : y0 + ch, x0 : x0 + cw]
    return a


def slice_qp(data: SplitData, i: int, qp: int) -> int:
    """The slice QP of frame i coded at dataset QP ``qp`` (the same in All-Intra)."""
    return int(data.frames[i].qp_info.get(str(qp), {}).get("slice_qp", qp))


def val_frames(data: SplitData, limit: int | None, slice_types: list[str] | None) -> list[int]:
    """The validation frames: all (of ``slice_types``), or ``limit`` evenly spaced ones."""
    keep = [i for i, f in enumerate(data.frames) if not slice_types or f.slice_type in slice_types]
    return [keep[k] for k in val_indices(len(keep), limit)]


def val_indices(n: int, limit: int | None) -> list[int]:
    if limit is None or limit >= n:
        return list(range(n))
    return sorted({int(round(v)) for v in np.linspace(0, n - 1, max(limit, 1))})


def iter_val_pairs(
    data: SplitData,
    qp: int,
    limit: int | None = None,
    crop: int = 0,
    slice_types: list[str] | None = None,
) -> Iterator[tuple[np.ndarray, np.ndarray, np.ndarray | None]]:
    """Validation (rec, orig, rec with deblocking+SAO or None) triples of ``val_frames``,
    optionally a centred crop of at most crop x crop (aligned to the 8x8 grid)."""
    for i in val_frames(data, limit, slice_types):
        r, o = data.pair(i, qp)
        if crop:
            h, w = r.shape
            ch, cw = min(crop, h), min(crop, w)
            y0, x0 = (h - ch) // 2 // 8 * 8, (w - cw) // 2 // 8 * 8
            r, o = r[y0 : y0 + ch, x0 : x0 + cw], o[y0 : y0 + ch, x0 : x0 + cw]
        yield np.asarray(r), np.asarray(o), lf_plane(data, i, qp, crop)


def iter_val_side(
    data: SplitData,
    qp: int,
    names: list[str],
    limit: int | None = None,
    crop: int = 0,
    slice_types: list[str] | None = None,
) -> Iterator[dict[str, np.ndarray]]:
    """The side planes ``names`` of the pictures ``iter_val_pairs`` yields, in its order and
    with its crop."""
    for i in val_frames(data, limit, slice_types):
        planes = data.side_planes(i, qp, names)
        if crop:
            h, w = data.frames[i].height, data.frames[i].width
            ch, cw = min(crop, h), min(crop, w)
            y0, x0 = (h - ch) // 2 // 8 * 8, (w - cw) // 2 // 8 * 8
            planes = {n: v[y0 : y0 + ch, x0 : x0 + cw] for n, v in planes.items()}
        yield {n: np.asarray(v) for n, v in planes.items()}
