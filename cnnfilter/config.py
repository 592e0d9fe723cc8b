"""HM-style encoder configuration: ``Key : value`` cfg files and ``--Key=value`` overrides.

Every key the HM-16.9 CTC configuration files use is known here. Keys that only matter for tools
this encoder does not implement are accepted when they hold the CTC value and refused with a
clear message otherwise; unknown keys and out-of-range values are errors, never ignored.
"""

from __future__ import annotations

import difflib
import math
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .errors import UserError
from .gop import FRAME_KEY, GopEntry, GopError, check_gop, check_references, parse_entry


class ConfigError(UserError):
    """A configuration problem, reported to the user as one line."""


@dataclass(frozen=True)
class Key:
    name: str
    kind: type  # int, float, str or bool (written 0/1)
    default: Any
    field: str | None = None  # encoder setting the key maps to (None: handled in Python)
    lo: float | None = None
    hi: float | None = None
    only: tuple | None = None  # the values this encoder supports
    why: str = ""  # why other values are refused


_NO_WP = "explicit weighted prediction is not encoded"


def _keys() -> list[Key]:
    K = Key
    return [
        # File I/O and source.
        K("InputFile", str, None),
        K("BitstreamFile", str, None),
        K("ReconFile", str, None),
        K("SourceWidth", int, 0, "width", 0, 16888),
        K("SourceHeight", int, 0, "height", 0, 16888),
        K("FrameRate", float, 25.0, "frame_rate", 0.001, 1000),
        K("FrameSkip", int, 0, None, 0, 1 << 31),
        K("FramesToBeEncoded", int, 0, None, 0, 1 << 31),
        K("InputBitDepth", int, 8, None, only=(8,), why="only 8-bit input is supported (Main)"),
        K("InternalBitDepth", int, 8, None, only=(8,), why="Main profile is 8-bit"),
        K("OutputBitDepth", int, 0, None, only=(0, 8), why="the reconstruction is 8-bit"),
        K("InputChromaFormat", int, 420, None, only=(420,), why="Main profile is 4:2:0"),
        K("Profile", str, "main", None, only=("main", "main-still-picture"), why="Main only"),
        K("Level", str, "none", None),
        K("Tier", str, "main", None),
        # Coding units and transform units.
        K("MaxCUWidth", int, 64, "max_cu_size", only=(16, 32, 64), why="CTU sizes are 16, 32, 64"),
        K("MaxCUHeight", int, 64, None, only=(16, 32, 64), why="CTU sizes are 16, 32, 64"),
        K("MaxPartitionDepth", int, 4, "max_partition_depth", 1, 4),
        K("QuadtreeTULog2MaxSize", int, 5, "tu_log2_max", 2, 5),
        K("QuadtreeTULog2MinSize", int, 2, "tu_log2_min", 2, 5),
        K("QuadtreeTUMaxDepthInter", int, 3, "tu_max_depth_inter", 1, 5),
        K("QuadtreeTUMaxDepthIntra", int, 3, "tu_max_depth_intra", 1, 5),
        # Coding structure.
        K("IntraPeriod", int, 1, "intra_period", -1, 1 << 20),
        K("DecodingRefreshType", int, 0, "decoding_refresh_type", only=(0, 1, 2)),
        K("GOPSize", int, 1, None, 1, 64),
        K("ReWriteParamSetsFlag", bool, True, None),
        # Motion search and inter decisions.
        K(
            "FastSearch",
            int,
            1,
            "fast_search",
            only=(0, 1),
            why="0 (full search) and 1 (TZ search) are implemented, not HM's 2 and 3",
        ),
        K("SearchRange", int, 64, "search_range", 0, 1024),
        K("BipredSearchRange", int, 4, "bipred_search_range", 0, 1024),
        K("HadamardME", bool, True, "hadamard_me"),
        K("FEN", bool, True, "fast_encoder"),
        K("FDM", bool, True, "fast_decision_merge"),
        K("ECU", bool, False, "early_cu"),
        K("ESD", bool, False, "early_skip"),
        K("CFM", bool, False, "cbf_fast_mode"),
        K("AMP", bool, True, "amp"),
        K(
            "TMVPMode",
            int,
            1,
            "tmvp",
            only=(0, 1),
            why="TMVP is on (1) or off (0); HM's 2 (off in each GOP's first picture) is not",
        ),
        K("MaxNumMergeCand", int, 5, "max_merge_cand", 1, 5),
        K("WeightedPredP", bool, False, None, only=(False,), why=_NO_WP),
        K("WeightedPredB", bool, False, None, only=(False,), why=_NO_WP),
        # Quantisation.
        K("QP", int, 32, "qp", 0, 51),
        K("MaxDeltaQP", int, 0, None, only=(0,), why="adaptive QP is not implemented"),
        K("MaxCuDQPDepth", int, 0, None, only=(0,), why="cu_qp_delta is not used by this encoder"),
        K("DeltaQpRD", int, 0, None, only=(0,), why="multi-QP RD is not implemented"),
        K("RDOQ", bool, True, "rdoq"),
        # HM's lambda modifier of temporal layer 0 (every All-Intra picture).
        K("LambdaModifier0", float, 1.0, "lambda_modifier", 0.1, 10),
        K("RDOQTS", bool, True, "rdoq_ts"),
        K("CbQpOffset", int, 0, "cb_qp_offset", -12, 12),
        K("CrQpOffset", int, 0, "cr_qp_offset", -12, 12),
        K("AdaptiveQP", bool, False, None, only=(False,), why="adaptive QP is not implemented"),
        # Deblocking.
        K("LoopFilterOffsetInPPS", bool, True, "loop_filter_offset_in_pps"),
        K("LoopFilterDisable", bool, False, "loop_filter_disable"),
        K("LoopFilterBetaOffset_div2", int, 0, "beta_offset_div2", -6, 6),
        K("LoopFilterTcOffset_div2", int, 0, "tc_offset_div2", -6, 6),
        K("DeblockingFilterMetric", bool, False, None, only=(False,), why="not implemented"),
        # Coding tools.
        K("SAO", bool, True, "sao"),
        K("SAOLcuBoundary", bool, False, None),
        K("TransformSkip", bool, True, "transform_skip"),
        K("TransformSkipFast", bool, True, "transform_skip_fast"),
        K("SignHideFlag", bool, True, "sign_hide"),
        K("StrongIntraSmoothing", bool, True, "strong_intra_smoothing"),
        # Slices, tiles, wavefronts.
        K(
            "SliceMode",
            int,
            0,
            "slice_mode",
            only=(0, 1),
            why="0 (one slice) and 1 (SliceArgument CTUs a slice) are implemented, not HM's 2 "
            "(bytes) and 3 (tiles)",
        ),
        K("SliceArgument", int, 1500, "slice_argument", 1, 1 << 20),
        K(
            "SliceSegmentMode",
            int,
            0,
            "slice_segment_mode",
            only=(0, 1),
            why="0 (none) and 1 (SliceSegmentArgument CTUs a dependent segment) are implemented",
        ),
        K("SliceSegmentArgument", int, 1500, "slice_segment_argument", 1, 1 << 20),
        K("LFCrossSliceBoundaryFlag", bool, True, "lf_across_slices"),
        K("TileUniformSpacing", bool, False, "tile_uniform"),
        K("NumTileColumnsMinus1", int, 0, "tile_columns_minus1", 0, 19),
        K("NumTileRowsMinus1", int, 0, "tile_rows_minus1", 0, 21),
        K("TileColumnWidthArray", str, "", None),  # CTUs per column but the last, e.g. "2 3"
        K("TileRowHeightArray", str, "", None),
        K("LFCrossTileBoundaryFlag", bool, True, "lf_across_tiles"),
        K("WaveFrontSynchro", bool, False, "wpp"),
        # PCM, lossless, scaling lists, rate control.
        K("PCMEnabledFlag", bool, False, "pcm"),
        K("PCMLog2MaxSize", int, 5, "pcm_log2_max", 3, 5),
        K("PCMLog2MinSize", int, 3, "pcm_log2_min", 3, 5),
        K("PCMInputBitDepthFlag", bool, True, None),  # 8 bits either way (Main)
        K("PCMFilterDisableFlag", bool, False, "pcm_filter_disable"),
        K(
            "TransquantBypassEnableFlag",
            bool,
            False,
            None,
            only=(False,),
            why="lossless CUs are not encoded",
        ),
        K(
            "CUTransquantBypassFlagForce",
            bool,
            False,
            None,
            only=(False,),
            why="lossless CUs are not encoded",
        ),
        K("ScalingList", int, 0, None, only=(0,), why="the encoder uses flat scaling"),
        K("ScalingListFile", str, "", None),
        K("RateControl", bool, False, None, only=(False,), why="rate control is not implemented"),
        K("TargetBitrate", int, 0, None, 0, 1 << 31),
        # SEI.
        K("SEIDecodedPictureHash", int, 1, "hash", 0, 3),
        # This encoder's own decision-effort keys (not HM keys; see docs/encoder.md).
        K("IntraRDCandidates4x4", int, 4, "rmd_candidates_4x4", 1, 35),
        K("IntraRDCandidates8x8", int, 3, "rmd_candidates_small", 1, 35),
        K("IntraRDCandidatesLarge", int, 3, "rmd_candidates_large", 1, 35),
        K("ChromaRDCandidates", int, 5, "chroma_rd_candidates", 1, 5),
        K("TransformSkipFinalOnly", bool, True, "transform_skip_final_only"),
        K("IntraTriedCULog2MaxSize", int, 5, "max_cu_log2_tried", 3, 6),
        K("IntraFastRMD", bool, True, "rmd_fast"),
        K("PrevTreeUp", int, -1, "prev_tree_up", -1, 3),
        K("PrevTreeDown", int, -1, "prev_tree_down", -1, 3),
        K("PrevTreeMaxDiff", int, -1, "prev_tree_max_diff", -1, 255),
        K("PrevTreeNxN", bool, False, "prev_tree_nxn"),
        K("PrevTreeRefresh", int, 0, "prev_tree_refresh", 0, 1 << 30),
        K("EarlySkipSplit", bool, False, "skip_split_if_no_residual"),
        K("EarlySkipTUSplit", bool, False, "skip_tu_split_if_no_residual"),
        K("EarlySkipNxN", bool, False, "skip_nxn_if_no_residual"),
        # Test option: with the in-loop CNN enabled, signal it off in every picture.
        K("CnnForceOff", bool, False, "cnn_force_off"),
        # Test option: code the residual quadtree's blocks again instead of reusing the winning
        # full-RD trial (the bitstream must be the same).
        K("ReuseTrials", bool, True, "reuse_trials"),
        # Test option: try every option in full instead of stopping where the search can tell
        # exactly that it cannot win (the bitstream must be the same).
        K("ExactShortcuts", bool, True, "exact_shortcuts"),
    ]


