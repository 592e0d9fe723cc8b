"""``cnnfilter modelset``: create, show and verify model sets."""

from __future__ import annotations

import argparse


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "modelset",
        help="create, show or verify a model set (manifest mapping slice type and QP to models)",
        description="A model set maps (slice type, QP) to ONNX models and pins how they run.",
    )
    msub = p.add_subparsers(dest="modelset_command", metavar="ACTION", required=True)
    c = msub.add_parser(
        "create",
        help="make a model set directory from exported models",
        description="Copy exported models (each .onnx with its card) into DIR and write "
        "DIR/modelset.json. Per-QP models split QP 0..51 at the midpoints of their trained QPs; a "
        "QP-conditioned model covers its card's QP range.",
    )
    c.add_argument("models", nargs="+", help=".onnx files (their cards sit next to them)")
    c.add_argument("-o", "--out", required=True, help="model set directory")
    c.add_argument("--name", help="set name (default: the directory name)")
    c.add_argument("--description", default="")
    c.add_argument("--slice-types", help="apply to these slice types (default: the cards')")
    c.add_argument("--threads", type=int, default=1, help="pinned intra-op threads")
    c.add_argument(
        "--opt",
        default="disable_all",
        choices=["disable_all", "basic", "extended", "all"],
        help="pinned graph optimisation level",
    )
    c.add_argument("--tile", type=int, default=0, help="tile size (0 = whole frame)")
    c.add_argument("--tile-overlap", type=int, default=0, help="context around each tile")
    c.set_defaults(func=run_create)
    for action in ("show", "verify"):
        s = msub.add_parser(action, help=f"{action} a model set (name or path)")
        s.add_argument("set", help="model set name, directory, or .onnx model")
        s.add_argument("--models-dir", help="where named sets live")
        s.set_defaults(func=run_show)


def run_create(args: argparse.Namespace) -> int:
    from pathlib import Path

    from ..inference import InferenceSettings
    from ..modelset import load_model_set, make_model_set

    settings = InferenceSettings(
        threads=args.threads,
        graph_optimization=args.opt,
        tile=args.tile,
        tile_overlap=args.tile_overlap,
    )
    path = make_model_set(
        args.out,
        args.name or Path(args.out).name,
        args.models,
        settings=settings,
        slice_types=args.slice_types.split(",") if args.slice_types else None,
        description=args.description,
    )
    print(f"wrote {path}")
    print(load_model_set(Path(args.out)).describe())
    return 0


def run_show(args: argparse.Namespace) -> int:
    from ..modelset import load_model_set

    ms = load_model_set(args.set, args.models_dir)
    print(ms.describe())
    if args.modelset_command == "verify":
        print("OK: every file matches its sha256 and every model loads")
    return 0
