"""Model sets: a manifest mapping (component, slice type, QP) to ONNX filter models.

A model set is a directory holding ``modelset.json``, the ONNX files and their cards::

    {
      "format": "cnnfilter-modelset/1",
      "name": "vrcnn-ai",
      "description": "...",
      "models": {"vrcnn_qp37": {"onnx": "vrcnn_qp37.onnx", "card": "vrcnn_qp37.json",
                                "sha256": "<onnx sha256>", "card_sha256": "<card sha256>"}},
      "luma":   [{"slice_types": ["I"], "qp": [35, 51], "model": "vrcnn_qp37"}, ...],
      "chroma": [{"components": [1, 2], "slice_types": ["I"], "qp": [0, 51], "model": "..."}],
      "inference": {"provider": "cpu", "threads": 1, "graph_optimization": "disable_all",
                    "tile": 0, "tile_overlap": 0, "onnxruntime": "1.31.1"}
    }

Per-QP sets (one model per QP range, as in the papers) and single QP-conditioned models (one
rule over QP 0..51) are both plain rule lists. A bare ``.onnx`` file with its card next to it
(same stem, ``.json``) is also accepted wherever a model set is, as a one-model set.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from .errors import UserError
from .inference import (
    SLICE_TYPES,
    InferenceSettings,
    ModelCard,
    OnnxFilter,
    UnitNeed,
)
from .outputs import atomic_output

SET_FORMAT = "cnnfilter-modelset/1"
MANIFEST = "modelset.json"
INDEX = "index.json"  # in a models directory: {"default": "<set name>", ...}


def sha256_file(path: str | Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def canonical_json(obj: Any) -> bytes:
    return json.dumps(obj, sort_keys=True, separators=(",", ":")).encode()


@dataclass(frozen=True)
class Rule:
    model: str
    slice_types: tuple[str, ...]
    qp_min: int
    qp_max: int
    components: tuple[int, ...] = (0,)  # 0 = luma, 1 = Cb, 2 = Cr

    def matches(self, component: int, qp: int, slice_type: str) -> bool:
        return (
            component in self.components
            and slice_type in self.slice_types
            and self.qp_min <= qp <= self.qp_max
        )


def _parse_rules(entries: Any, chroma: bool, models: dict, where: str) -> list[Rule]:
    if not isinstance(entries, list):
        raise UserError(f"{where}: '{'chroma' if chroma else 'luma'}' must be a list of rules")
    rules = []
    for i, e in enumerate(entries):
        w = f"{where}: {'chroma' if chroma else 'luma'} rule {i}"
        if not isinstance(e, dict) or "model" not in e:
            raise UserError(f"{w}: a rule needs 'model', 'slice_types' and 'qp'")
        if e["model"] not in models:
            raise UserError(f"{w}: model '{e['model']}' is not listed under 'models'")
        st = tuple(e.get("slice_types", SLICE_TYPES))
        if not st or any(s not in SLICE_TYPES for s in st):
            raise UserError(f"{w}: slice_types must be a non-empty subset of I, P, B")
        qp = e.get("qp", [0, 51])
        if len(qp) != 2 or not 0 <= int(qp[0]) <= int(qp[1]) <= 51:
            raise UserError(f"{w}: qp must be [lo, hi] within 0..51, got {qp}")
        comps = tuple(int(c) for c in e.get("components", [1, 2] if chroma else [0]))
        if chroma and (not comps or any(c not in (1, 2) for c in comps)):
            raise UserError(f"{w}: chroma components must be 1 (Cb) and/or 2 (Cr)")
        rules.append(Rule(e["model"], st, int(qp[0]), int(qp[1]), (0,) if not chroma else comps))
    return rules


class ModelSet:
    """A loaded, hash-verified model set with one ONNX Runtime session per model."""

    name: str
    identity: bytes
    inference_mode: str
    has_chroma: bool

    def __init__(
        self,
        manifest: dict[str, Any],
        manifest_bytes: bytes,
        root: Path,
        settings: InferenceSettings | None = None,
        where: str = "model set",
    ) -> None:
        if not isinstance(manifest, dict):
            raise UserError(f"{where}: a model set manifest must be a JSON object")
        if manifest.get("format") != SET_FORMAT:
            raise UserError(f"{where}: format must be '{SET_FORMAT}'")
        models = manifest.get("models")
        if not isinstance(models, dict) or not models:
            raise UserError(f"{where}: 'models' must map model names to their files")
        for key, entry in models.items():
            if not isinstance(entry, dict):
                raise UserError(f"{where}: model '{key}' must be an object with its files")
            for field in ("onnx", "card", "sha256"):
                if not isinstance(entry.get(field), str):
                    raise UserError(f"{where}: model '{key}' needs '{field}' as a string")
        inference = manifest.get("inference", {})
        if not isinstance(inference, dict):
            raise UserError(f"{where}: 'inference' must be an object")
        self.name = str(manifest.get("name", root.name))
        self.root = root
        self.manifest = manifest
        self.development_artefact = bool(manifest.get("development_artefact", False))
        try:
            pinned = InferenceSettings.from_dict(inference)
        except (TypeError, ValueError) as e:
            raise UserError(f"{where}: 'inference': {e}") from None
        self.settings = settings or pinned
        # Recorded, not enforced (docs/models.md, "onnxruntime versions"): another version
        # usually gives the same bits, and the stream's MD5 SEI is what proves it.
        self.validated_onnxruntime = str(inference.get("onnxruntime", "")) or None
        self.luma_rules = _parse_rules(manifest.get("luma", []), False, models, where)
        self.chroma_rules = _parse_rules(manifest.get("chroma", []), True, models, where)
        if not self.luma_rules:
            raise UserError(f"{where}: no luma rule")
        self.has_chroma = bool(self.chroma_rules)

        self.cards: dict[str, ModelCard] = {}
        self.filters: dict[str, OnnxFilter] = {}
        onnx_shas = []
        used = {r.model for r in self.luma_rules + self.chroma_rules}
        for key in sorted(models):
            entry = models[key]
            onnx_path = _inside(root, entry["onnx"], f"{where}: model '{key}'")
            card_path = _inside(root, entry["card"], f"{where}: model '{key}'")
            for p in (onnx_path, card_path):
                if not p.is_file():
                    raise FileNotFoundError(f"{where}: model '{key}': file missing: {p}")
            got = sha256_file(onnx_path)
            if got != entry["sha256"]:
                raise UserError(
                    f"{where}: {onnx_path.name} fails its sha256 check (manifest "
                    f"{entry['sha256'][:16]}..., file {got[:16]}...): the file was modified "
                    "or is corrupt"
                )
            if "card_sha256" in entry and sha256_file(card_path) != entry["card_sha256"]:
                raise UserError(f"{where}: card {card_path.name} fails its sha256 check")
            card_dict = _read_json(card_path)
            card = ModelCard.from_dict(card_dict, where=str(card_path))
            if card.sha256 != got:
                raise UserError(f"{where}: card {card_path.name} names another ONNX sha256")
            self.cards[key] = card
            onnx_shas.append(entry["sha256"])
            if key in used:
                self.filters[key] = OnnxFilter(onnx_path, card, self.settings)
        for r in self.chroma_rules:
            if self.cards[r.model].component != "chroma":
                raise UserError(f"{where}: chroma rule uses the luma model '{r.model}'")
        for r in self.luma_rules:
            if self.cards[r.model].component != "luma":
                raise UserError(f"{where}: luma rule uses the chroma model '{r.model}'")
        h = hashlib.sha256(manifest_bytes)
        for s in onnx_shas:
            h.update(s.encode())
        self.identity = h.digest()[:16]
        self.inference_mode = self.settings.mode_string()

    def model_for(self, component: int, qp: int, slice_type: str) -> OnnxFilter:
        if slice_type not in SLICE_TYPES:
            raise UserError(f"slice type '{slice_type}': use I, P or B")
        rules = self.luma_rules if component == 0 else self.chroma_rules
        for r in rules:
            if r.matches(component, int(qp), slice_type):
                return self.filters[r.model]
        what = "luma" if component == 0 else f"chroma component {component}"
        raise UserError(
            f"model set '{self.name}' has no {what} model for a {slice_type} slice at QP {qp}"
        )

    def filter_luma(
        self,
        y: np.ndarray,
        qp: int,
        slice_type: str,
        side: dict[str, np.ndarray] | None = None,
        need: UnitNeed | None = None,
    ) -> np.ndarray:
        """uint8 (H, W) luma -> uint8 (H, W) filtered luma; ``side``: the codec's side planes,
        for models that take them; ``need``: run only the units that cover flagged CTUs."""
        return self.model_for(0, qp, slice_type).filter_plane(y, qp, side, need)

    def filter_chroma(
        self,
        c: np.ndarray,
        cidx: int,
        qp: int,
        slice_type: str,
        side: dict[str, np.ndarray] | None = None,
        need: UnitNeed | None = None,
    ) -> np.ndarray:
        """uint8 chroma plane (cidx 1 = Cb, 2 = Cr) -> filtered plane; only if ``has_chroma``."""
        if not self.has_chroma:
            raise UserError(f"model set '{self.name}' has no chroma model")
        if cidx not in (1, 2):
            raise UserError(f"chroma component index must be 1 or 2, got {cidx}")
        return self.model_for(cidx, qp, slice_type).filter_plane(c, qp, side, need)

    def describe(self) -> str:
        lines = [
            f"model set {self.name} ({self.root})",
            f"identity {self.identity.hex()}  inference {self.inference_mode}",
        ]
        if self.development_artefact:
            lines.append("DEVELOPMENT ARTEFACT: under-trained, not a useful filter (see its cards)")
        for r in self.luma_rules + self.chroma_rules:
            comp = "luma" if r.components == (0,) else "chroma " + ",".join(map(str, r.components))
            c = self.cards[r.model]
            dp = c.raw.get("validation", {}).get("delta_psnr_db", {})
            lines.append(
                f"  {comp:8s} {'/'.join(r.slice_types):5s} QP {r.qp_min:2d}..{r.qp_max:2d} -> "
                f"{r.model} ({c.raw.get('architecture', '?')}, "
                f"{c.raw.get('kmac_per_pixel', float('nan')):.1f} kMAC/px"
                + (f", val dPSNR {dp}" if dp else "")
                + ")"
            )
        return "\n".join(lines)


def _inside(root: Path, name: str, where: str) -> Path:
    """``root / name`` when ``name`` is a plain relative path that stays inside ``root``."""
    p = Path(name)
    if p.is_absolute() or ".." in p.parts or not name:
        raise UserError(f"{where}: file '{name}' must be a relative path inside the set's folder")
    full = root / p
    if not full.resolve().is_relative_to(root.resolve()):
        raise UserError(f"{where}: file '{name}' leads outside the set's folder")
    return full


def _read_json(path: Path) -> dict[str, Any]:
    try:
        d = json.loads(path.read_bytes())
    except (json.JSONDecodeError, UnicodeDecodeError) as e:
        raise UserError(f"{path}: not valid JSON ({e})") from None
    except IsADirectoryError:
        raise UserError(f"{path}: is a folder, not a JSON file") from None
    if not isinstance(d, dict):
        raise UserError(f"{path}: expected a JSON object, got a JSON {type(d).__name__}")
    return d


def default_models_dirs(models_dir: str | Path | None = None) -> list[Path]:
    """Where shipped model sets are looked up, in order."""
    if models_dir is not None:
        return [Path(models_dir)]
    dirs = []
    if os.environ.get("CNNFILTER_MODELS"):
        dirs.append(Path(os.environ["CNNFILTER_MODELS"]))
    here = Path(__file__).resolve().parent
    dirs.append(here.parent / "models")  # a source tree or editable install
    dirs.append(here / "shipped_models")  # installed from a wheel (see CMakeLists.txt)
    return [d for d in dirs if d.is_dir()] or dirs[:1]


def single_model_manifest(card: dict[str, Any], key: str) -> dict[str, Any]:
    """The manifest of a one-model set made from a card: the card's QP range and slice types."""
    rule = {"slice_types": card["slice_types"], "qp": card["qp_range"], "model": key}
    if card.get("component", "luma") == "chroma":
        rule["components"] = [1, 2]
    return {
        "format": SET_FORMAT,
        "name": key,
        "models": {key: {"onnx": card["onnx"], "card": f"{key}.json", "sha256": card["sha256"]}},
        "luma": [rule] if card.get("component", "luma") == "luma" else [],
        "chroma": [rule] if card.get("component", "luma") == "chroma" else [],
        "inference": InferenceSettings().to_dict(),
        "development_artefact": bool(card.get("development_artefact", False)),
    }