KEYS: dict[str, Key] = {k.name: k for k in _keys()}
_LOWER = {k.lower(): k for k in KEYS}


def canonical(name: str) -> str:
    if name in KEYS:
        return name
    if name.lower() in _LOWER:
        return _LOWER[name.lower()]
    close = difflib.get_close_matches(name, list(KEYS), n=1)
    hint = f" (did you mean {close[0]}?)" if close else ""
    raise ConfigError(f"unknown configuration key '{name}'{hint}")


def _convert(key: Key, raw: Any, origin: str) -> Any:
    text = str(raw).strip()
    try:
        if key.kind is bool:
            if text.lower() in ("1", "true", "yes", "on"):
                value: Any = True
            elif text.lower() in ("0", "false", "no", "off"):
                value = False
            else:
                raise ValueError
        elif key.kind is int:
            value = int(text, 0)
        elif key.kind is float:
            value = float(text)
            if not math.isfinite(value):
                raise ValueError
        else:
            value = text
    except ValueError:
        raise ConfigError(
            f"{origin}: {key.name} = '{text}' is not a valid {key.kind.__name__}"
        ) from None
    if key.lo is not None and value < key.lo or key.hi is not None and value > key.hi:
        raise ConfigError(f"{origin}: {key.name} = {text} is out of range [{key.lo:g}, {key.hi:g}]")
    if key.only is not None and value not in key.only:
        allowed = ", ".join(str(int(v) if isinstance(v, bool) else v) for v in key.only)
        why = f": {key.why}" if key.why else ""
        raise ConfigError(f"{origin}: {key.name} = {text} is not supported (use {allowed}){why}")
    return value


