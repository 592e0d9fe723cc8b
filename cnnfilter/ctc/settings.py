"""Named codec settings: what "anchor", "x265" or "cnn:SET" mean to the CTC runner.

A setting turns one job (configuration, sequence, QP, frame count) into a bitstream. The runner
then decodes it with cnnfilter's decoder (MD5 check, decode time), optionally post-processes
the decoded pictures, and measures PSNR against the source. A setting is made by a small
factory registered under a name; ``NAME:ARG`` passes ``ARG`` to the factory::

    @register("mycodec", "one line of help")
    def _mycodec(arg: str | None) -> Setting:
        return Setting(
            name=f"mycodec:{arg}" if arg else "mycodec",
            identity=lambda config: {"encoder": "mycodec", "arg": arg},
            encode=lambda job, bitstream: ...,  # -> EncodeOutput
        )

``identity(config)`` returns everything that determines the setting's results for that
configuration (encoder version, options, model hashes). It is hashed into every job's settings
hash, so changing it reruns exactly the jobs of that setting.
"""

from __future__ import annotations

import functools
import hashlib
import os
import re
import resource
import shutil
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from ..errors import ToolError, UserError

if TYPE_CHECKING:
    from .jobs import Job

Planes = tuple[np.ndarray, np.ndarray, np.ndarray]


class SettingError(UserError):
    """A setting that cannot be used (unknown name, missing encoder, missing feature)."""


@dataclass(frozen=True)
class EncodeOutput:
    seconds: float  # wall clock
    cpu_seconds: float  # CPU time of the encoder (HM reports CPU time)
    versions: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Setting:
    name: str
    identity: Callable[[str], dict[str, Any]]
    encode: Callable[[Job, Path], EncodeOutput]
    # Raises SettingError if the setting cannot run this configuration; called for every
    # (setting, configuration) pair before any job starts.
    check: Callable[[str], None] = lambda config: None
    # A model set applied by the decoder to the output pictures ("post:SET"); its time counts
    # as decoding.
    post_model: str | None = None
    # Where the decoder finds the model set an in-loop CNN stream names (None: shipped sets).
    models_dir: str | None = None


@dataclass(frozen=True)
class _Factory:
    make: Callable[[str | None], Setting]
    help: str
    takes_arg: str  # "no", "optional", "required"


_REGISTRY: dict[str, _Factory] = {}


def register(name: str, help: str, takes_arg: str = "no"):
    """Registers a setting factory under ``name`` (decorator)."""

    def deco(make: Callable[[str | None], Setting]) -> Callable[[str | None], Setting]:
        _REGISTRY[name] = _Factory(make, help, takes_arg)
        return make

    return deco


def available() -> dict[str, str]:
    """Registered setting names with their one-line help."""
    return {k: f.help for k, f in sorted(_REGISTRY.items())}


def absolute_setting(spec: str) -> str:
    """``spec`` with a model set given by a relative path made absolute (``cnn:sets/x`` ->
    ``cnn:/home/.../sets/x``): jobs run in workers whose working folder may be another."""
    name, _, arg = spec.partition(":")
    if name not in ("cnn", "post") or not arg:
        return spec
    path, sep, rest = arg.partition(":") if name == "cnn" else (arg, "", "")
    p = Path(path)
    if p.is_absolute() or not p.exists():  # a shipped set's name, or left for the check
        return spec
    return f"{name}:{p.resolve()}{sep}{rest}"


@functools.cache
def resolve(spec: str) -> Setting:
    """The setting named ``spec`` (``NAME`` or ``NAME:ARG``)."""
    name, _, arg = spec.partition(":")
    factory = _REGISTRY.get(name)
    if factory is None:
        raise SettingError(
            f"unknown codec setting {spec!r}; known: "
            + ", ".join(f"{k}{'' if f.takes_arg == 'no' else ':ARG'}" for k, f in _REGISTRY.items())
        )
    if factory.takes_arg == "no" and arg:
        raise SettingError(f"codec setting '{name}' takes no ':ARG' (got {spec!r})")
    if factory.takes_arg == "required" and not arg:
        raise SettingError(f"codec setting '{name}' needs an argument: '{name}:ARG'")
    return factory.make(arg or None)


# --------------------------------------------------------------------------------------------
# x265: a real peer encoder, decoded by cnnfilter's decoder.

_X265_BASE = [
    "--preset", "veryslow", "--tune", "psnr",
    # One thread, deterministic output, no x265 version SEI (streams comparable across builds).
    "--pools", "none", "--frame-threads", "1", "--no-wpp", "--lookahead-slices", "0",
    "--no-info", "--hash", "1",
]  # fmt: skip


