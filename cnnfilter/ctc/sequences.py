"""Sequence lists: YAML files with a top-level ``sequences:`` list of raw I420 clips.

Each entry has ``name``, ``path``, ``width``, ``height``, ``fps``, ``frames`` and ``class``, and
optionally ``intra_period`` (used by RA), ``frame_skip`` (frames to skip at the start of the
file) and ``configs`` (the CTC configurations the sequence takes part in, e.g. ``[AI, RA]`` for
class A, which the HEVC CTC leave out of low delay; default: all). Relative paths are resolved
against the directory of the YAML file. Lists shipped inside the package
(``cnnfilter/ctc/sequences/``, e.g. ``jctvc_template``) and lists in ``./sequences/`` of the
current directory (the repository's ``shared_video``) can be named without a path.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from pathlib import Path

import yaml

from ..errors import UserError
from ..yuv import frame_size

SHIPPED_DIR = Path(__file__).resolve().parent / "sequences"

REQUIRED = ("name", "path", "width", "height", "fps", "frames", "class")
OPTIONAL = ("intra_period", "frame_skip", "configs")
CONFIGS = ("AI", "LDP", "RA")


class SequenceListError(UserError):
    """A sequence list that cannot be used; the message names the file and the entry."""


@dataclass(frozen=True)
class Sequence:
    """One raw 8-bit I420 clip of a CTC sequence list."""

    name: str
    path: str  # absolute path
    width: int
    height: int
    fps: float
    frames: int
    cls: str
    intra_period: int | None = None
    frame_skip: int = 0
    configs: tuple[str, ...] = CONFIGS

    def coded_frames(self, cap: int | None = None) -> int:
        """Frames coded per job: the list's count, or at most ``cap`` (``--frames``)."""
        return min(self.frames, cap) if cap else self.frames

    def ra_intra_period(self) -> int:
        """The RA intra period: the given one, else about one second in multiples of 8 (GOP)."""
        if self.intra_period:
            return self.intra_period
        return max(8, int(round(self.fps / 8.0)) * 8)

    def to_dict(self) -> dict:
        return asdict(self)

    @staticmethod
    def from_dict(d: dict) -> Sequence:
        return Sequence(**{**d, "configs": tuple(d.get("configs", CONFIGS))})


def shipped_lists() -> dict[str, Path]:
    """Names of the lists that can be given without a path: the package's, then ./sequences/."""
    found = {p.stem: p for p in sorted((Path.cwd() / "sequences").glob("*.yaml"))}
    found.update({p.stem: p for p in sorted(SHIPPED_DIR.glob("*.yaml"))})
    return found


def resolve_list(spec: str | Path) -> Path:
    """A path to a YAML list, or the name of a shipped list (see :func:`shipped_lists`)."""
    p = Path(spec)
    if p.suffix.lower() in (".yaml", ".yml") or p.exists() or "/" in str(spec):
        if not p.is_file():
            raise SequenceListError(f"sequence list not found: {p}")
        return p
    lists = shipped_lists()
    if str(spec) in lists:
        return lists[str(spec)]
    raise SequenceListError(
        f"sequence list {spec!r} is neither a file nor a shipped list "
        f"(shipped: {', '.join(lists) or 'none'})"
    )


def _int(entry: dict, key: str, where: str, minimum: int) -> int:
    v = entry[key]
    if isinstance(v, bool) or not isinstance(v, int) or v < minimum:
        raise SequenceListError(f"{where}: '{key}' must be an integer >= {minimum}, got {v!r}")
    return v