def shipped_cfg_dirs() -> list[Path]:
    """Where the shipped cfg files are: the source tree's cfg/, or the wheel's copy."""
    here = Path(__file__).resolve().parent
    return [d for d in (here.parent / "cfg", here / "cfg") if d.is_dir()]


def find_cfg(path: str | Path) -> Path:
    """A cfg file by path, or by the name of a shipped one (``encoder_intra_main.cfg``, also
    given as ``cfg/encoder_intra_main.cfg`` from any folder)."""
    p = Path(path)
    if p.is_file():
        return p
    if p.is_dir():
        raise ConfigError(f"{p}: is a folder, not a configuration file")
    for d in shipped_cfg_dirs():
        if (d / p.name).is_file() and (len(p.parts) == 1 or p.parent.name == "cfg"):
            return d / p.name
    shipped = sorted(f.name for d in shipped_cfg_dirs() for f in d.glob("*.cfg"))
    hint = f" (shipped: {', '.join(shipped)})" if shipped else ""
    raise ConfigError(f"configuration file not found: {p}{hint}")


def parse_cfg_file(path: str | Path, gop: dict[int, GopEntry] | None = None) -> dict[str, Any]:
    """Reads an HM cfg file into {canonical key: value}; its GOP table's FrameN lines go into
    ``gop`` (entry number -> GopEntry)."""
    gop = {} if gop is None else gop
    path = find_cfg(path)
    out: dict[str, Any] = {}
    try:
        text_lines = path.read_text().splitlines()
    except UnicodeDecodeError:
        raise ConfigError(f"{path}: not a text configuration file") from None
    for lineno, line in enumerate(text_lines, 1):
        text = line.split("#", 1)[0].strip()
        if not text:
            continue
        if ":" not in text:
            raise ConfigError(f"{path}:{lineno}: expected 'Key : value', got '{text}'")
        name, value = (s.strip() for s in text.split(":", 1))
        m = FRAME_KEY.match(name)
        if m:
            try:
                gop[int(m.group(1))] = parse_entry(value, f"{path}:{lineno}: {name}")
            except GopError as e:
                raise ConfigError(str(e)) from None
            continue
        key = KEYS[canonical_at(name, f"{path}:{lineno}")]
        out[key.name] = _convert(key, value, f"{path}:{lineno}")
    return out


