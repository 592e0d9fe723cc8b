"""Sequence lists: the shipped lists, validation errors, and the built-in default set."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from ctc_util import entry, photo_clip, write_list

from cnnfilter.ctc import builtin
from cnnfilter.ctc.runner import CtcError, prepare
from cnnfilter.ctc.sequences import SequenceListError, load_sequences, shipped_lists
from cnnfilter.yuv import frame_size


@pytest.fixture
def clip(tmp_path):
    return photo_clip(tmp_path / "astro_128x96.yuv")


def test_shipped_lists_are_named():
    assert "jctvc_template" in shipped_lists()


def test_shared_video_list_resolves_to_shared_data(shared_data):
    # checks every file and its frame count
    seqs = load_sequences(Path(__file__).resolve().parents[1] / "sequences" / "shared_video.yaml")
    names = ["bigbuckbunny", "bikes", "bigbuckbunny-crop", "CiscoVT2people"]
    assert [s.name for s in seqs] == names
    video = (shared_data / "video").resolve()
    for s in seqs:
        path = Path(s.path)
        assert path.parent == video
        # The list codes every frame of each clip.
        assert path.stat().st_size == s.frames * frame_size(s.width, s.height)
        assert f"_{s.width}x{s.height}_{int(s.fps)}.yuv" in path.name


def test_jctvc_template_has_the_ctc_classes():
    seqs = load_sequences("jctvc_template", check_files=False)
    by_class: dict[str, list] = {}
    for s in seqs:
        by_class.setdefault(s.cls, []).append(s)
    assert sorted(by_class) == ["A", "B", "C", "D", "E"]
    assert [len(by_class[c]) for c in "ABCDE"] == [2, 5, 4, 4, 3]
    sizes = {"A": (2560, 1600), "B": (1920, 1080), "C": (832, 480), "D": (416, 240)}
    sizes["E"] = (1280, 720)
    for c, members in by_class.items():
        assert all((s.width, s.height) == sizes[c] for s in members)
    frames = {s.name: (s.frames, s.fps) for s in seqs}
    assert frames["Traffic"] == (150, 30) and frames["Kimono"] == (240, 24)
    assert frames["BQTerrace"] == (600, 60) and frames["RaceHorses"] == (300, 30)
    assert frames["BasketballPass"] == (500, 50) and frames["Johnny"] == (600, 60)
    for s in seqs:
        # RA intra period: about one second, a multiple of the GOP size 8.
        assert s.intra_period % 8 == 0 and abs(s.intra_period - s.fps) <= 4
    assert all(s.configs == ("AI", "RA") for s in by_class["A"])
    assert all(s.configs == ("AI", "LDP") for s in by_class["E"])
    assert all(s.configs == ("AI", "LDP", "RA") for s in by_class["B"])


def test_jctvc_template_missing_files_error_names_them():
    with pytest.raises(SequenceListError, match=r"18 sequence\(s\) unusable: 'Traffic': file not"):
        load_sequences("jctvc_template")


def test_paths_are_relative_to_the_list(tmp_path, clip, monkeypatch):
    sub = tmp_path / "lists"
    sub.mkdir()
    lst = write_list(sub / "l.yaml", [entry("a", "../" + clip.name, 128, 96, 2)])
    monkeypatch.chdir(sub)  # a cwd-relative reading would look in lists/../.. instead
    (s,) = load_sequences(lst)
    assert s.path == str(clip.resolve())


BAD = [
    ({"sequences": "x"}, "top-level 'sequences:' list"),
    ({"sequences": []}, "empty"),
    ({"other": 1}, "top-level 'sequences:' list"),
]


@pytest.mark.parametrize("doc,match", BAD)
def test_bad_documents(tmp_path, doc, match):
    import yaml

    p = tmp_path / "l.yaml"
    p.write_text(yaml.safe_dump(doc))
    with pytest.raises(SequenceListError, match=match):
        load_sequences(p)


@pytest.mark.parametrize(
    "change,match",
    [
        ({"width": None}, "missing key"),
        ({"colour": "red"}, "unknown key"),
        ({"width": 127}, "even width"),
        ({"height": 4}, "'height' must be an integer >= 8"),
        ({"fps": 0}, "'fps' must be a positive number"),
        ({"fps": "fast"}, "'fps' must be a positive number"),
        ({"frames": 0}, "'frames' must be an integer >= 1"),
        ({"frames": 3}, "holds 2 frame"),
        ({"name": "a b"}, "non-empty word"),
        ({"path": "nothere.yuv"}, "file not found"),
        ({"path": "clip.y4m"}, "'.yuv' clips"),
        ({"configs": ["AI", "LDB"]}, "'configs' must be a non-empty list"),
        ({"intra_period": -1}, "'intra_period' must be an integer >= 1"),
        ({"frame_skip": 1}, "holds 2 frame"),
    ],
)
def test_entry_validation(tmp_path, clip, change, match):
    e = entry("a", clip, 128, 96, 2)
    for k, v in change.items():
        if v is None:
            del e[k]
        else:
            e[k] = v
    with pytest.raises(SequenceListError, match=match):
        load_sequences(write_list(tmp_path / "l.yaml", [e]))


def test_duplicate_names(tmp_path, clip):
    lst = write_list(tmp_path / "l.yaml", [entry("a", clip, 128, 96, 2)] * 2)
    with pytest.raises(SequenceListError, match="appears twice"):
        load_sequences(lst)


def test_missing_files_fail_before_any_job(tmp_path, clip, x265):
    lst = write_list(
        tmp_path / "l.yaml",
        [entry("a", clip, 128, 96, 2), entry("b", tmp_path / "gone.yuv", 128, 96, 2)],
    )
    seqs = load_sequences(lst, check_files=False)
    with pytest.raises(CtcError, match="'b': file not found"):
        prepare(["AI"], [22, 27, 32, 37], seqs, "x265", ["x265:no-sao"], None, str(lst))
    # Through the command line: one error line, exit code 2, no results directory.
    out = tmp_path / "out"
    r = subprocess.run(
        [sys.executable, "-m", "cnnfilter", "ctc", "run", "--sequences", str(lst),
         "--anchor", "x265", "--test", "x265:no-sao", "--out", str(out)],
        capture_output=True, text=True, cwd=tmp_path,
    )  # fmt: skip
    assert r.returncode == 2
    assert r.stderr.count("\n") == 1 and "file not found" in r.stderr
    assert not out.exists()


def test_frames_cap_only_needs_the_capped_frames(tmp_path, clip, x265):
    lst = write_list(tmp_path / "l.yaml", [entry("a", clip, 128, 96, 500)])
    seqs = load_sequences(lst, check_files=False)
    jobs = prepare(["AI"], [22, 27, 32, 37], seqs, "x265", ["x265:no-sao"], 2, str(lst))
    assert {j.frames for j in jobs} == {2} and len(jobs) == 8
    with pytest.raises(CtcError, match="holds 2 frame"):
        prepare(["AI"], [22, 27, 32, 37], seqs, "x265", ["x265:no-sao"], 3, str(lst))


def test_unavailable_settings_refuse_before_any_job(tmp_path):
    """A setting that cannot run (here: an unknown model set) stops the run before any job."""
    r = subprocess.run(
        [sys.executable, "-m", "cnnfilter", "ctc", "run", "--test", "cnn:nosuch",
         "--out", str(tmp_path / "out")],
        capture_output=True, text=True, cwd=tmp_path,
    )  # fmt: skip
    assert r.returncode == 2 and r.stderr.count("\n") == 1
    assert "model set 'nosuch'" in r.stderr and "no model set named 'nosuch'" in r.stderr
    assert not (tmp_path / "out").exists()


def test_rgb_to_i420_known_colours():
    rgb = np.zeros((4, 6, 3), np.uint8)
    rgb[:2] = 255  # top half white, bottom half black
    buf = np.frombuffer(builtin.rgb_to_i420(rgb), np.uint8)
    y, u, v = buf[:24].reshape(4, 6), buf[24:30], buf[30:36]
    assert (y[:2] == 235).all() and (y[2:] == 16).all()
    assert (u == 128).all() and (v == 128).all()
    red = np.zeros((2, 2, 3), np.uint8)
    red[..., 0] = 255
    assert list(builtin.rgb_to_i420(red)) == [81] * 4 + [90, 240]


def test_builtin_set(tmp_path, monkeypatch):
    monkeypatch.setenv("CNNFILTER_CACHE", str(tmp_path))
    seqs = builtin.builtin_sequences()
    assert [s.name for s in seqs] == list(builtin.NAMES)
    for s in seqs:
        assert s.frames == 1 and s.configs == ("AI",)
        assert os.path.getsize(s.path) == frame_size(s.width, s.height)
    assert (seqs[0].width, seqs[0].height) == (512, 512)
    assert (seqs[2].width, seqs[2].height) == (450, 300)  # chelsea 451x300 cropped to even
    # Cached: a second call reuses the files; a damaged file is made again.
    stamp = {s.name: os.stat(s.path).st_mtime_ns for s in seqs}
    with open(seqs[1].path, "r+b") as f:
        f.truncate(100)
    again = builtin.builtin_sequences()
    assert again == seqs
    assert os.stat(seqs[0].path).st_mtime_ns == stamp["astronaut"]
    assert os.path.getsize(seqs[1].path) == frame_size(600, 400)


def test_builtin_luma_matches_ffmpeg(tmp_path, monkeypatch, ffmpeg):
    """Our BT.601 conversion agrees with ffmpeg's rgb24 -> yuv420p on luma (within rounding)."""
    import skimage.data
    from PIL import Image

    monkeypatch.setenv("CNNFILTER_CACHE", str(tmp_path))
    seq = builtin.builtin_sequences()[1]  # coffee
    png = tmp_path / "coffee.png"
    Image.fromarray(np.asarray(skimage.data.coffee())).save(png)
    ref = subprocess.run(
        [ffmpeg, "-v", "error", "-i", str(png), "-pix_fmt", "yuv420p", "-f", "rawvideo", "-"],
        capture_output=True, check=True,
    ).stdout  # fmt: skip
    ours = open(seq.path, "rb").read()
    n = seq.width * seq.height
    diff = np.abs(np.frombuffer(ref[:n], np.uint8).astype(int) - np.frombuffer(ours[:n], np.uint8))
    assert diff.max() <= 1 and diff.mean() < 0.05
