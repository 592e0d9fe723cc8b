"""The LDP and RA configuration files and HM's GOP tables: parsed, checked, clear errors."""

from __future__ import annotations

from pathlib import Path

import pytest

from cnnfilter.config import ConfigError, resolve
from cnnfilter.gop import GopError, check_gop, parse_entry

ROOT = Path(__file__).resolve().parents[1]
LDP = ROOT / "cfg" / "encoder_lowdelay_P_main.cfg"
RA = ROOT / "cfg" / "encoder_randomaccess_main.cfg"


def _table(cfg):
    from cnnfilter.config import parse_cfg_file

    gop = {}
    values = parse_cfg_file(cfg, gop)
    return values, check_gop(gop, values["GOPSize"], values["IntraPeriod"])


def test_ldp_file_holds_hm_ctc_table():
    values, table = _table(LDP)
    assert values["IntraPeriod"] == -1 and values["GOPSize"] == 4
    assert [(e.poc, e.qp_offset, e.qp_factor) for e in table] == [
        (1, 3, 0.4624),
        (2, 2, 0.4624),
        (3, 3, 0.4624),
        (4, 1, 0.578),
    ]
    assert table[0].refs == (-1, -5, -9, -13) and all(e.slice_type == "P" for e in table)


def test_ra_file_holds_hm_ctc_table():
    values, table = _table(RA)
    assert values["IntraPeriod"] == 32 and values["GOPSize"] == 8
    assert values["DecodingRefreshType"] == 1
    assert [e.poc for e in table] == [8, 4, 2, 1, 3, 6, 5, 7]
    assert [e.temporal_id for e in table] == [0, 1, 2, 3, 3, 2, 3, 3]
    assert table[3].refs == (-1, 1, 3, 7) and all(e.num_ref_active == 2 for e in table)


@pytest.mark.parametrize("cfg,entries", [(LDP, 4), (RA, 8)], ids=["LDP", "RA"])
def test_valid_inter_configuration_resolves_with_its_table(cfg, entries):
    s = resolve([cfg])
    assert len(s.gop) == entries and s["GOPSize"] == entries
    assert s.encoder_config()["search_range"] == 64 and s.encoder_config()["amp"] is True


@pytest.mark.parametrize(
    "overrides,message",
    [
        ({"GOPSize": 4}, "GOPSize is 4, but Frame5 is given"),
        ({"GOPSize": 9}, "Frame9 is missing"),
        ({"IntraPeriod": 30}, "IntraPeriod 30 is not a multiple of GOPSize 8"),
        ({"Frame2": "B 4 2 0 0 0.3536 0 0 1 2 3 -4 -8 3 0"}, "references POC 7, which is not"),
        ({"Frame1": "B 8 1 0 0 0.442 0 0 0 2 3 -8 -12 16 0"}, "references POC 24"),
        ({"Frame3": "B 4 3 0 0 0.3536 0 0 2 2 4 -2 -6 2 6 0"}, "POCs must be 1..8 once each"),
        ({"Frame4": "B 1 4 0 0 0.68 0 0 3 5 4 -1 1 3 7 0"}, "#ref_pics_active 5"),
        ({"Frame4": "B 1 4 0 0 0.68 0 0 3 2 4 -1 1 3"}, "#ref_pics 4 but 3 values follow"),
        ({"Frame4": "X 1 4 0 0 0.68 0 0 3 2 4 -1 1 3 7 0"}, "type 'X'"),
        ({"Frame4": "B 1 4"}, "at least 11 fields"),
        ({"Frame4": "B 1 4 0 0 0.68 0 0 9 2 4 -1 1 3 7 0"}, "temporal_id 9"),
        ({"IntraPeriod": 0}, "IntraPeriod 0"),
        # Frame1 no longer keeps -12, which Frame2 (-8) needs in the next GOP.
        (
            {"Frame1": "B 8 1 0 0 0.442 0 0 0 2 3 -8 -10 -16 0"},
            "Frame2 [(]POC 12[)] references POC 4, which is no longer kept: the reference "
            "picture set of POC 16, coded before it, does not hold it",
        ),
        ({"WeightedPredB": 1}, "explicit weighted prediction is not encoded"),
        ({"TMVPMode": 2}, "TMVPMode = 2 is not supported"),
        ({"FastSearch": 2}, "FastSearch = 2 is not supported"),
    ],
)
def test_bad_gop_tables_are_refused_with_the_reason(overrides, message):
    with pytest.raises(ConfigError, match=message):
        resolve([RA], overrides)


def test_bad_entry_in_a_file_names_file_and_line(tmp_path):
    cfg = tmp_path / "bad.cfg"
    cfg.write_text("GOPSize : 1\nFrame1: P 1 3 0 0 0.4624 0 0 0 4 4 -1 -5 -9\n")
    with pytest.raises(ConfigError, match=r"bad.cfg:2: Frame1: #ref_pics 4 but 3"):
        resolve([cfg])


def test_entry_parser_reads_hm_inter_rps_fields():
    e = parse_entry("B 3 4 0 0 0.68 0 0 3 2 4 -1 -3 1 5 1 -2 5 1 1 1 0 1", "Frame5")
    assert e.refs == (-1, -3, 1, 5) and e.temporal_id == 3
    with pytest.raises(GopError, match="predict 3"):
        parse_entry("B 3 4 0 0 0.68 0 0 3 2 4 -1 -3 1 5 3", "Frame5")


def test_cli_refuses_a_bad_table_before_writing(tmp_path):
    import subprocess
    import sys

    out = tmp_path / "s.bin"
    r = subprocess.run(
        [
            sys.executable,
            "-m",
            "cnnfilter",
            "encode",
            "-c",
            str(RA),
            "-i",
            "x.yuv",
            "-wdt",
            "64",
            "-hgt",
            "64",
            "-b",
            str(out),
            "--IntraPeriod=20",
        ],
        capture_output=True,
        text=True,
        cwd=tmp_path,  # outside the source tree, so the installed package (with its extension) runs
    )
    assert r.returncode == 2 and r.stderr.count("error:") == 1
    assert "IntraPeriod 20 is not a multiple of GOPSize 8" in r.stderr
    assert not out.exists() and not list(tmp_path.iterdir())