def canonical_at(name: str, origin: str) -> str:
    try:
        return canonical(name)
    except ConfigError as e:
        raise ConfigError(f"{origin}: {e}") from None


@dataclass
class Settings:
    """Resolved configuration: HM keys with their values, and the GOP table (FrameN lines)."""

    values: dict[str, Any]
    gop_entries: dict[int, GopEntry] = field(default_factory=dict)
    gop: list[GopEntry] = field(default_factory=list)  # Frame1..FrameGOPSize, checked

    def __getitem__(self, key: str) -> Any:
        return self.values[canonical(key)]

    def encoder_config(self) -> dict[str, Any]:
        """The settings of the C++ encoder."""
        cfg: dict[str, Any] = {}
        for name, key in KEYS.items():
            if key.field:
                cfg[key.field] = self.values[name]
        for key, setting, n in (
            ("TileColumnWidthArray", "tile_column_width", "NumTileColumnsMinus1"),
            ("TileRowHeightArray", "tile_row_height", "NumTileRowsMinus1"),
        ):
            if not self.values["TileUniformSpacing"]:
                for i, v in enumerate(self._tile_sizes(key)[: self.values[n]]):
                    cfg[f"{setting}_{i}"] = v
        return cfg

    def _tile_sizes(self, key: str) -> list[int]:
        """HM's tile size arrays: CTU counts separated by spaces or commas."""
        text = str(self.values[key]).replace(",", " ").split()
        try:
            sizes = [int(t) for t in text]
        except ValueError:
            raise ConfigError(
                f"{key} = '{self.values[key]}': give CTU counts, e.g. '2 3'"
            ) from None
        if any(v < 1 for v in sizes):
            raise ConfigError(f"{key} = '{self.values[key]}': every size must be at least 1 CTU")
        return sizes

    def check(self) -> None:
        v = self.values
        if v["MaxCUHeight"] != v["MaxCUWidth"]:
            raise ConfigError("MaxCUHeight must equal MaxCUWidth (square CTUs)")
        if v["QuadtreeTULog2MinSize"] > v["QuadtreeTULog2MaxSize"]:
            raise ConfigError("QuadtreeTULog2MinSize is larger than QuadtreeTULog2MaxSize")
        if v["IntraPeriod"] == 0 or v["IntraPeriod"] < -1:
            raise ConfigError(
                f"IntraPeriod {v['IntraPeriod']}: use -1 (first picture only) or >= 1"
            )
        if v["WaveFrontSynchro"] and (v["NumTileColumnsMinus1"] or v["NumTileRowsMinus1"]):
            raise ConfigError(
                "tiles and WaveFrontSynchro together are not allowed in the Main profile"
            )
        if not v["TileUniformSpacing"]:
            for key, n in (
                ("TileColumnWidthArray", "NumTileColumnsMinus1"),
                ("TileRowHeightArray", "NumTileRowsMinus1"),
            ):
                if len(self._tile_sizes(key)) < v[n]:
                    raise ConfigError(
                        f"{n} = {v[n]} with TileUniformSpacing = 0 needs that many CTU sizes "
                        f"in {key}"
                    )
        inter = v["GOPSize"] > 1 or v["IntraPeriod"] != 1 or bool(self.gop_entries)
        if inter:
            try:
                self.gop = check_gop(self.gop_entries, v["GOPSize"], v["IntraPeriod"])
                check_references(self.gop)
            except GopError as e:
                raise ConfigError(str(e)) from None