def load_model_set(
    name_or_path: str | os.PathLike,
    models_dir: str | Path | None = None,
    *,
    settings: InferenceSettings | None = None,
) -> ModelSet:
    """Loads a model set by name (``default`` = the best shipped All-Intra set) or by path: a set
    directory, its ``modelset.json``, or a bare ``.onnx`` model (or its card) as a one-model
    set. Every ONNX file is checked against the manifest's sha256; a missing file raises
    FileNotFoundError, a mismatch ValueError. ``settings`` overrides the set's pinned inference
    settings (the result is then recorded in ``inference_mode``)."""
    p = Path(name_or_path)
    if p.exists():
        if p.is_dir():
            p = p / MANIFEST
            if not p.is_file():
                raise FileNotFoundError(f"{p.parent}: not a model set (no {MANIFEST})")
        if p.suffix == ".onnx":
            card_path = p.with_suffix(".json")
            if not card_path.is_file():
                raise FileNotFoundError(
                    f"{p}: a bare ONNX model needs its card {card_path.name} next to it "
                    "(see docs/models.md)"
                )
            p = card_path
        d = _read_json(p)
        if d.get("format") == SET_FORMAT:
            return ModelSet(d, p.read_bytes(), p.parent, settings, where=str(p))
        card = ModelCard.from_dict(d, where=str(p))
        if Path(card.onnx).name != card.onnx or card.onnx != p.with_suffix(".onnx").name:
            raise UserError(f"{p}: the card's 'onnx' must be the file next to it, {card.onnx}")
        manifest = single_model_manifest(d, p.stem)
        return ModelSet(manifest, canonical_json(manifest), p.parent, settings, where=str(p))

    name = str(name_or_path)
    if os.sep in name or name.endswith((".onnx", ".json")):
        raise FileNotFoundError(f"model or model set not found: {name}")
    searched = default_models_dirs(models_dir)
    for d in searched:
        target = name
        index = d / INDEX
        if index.is_file():
            target = _read_json(index).get(name, name)
            if not isinstance(target, str) or Path(target).name != target:
                raise UserError(f"{index}: '{name}' must name a set folder, got {target!r}")
        if (d / target / MANIFEST).is_file():
            return load_model_set(d / target, settings=settings)
    raise FileNotFoundError(
        f"no model set named '{name}' in {', '.join(str(s) for s in searched)} "
        "(give a path, --models-dir, or set CNNFILTER_MODELS)"
    )