def _x265_config_args(config: str, intra_period: int | str) -> list[str]:
    if config == "AI":
        return ["--keyint", "1"]
    if config == "LDP":
        return ["--bframes", "0", "--keyint", "-1", "--no-scenecut"]
    if config == "RA":
        p = str(intra_period)
        return ["--keyint", p, "--min-keyint", p, "--no-scenecut"]
    raise SettingError(f"x265: unknown configuration {config!r}")


def x265_binary() -> str:
    exe = os.environ.get("CNNFILTER_X265") or shutil.which("x265")
    if not exe:
        raise SettingError(
            "the 'x265' setting needs the x265 command line encoder "
            "(apt-get install x265, or set CNNFILTER_X265)"
        )
    return exe


@functools.cache
def x265_version(exe: str) -> str:
    r = subprocess.run([exe, "--version"], capture_output=True, text=True, timeout=60)
    m = re.search(r"version\s+(\S+)", r.stderr + r.stdout)
    if r.returncode != 0 or not m:
        raise SettingError(f"cannot run '{exe} --version': {(r.stderr or r.stdout).strip()}")
    return m.group(1)


_PDEATHSIG = None


def _die_with_parent() -> None:
    """preexec_fn: on Linux the child gets SIGKILL when the process that started it dies."""
    if _PDEATHSIG is not None:
        _PDEATHSIG(1, 9)  # prctl(PR_SET_PDEATHSIG, SIGKILL)


def _init_pdeathsig() -> None:
    global _PDEATHSIG
    if sys.platform.startswith("linux") and _PDEATHSIG is None:
        import ctypes

        _PDEATHSIG = ctypes.CDLL(None, use_errno=True).prctl


def run_tool(cmd: list[str], what: str) -> tuple[float, float]:
    """Runs an external encoder; returns (wall, CPU) seconds; a failure raises one clear line."""
    _init_pdeathsig()
    ru0 = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    r = subprocess.run(
        cmd, capture_output=True, text=True, preexec_fn=_die_with_parent, stdin=subprocess.DEVNULL
    )
    wall = time.perf_counter() - t0
    ru1 = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (ru1.ru_utime - ru0.ru_utime) + (ru1.ru_stime - ru0.ru_stime)
    if r.returncode != 0:
        tail = " | ".join((r.stderr or r.stdout).strip().splitlines()[-3:])
        raise ToolError(f"{what} failed (exit {r.returncode}): {tail}")
    return wall, cpu


_X265_OPT = re.compile(r"^[a-z0-9][a-z0-9-]*(=[^,\s]+)?$")


@register(
    "x265",
    "x265 --preset veryslow --tune psnr (--qp QP, AI --keyint 1, LDP no B, RA fixed GOP); "
    "x265:OPT[,OPT=V...] adds x265 long options, e.g. x265:no-sao,no-deblock",
    takes_arg="optional",
)
def _x265(arg: str | None) -> Setting:
    extra: list[str] = []
    for tok in (arg or "").split(",") if arg else []:
        if not _X265_OPT.match(tok):
            raise SettingError(f"x265: bad option {tok!r} (use e.g. x265:no-sao,preset=slow)")
        key, _, val = tok.partition("=")
        extra += [f"--{key}", val] if val else [f"--{key}"]

    def check(config: str) -> None:
        _x265_config_args(config, 32)
        x265_version(x265_binary())

    def identity(config: str) -> dict[str, Any]:
        exe = x265_binary()
        return {
            "encoder": "x265",
            "version": x265_version(exe),
            "args": _X265_BASE + extra,
            # The RA intra period is per sequence and enters the job hash with the sequence.
            "config_args": _x265_config_args(config, "INTRA_PERIOD"),
        }

    def encode(job: Job, bitstream: Path) -> EncodeOutput:
        exe = x265_binary()
        seq = job.sequence
        cmd = [
            exe, "--input", seq.path, "--input-res", f"{seq.width}x{seq.height}",
            "--input-depth", "8", "--input-csp", "i420", "--fps", f"{seq.fps:g}",
            "--frames", str(job.frames), "--seek", str(seq.frame_skip),
            "--qp", str(job.qp), *_X265_BASE,
            *_x265_config_args(job.config, seq.ra_intra_period()), *extra,
            "-o", str(bitstream),
        ]  # fmt: skip
        wall, cpu = run_tool(cmd, "x265")
        return EncodeOutput(wall, cpu, {"x265": x265_version(exe)})

    return Setting(
        name=f"x265:{arg}" if arg else "x265", identity=identity, encode=encode, check=check
    )


# --------------------------------------------------------------------------------------------
# cnnfilter's own encoder (issues 3 and 5).

CFG_FILES = {
    "AI": "encoder_intra_main.cfg",
    "LDP": "encoder_lowdelay_P_main.cfg",
    "RA": "encoder_randomaccess_main.cfg",
}

