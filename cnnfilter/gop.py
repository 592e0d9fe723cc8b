"""HM's GOP tables: the ``FrameN`` lines of a cfg file, parsed and checked.

A line reads, as in HM-16.9's cfg files::

    FrameN: Type POC QPoffset CbQPoffset CrQPoffset QPfactor tcOffsetDiv2 betaOffsetDiv2
            temporal_id #ref_pics_active #ref_pics reference_pictures... predict
            [deltaRPS #ref_idcs reference_idcs...]

``predict`` (and what follows it) says how HM codes the reference picture set; the set itself
is given by ``reference_pictures``, which is all this encoder needs, so the rest is read and
checked for form only.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

FRAME_KEY = re.compile(r"^Frame([1-9][0-9]*)$")


class GopError(ValueError):
    """A GOP table that cannot be coded; the message names the entry."""


@dataclass(frozen=True)
class GopEntry:
    slice_type: str  # "P" or "B" ("I" accepted too)
    poc: int  # POC offset inside the GOP, 1..GOPSize
    qp_offset: int
    cb_qp_offset: int
    cr_qp_offset: int
    qp_factor: float
    tc_offset_div2: int
    beta_offset_div2: int
    temporal_id: int
    num_ref_active: int
    refs: tuple[int, ...]  # delta POCs of the reference picture set


def parse_entry(text: str, where: str) -> GopEntry:
    tok = text.split()
    if len(tok) < 11:
        raise GopError(f"{where}: a GOP entry needs at least 11 fields, got {len(tok)}: '{text}'")
    try:
        slice_type = tok[0].upper()
        if slice_type not in ("I", "P", "B"):
            raise ValueError(f"type '{tok[0]}' is not I, P or B")
        poc, qp_off, cb, cr = (int(t) for t in tok[1:5])
        factor = float(tok[5])
        tc, beta, tid, active, n = (int(t) for t in tok[6:11])
        if n < 0 or len(tok) < 11 + n:
            raise ValueError(f"#ref_pics {n} but {max(0, len(tok) - 11)} values follow")
        refs = tuple(int(t) for t in tok[11 : 11 + n])
        rest = tok[11 + n :]
        predict = int(rest[0]) if rest else 0
        if predict not in (0, 1, 2):
            raise ValueError(f"predict {predict} is not 0, 1 or 2")
        for t in rest[1:]:
            int(t)
    except ValueError as e:
        raise GopError(f"{where}: {e}") from None
    if not 0 <= tid <= 6:
        raise GopError(f"{where}: temporal_id {tid} is outside 0..6")
    if not 0 <= active <= n or (slice_type != "I" and active < 1):
        raise GopError(f"{where}: #ref_pics_active {active} must be within 1..#ref_pics ({n})")
    if len(set(refs)) != len(refs) or 0 in refs:
        raise GopError(f"{where}: reference pictures {list(refs)} repeat or include 0")
    if not -12 <= cb <= 12 or not -12 <= cr <= 12 or not -6 <= tc <= 6 or not -6 <= beta <= 6:
        raise GopError(f"{where}: a chroma QP or deblocking offset is out of range")
    return GopEntry(slice_type, poc, qp_off, cb, cr, factor, tc, beta, tid, active, refs)


def check_gop(entries: dict[int, GopEntry], gop_size: int, intra_period: int) -> list[GopEntry]:
    """The entries Frame1..FrameGOPSize in coding order, checked: every entry present, POCs
    1..GOPSize once each, every reference coded before the picture that uses it."""
    if gop_size < 1:
        raise GopError(f"GOPSize {gop_size} must be at least 1")
    extra = sorted(n for n in entries if n > gop_size)
    if extra:
        raise GopError(f"GOPSize is {gop_size}, but Frame{extra[0]} is given")
    missing = [n for n in range(1, gop_size + 1) if n not in entries]
    if missing:
        raise GopError(f"GOPSize is {gop_size}, but Frame{missing[0]} is missing")
    table = [entries[n] for n in range(1, gop_size + 1)]
    pocs = sorted(e.poc for e in table)
    if pocs != list(range(1, gop_size + 1)):
        raise GopError(f"the GOP entries' POCs must be 1..{gop_size} once each, got {pocs}")
    coded: set[int] = set()
    for n, e in enumerate(table, 1):
        for d in e.refs:
            ref = e.poc + d
            if ref > gop_size or (ref > 0 and ref not in coded):
                raise GopError(
                    f"Frame{n} (POC {e.poc}) references POC {ref}, which is not coded before it"
                )
        coded.add(e.poc)
    if intra_period > 0 and intra_period % gop_size:
        raise GopError(f"IntraPeriod {intra_period} is not a multiple of GOPSize {gop_size}")
    return table