def make_model_set(
    out_dir: str | Path,
    name: str,
    models: list[str | Path],
    *,
    settings: InferenceSettings | None = None,
    slice_types: list[str] | None = None,
    description: str = "",
    development_artefact: bool | None = None,
) -> Path:
    """Writes a model set directory from exported models (each ``.onnx`` with its card).

    Luma rules come from the cards: a QP-conditioned model (card input 'qp') covers its card's
    QP range; per-QP models are ordered by trained QP and split QP 0..51 at the midpoints between
    neighbours (22/27/32/37 -> 0..24, 25..29, 30..34, 35..51). ``slice_types`` overrides the
    cards' slice types (e.g. apply All-Intra models to P and B slices too)."""
    out = Path(out_dir)
    if out.exists() and not out.is_dir():
        raise UserError(f"{out}: exists and is not a folder")
    if (out / MANIFEST).exists():
        raise UserError(f"{out / MANIFEST} exists already; choose a new folder")
    cards: dict[str, dict[str, Any]] = {}
    sources: dict[str, Path] = {}
    for m in models:
        mp = Path(m)
        if mp.suffix != ".onnx":
            mp = mp.with_suffix(".onnx")
        cp = mp.with_suffix(".json")
        for f in (mp, cp):
            if not f.is_file():
                raise FileNotFoundError(f"model file missing: {f}")
        card = _read_json(cp)
        ModelCard.from_dict(card, where=str(cp))
        if sha256_file(mp) != card["sha256"]:
            raise UserError(f"{mp}: does not match the sha256 in its card {cp.name}")
        key = mp.stem
        if key in cards:
            raise UserError(f"two models are named '{key}'")
        cards[key] = card
        sources[key] = mp
    created: list[Path] = []  # removed again if anything below fails
    made_dir = not out.exists()
    try:
        out.mkdir(parents=True, exist_ok=True)
        for mp in sources.values():
            if mp.parent.resolve() != out.resolve():
                for src in (mp, mp.with_suffix(".json")):
                    dst = out / src.name
                    if dst.exists():
                        raise UserError(f"{dst} exists already; choose a new folder")
                    shutil.copyfile(src, dst)
                    created.append(dst)
        path = _write_manifest(
            out, name, cards, settings, slice_types, description, development_artefact
        )
    except BaseException:
        for f in created:
            f.unlink(missing_ok=True)
        if made_dir and out.is_dir() and not any(out.iterdir()):
            out.rmdir()
        raise
    return path