def resolve(
    cfg_files: Iterable[str | Path] = (),
    overrides: Mapping[str, Any] | None = None,
    origin: str = "command line",
) -> Settings:
    """Defaults, then each cfg file in order, then overrides (HM precedence)."""
    values = {k.name: k.default for k in KEYS.values()}
    gop: dict[int, GopEntry] = {}
    for f in cfg_files:
        values.update(parse_cfg_file(f, gop))
    for name, raw in (overrides or {}).items():
        m = FRAME_KEY.match(name)
        if m:
            try:
                gop[int(m.group(1))] = parse_entry(str(raw), f"{origin}: {name}")
            except GopError as e:
                raise ConfigError(str(e)) from None
            continue
        key = KEYS[canonical_at(name, origin)]
        values[key.name] = _convert(key, raw, origin)
    s = Settings(values, gop)
    s.check()
    return s


def parse_overrides(
    args: list[str], on_unknown: Callable[[str], None] | None = None
) -> dict[str, str]:
    """Turns ``--Key=value`` / ``--Key value`` arguments into a mapping."""
    out: dict[str, str] = {}
    i = 0
    while i < len(args):
        a = args[i]
        if not a.startswith("--"):
            raise ConfigError(f"unexpected argument '{a}'")
        body = a[2:]
        if "=" in body:
            name, value = body.split("=", 1)
        elif i + 1 < len(args) and not args[i + 1].startswith("--"):
            name, value = body, args[i + 1]
            i += 1
        else:
            raise ConfigError(f"option --{body} needs a value (--{body}=VALUE)")
        out[name if FRAME_KEY.match(name) else canonical_at(name, "command line")] = value
        i += 1
    return out