_LF_OFF = {"SAO": 0, "LoopFilterDisable": 1}
# The runner verifies every stream's MD5; HM-16.9's cfg default is SEIDecodedPictureHash 0.
_MD5_SEI = {"SEIDecodedPictureHash": 1}


def cfg_file(config: str) -> Path:
    name = CFG_FILES[config]
    here = Path(__file__).resolve().parent.parent
    for cand in (here / "cfg" / name, here.parent / "cfg" / name):
        if cand.is_file():
            return cand
    raise SettingError(
        f"the HM-style configuration file {name} was not found in cnnfilter/cfg/ or ./cfg/"
    )


def _file_digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()[:16]


@functools.cache
def _model_set(spec: str):
    from ..modelset import load_model_set

    try:
        return load_model_set(spec)
    except (FileNotFoundError, ValueError) as e:
        raise SettingError(f"model set '{spec}': {e}") from e


def _model_identity(spec: str) -> dict[str, Any]:
    """Everything about a model set that decides its output: retraining or re-exporting a model
    changes the identity and reruns exactly the jobs that use it."""
    ms = _model_set(spec)
    return {"model_set": ms.name, "identity": ms.identity.hex(), "inference": ms.inference_mode}


def _models_dir(spec: str) -> str | None:
    """The directory holding a model set given by path (the decoder searches there)."""
    p = Path(spec)
    return str(p.resolve().parent) if p.exists() else None


def _ours(
    name: str,
    overrides: dict[str, int],
    cnn: str | None,
    cnn_mode: str,
    post_model: str | None = None,
) -> Setting:
    import cnnfilter

    def check(config: str) -> None:
        cfg_file(config)
        for spec in (cnn, post_model):
            if spec:
                _model_set(spec)

    def identity(config: str) -> dict[str, Any]:
        ident: dict[str, Any] = {
            "encoder": "cnnfilter",
            "version": cnnfilter.__version__,
            "cfg": CFG_FILES[config],
            "overrides": {**_MD5_SEI, **overrides},
            "cnn_mode": cnn_mode,
        }
        try:
            ident["cfg_sha256"] = _file_digest(cfg_file(config))
        except SettingError:
            pass  # check() refuses to run without it
        if cnn:
            ident.update(_model_identity(cnn))
        if post_model:
            ident["post"] = _model_identity(post_model)
        return ident

    def encode(job: Job, bitstream: Path) -> EncodeOutput:
        seq = job.sequence
        ov = {**_MD5_SEI, **overrides}
        if job.config == "RA":
            ov["IntraPeriod"] = seq.ra_intra_period()
        c0 = time.process_time()
        t0 = time.perf_counter()
        cnn_args = {"cnn": _model_set(cnn), "cnn_mode": cnn_mode} if cnn else {}
        cnnfilter.encode(
            seq.path,
            str(bitstream),
            cfg=str(cfg_file(job.config)),
            width=seq.width,
            height=seq.height,
            fps=seq.fps,
            frames=job.frames,
            frame_skip=seq.frame_skip,
            qp=job.qp,
            overrides=ov,
            **cnn_args,
        )
        wall = time.perf_counter() - t0
        versions = {"cnnfilter": cnnfilter.__version__}
        if cnn:
            versions["model_set"] = _model_identity(cnn)["identity"]
        return EncodeOutput(wall, time.process_time() - c0, versions)

    return Setting(
        name=name,
        identity=identity,
        encode=encode,
        check=check,
        post_model=post_model,
        models_dir=_models_dir(cnn) if cnn else None,
    )


@register("anchor", "cnnfilter's encoder, HM-style, deblocking + SAO on (the CTC anchor)")
def _anchor(arg: str | None) -> Setting:
    return _ours("anchor", {}, None, "off")


@register("nolf", "cnnfilter's encoder with deblocking and SAO off")
def _nolf(arg: str | None) -> Setting:
    return _ours("nolf", dict(_LF_OFF), None, "off")


CNN_MODES = ("ctu", "picture", "all")


@register(
    "cnn",
    "cnnfilter's encoder with the in-loop CNN of model set SET: cnn:SET[:MODE], "
    "MODE = ctu (per-CTU RD switch, default), picture or all",
    takes_arg="required",
)
def _cnn(arg: str | None) -> Setting:
    model_set, _, mode = (arg or "").partition(":")
    mode = mode or "ctu"
    if not model_set or mode not in CNN_MODES:
        raise SettingError(f"cnn:{arg}: use cnn:SET or cnn:SET:MODE, MODE in {CNN_MODES}")
    return _ours(f"cnn:{arg}", {}, model_set, mode)


@register(
    "post",
    "the anchor's bitstream, decoded and then filtered by model set SET as a post-filter",
    takes_arg="required",
)
def _post(arg: str | None) -> Setting:
    return _ours(f"post:{arg}", {}, None, "off", post_model=arg)