def _write_manifest(
    out: Path,
    name: str,
    cards: dict[str, dict[str, Any]],
    settings: InferenceSettings | None,
    slice_types: list[str] | None,
    description: str,
    development_artefact: bool | None,
) -> Path:
    """Builds the manifest, verifies it by loading the set, then writes it atomically."""
    rules: dict[str, list[dict[str, Any]]] = {"luma": [], "chroma": []}
    for comp in ("luma", "chroma"):
        group = {k: c for k, c in cards.items() if c.get("component", "luma") == comp}
        cond = {k: c for k, c in group.items() if "qp" in c["inputs"]}
        per_qp = {k: c for k, c in group.items() if "qp" not in c["inputs"]}
        extra = {"components": [1, 2]} if comp == "chroma" else {}
        for k, c in cond.items():
            st = slice_types or c["slice_types"]
            rules[comp].append({"slice_types": st, "qp": c["qp_range"], "model": k, **extra})
        # per-QP models: group by slice types, split 0..51 at the midpoints of the trained QPs
        by_st: dict[tuple[str, ...], list[tuple[int, str]]] = {}
        for k, c in per_qp.items():
            tq = c.get("trained_qps") or [(c["qp_range"][0] + c["qp_range"][1]) // 2]
            st = tuple(slice_types or c["slice_types"])
            by_st.setdefault(st, []).append((int(tq[0]), k))
        for st, lst in by_st.items():
            lst.sort()
            qps = [q for q, _ in lst]
            if len(set(qps)) != len(qps):
                raise UserError(f"two {comp} models for slice types {st} share a trained QP")
            for i, (q, k) in enumerate(lst):
                lo = 0 if i == 0 else (qps[i - 1] + q) // 2 + 1
                hi = 51 if i == len(lst) - 1 else (q + qps[i + 1]) // 2
                rules[comp].append({"slice_types": list(st), "qp": [lo, hi], "model": k, **extra})

    import onnxruntime

    settings = settings or InferenceSettings()
    inference = settings.to_dict()
    inference["onnxruntime"] = onnxruntime.__version__
    if development_artefact is None:
        development_artefact = any(c.get("development_artefact") for c in cards.values())
    manifest = {
        "format": SET_FORMAT,
        "name": name,
        "description": description,
        "models": {
            k: {
                "onnx": f"{k}.onnx",
                "card": f"{k}.json",
                "sha256": c["sha256"],
                "card_sha256": sha256_file(out / f"{k}.json"),
            }
            for k, c in sorted(cards.items())
        },
        "luma": rules["luma"],
        "chroma": rules["chroma"],
        "inference": inference,
        "development_artefact": development_artefact,
    }
    text = (json.dumps(manifest, indent=2) + "\n").encode()
    ModelSet(manifest, text, out, where=str(out / MANIFEST))  # verify before writing
    with atomic_output(out / MANIFEST) as tmp:
        tmp.write_bytes(text)
    return out / MANIFEST