def load_sequences(spec: str | Path, check_files: bool = True) -> list[Sequence]:
    """Reads and validates a sequence list.

    With ``check_files`` every clip must exist and hold at least ``frame_skip + frames`` frames;
    all problems are collected and reported together, before any job starts.
    """
    path = resolve_list(spec)
    try:
        doc = yaml.safe_load(path.read_text())
    except yaml.YAMLError as e:
        raise SequenceListError(f"{path}: not valid YAML: {e}") from None
    if not isinstance(doc, dict) or not isinstance(doc.get("sequences"), list):
        raise SequenceListError(f"{path}: expected a top-level 'sequences:' list")
    if not doc["sequences"]:
        raise SequenceListError(f"{path}: the 'sequences:' list is empty")
    base = path.resolve().parent
    out: list[Sequence] = []
    names: set[str] = set()
    for i, entry in enumerate(doc["sequences"]):
        where = f"{path}: sequences[{i}]"
        if not isinstance(entry, dict):
            raise SequenceListError(f"{where}: expected a mapping with keys {', '.join(REQUIRED)}")
        if isinstance(entry.get("name"), str):
            where = f"{path}: sequence '{entry['name']}'"
        missing = [k for k in REQUIRED if k not in entry]
        if missing:
            raise SequenceListError(f"{where}: missing key(s) {', '.join(missing)}")
        unknown = sorted(set(entry) - set(REQUIRED) - set(OPTIONAL))
        if unknown:
            raise SequenceListError(f"{where}: unknown key(s) {', '.join(unknown)}")
        name = entry["name"]
        if not isinstance(name, str) or not name or any(c in name for c in "/\\ \t"):
            raise SequenceListError(f"{where}: 'name' must be a non-empty word, got {name!r}")
        if name in names:
            raise SequenceListError(f"{where}: the name '{name}' appears twice")
        names.add(name)
        width = _int(entry, "width", where, 8)
        height = _int(entry, "height", where, 8)
        if width % 2 or height % 2:
            raise SequenceListError(f"{where}: 4:2:0 needs an even width and height")
        frames = _int(entry, "frames", where, 1)
        fps = entry["fps"]
        if isinstance(fps, bool) or not isinstance(fps, (int, float)) or not fps > 0:
            raise SequenceListError(f"{where}: 'fps' must be a positive number, got {fps!r}")
        if not math.isfinite(float(fps)):
            raise SequenceListError(f"{where}: 'fps' must be finite")
        cls = entry["class"]
        if not isinstance(cls, (str, int)) or str(cls) == "":
            raise SequenceListError(f"{where}: 'class' must be a non-empty string")
        intra_period = None
        if entry.get("intra_period") is not None:
            intra_period = _int(entry, "intra_period", where, 1)
        skip = _int(entry, "frame_skip", where, 0) if "frame_skip" in entry else 0
        configs = CONFIGS
        if "configs" in entry:
            c = entry["configs"]
            if not isinstance(c, list) or not c or any(x not in CONFIGS for x in c):
                raise SequenceListError(
                    f"{where}: 'configs' must be a non-empty list of {', '.join(CONFIGS)}"
                )
            configs = tuple(x for x in CONFIGS if x in c)
        if not isinstance(entry["path"], str) or not entry["path"]:
            raise SequenceListError(f"{where}: 'path' must be a non-empty string")
        clip = Path(entry["path"])
        clip = (clip if clip.is_absolute() else base / clip).resolve()
        if clip.suffix.lower() != ".yuv":
            raise SequenceListError(f"{where}: only raw 8-bit I420 '.yuv' clips are supported")
        out.append(
            Sequence(
                name=name,
                path=str(clip),
                width=width,
                height=height,
                fps=float(fps),
                frames=frames,
                cls=str(cls),
                intra_period=intra_period,
                frame_skip=skip,
                configs=configs,
            )
        )
    if check_files:
        check_sequence_files(out, source=str(path))
    return out


def available_frames(seq: Sequence) -> int:
    return Path(seq.path).stat().st_size // frame_size(seq.width, seq.height)


def check_sequence_files(
    seqs: list[Sequence], source: str = "sequence list", cap: int | None = None
) -> None:
    """Raises one error naming every clip that is missing or too short for its frame count."""
    problems = []
    for s in seqs:
        p = Path(s.path)
        if not p.is_file():
            problems.append(f"'{s.name}': file not found: {p}")
            continue
        need = s.frame_skip + s.coded_frames(cap)
        have = available_frames(s)
        if have < need:
            problems.append(
                f"'{s.name}': {p.name} holds {have} frame(s) of {s.width}x{s.height}, {need} needed"
            )
    if problems:
        n = len(problems)
        raise SequenceListError(
            f"{source}: {n} sequence(s) unusable: "
            + "; ".join(problems[:8])
            + (f"; ... and {n - 8} more" if n > 8 else "")
        )
