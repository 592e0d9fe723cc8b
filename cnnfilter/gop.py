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

from .errors import UserError

FRAME_KEY = re.compile(r"^Frame([1-9][0-9]*)$")


class GopError(UserError):
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
            raise UserError(f"type '{tok[0]}' is not I, P or B")
        poc, qp_off, cb, cr = (int(t) for t in tok[1:5])
        factor = float(tok[5])
        tc, beta, tid, active, n = (int(t) for t in tok[6:11])
        if n < 0 or len(tok) < 11 + n:
            raise UserError(f"#ref_pics {n} but {max(0, len(tok) - 11)} values follow")
        refs = tuple(int(t) for t in tok[11 : 11 + n])
        rest = tok[11 + n :]
        predict = int(rest[0]) if rest else 0
        if predict not in (0, 1, 2):
            raise UserError(f"predict {predict} is not 0, 1 or 2")
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


# NAL unit types (H.265 Table 7-1) the schedule gives pictures.
TRAIL_R, RADL_R, RASL_R, IDR_W_RADL, CRA_NUT = 1, 7, 9, 19, 21


def lambda_factor(picture_qp: int, frame: int, gop_size: int, entry_factor: float | None) -> float:
    """The factor f of the picture's Lagrange multiplier lambda = f * 2^((QP - 12) / 3), as
    HM-16.9's encoder description gives it (JCTVC-L1002 / the HM manual, "lambda"):

    - intra pictures (``entry_factor`` None): 0.57 * (1 - clip(0, 0.5, 0.05 * (GOPSize - 1))),
      i.e. 0.57 in All-Intra, smaller when the GOP's other pictures reuse the intra picture;
    - other pictures: the GOP entry's QPfactor, times clip(2, 4, (QP - 12) / 6) when the picture
      sits below the top of the GOP's dyadic hierarchy (``hierarchy_depth`` > 0), so that
      pictures fewer others predict from are coded with more weight on rate.
    """
    if entry_factor is None:
        return 0.57 * (1 - min(max(0.05 * (gop_size - 1), 0.0), 0.5))
    if hierarchy_depth(frame, gop_size) > 0:
        return entry_factor * min(max((picture_qp - 12) / 6, 2.0), 4.0)
    return entry_factor


def hierarchy_depth(frame: int, gop_size: int) -> int:
    """The level of ``frame`` in a dyadic GOP: 0 at multiples of GOPSize, 1 at the middle, 2 at
    the quarters, ...; for a power-of-2 GOPSize, log2(GOPSize) - trailing_zeros(frame % GOPSize).
    Positions no halving reaches (GOP sizes that are not powers of 2) get the deepest level."""
    r = frame % gop_size
    if r == 0:
        return 0
    depth, step, half = 0, gop_size, gop_size // 2
    while half >= 1:
        depth += 1
        if r >= half and (r - half) % step == 0:
            break
        step, half = step // 2, half // 2
    return depth


@dataclass(frozen=True)
class Picture:
    """One picture of a schedule; schedules list them in coding order."""

    frame: int  # source frame (after FrameSkip); the output order
    poc: int  # PicOrderCntVal: frame minus the frame of the last IDR picture
    slice_type: str  # "I", "P" or "B"
    qp: int
    nal_type: int
    temporal_id: int
    refs: tuple[int, ...]  # short-term RPS as POC deltas: negatives nearest first, then positives
    ref_used: tuple[int, ...]  # 1: in this picture's lists; 0: only kept for later pictures
    num_ref_active: tuple[int, int]  # list sizes L0, L1
    lambda_factor: float

    def ref_lists(self) -> tuple[tuple[int, ...], tuple[int, ...]]:
        """The POCs of lists L0 and L1 as the default construction of H.265 8.3.4 builds them
        from the used references (entries repeat when a list is longer than they are)."""
        used = [self.poc + d for d, u in zip(self.refs, self.ref_used, strict=True) if u]
        before = [p for p in used if p < self.poc]
        after = [p for p in used if p > self.poc]

        def build(cand: list[int], n: int) -> tuple[int, ...]:
            return tuple(cand[i % len(cand)] for i in range(n)) if cand else ()

        return build(before + after, self.num_ref_active[0]), build(
            after + before, self.num_ref_active[1]
        )


def coding_order(gop: list[GopEntry], frames: int) -> list[tuple[int, int]]:
    """(frame, entry number) in coding order: frame 0 (entry 0), then each GOP's entries in
    table order; frames past the end are left out, the others keep their order (as HM codes a
    last, incomplete GOP)."""
    order = [(0, 0)] if frames > 0 else []
    base = 0
    while base + 1 < frames:
        order += [(base + e.poc, n) for n, e in enumerate(gop, 1) if base + e.poc < frames]
        base += len(gop)
    return order


def _rps_order(deltas: list[int]) -> list[int]:
    return sorted(d for d in deltas if d < 0)[::-1] + sorted(d for d in deltas if d > 0)


def schedule(
    gop: list[GopEntry],
    intra_period: int,
    refresh_type: int,
    frames: int,
    qp: int,
) -> list[Picture]:
    """The pictures of an encode in coding order, as HM-16.9 codes the same configuration.

    ``gop`` is the checked table (Frame1..FrameGOPSize; empty: every picture is an intra
    picture, All-Intra). Frame 0 is an IDR picture; every ``intra_period``-th frame (> 0) is an
    intra picture: a CRA (DecodingRefreshType 1), an IDR (2) or a trailing I picture (0). Other
    pictures take their GOP entry's slice type, QP offset and TemporalId. Pictures coded after a
    CRA or IDR that precede it in output order are its RASL or RADL pictures.

    A picture's reference picture set is its entry's, limited to the pictures H.265 leaves
    available (8.3.2): an IDR empties it; a CRA's may not reach before the IRAP picture coded
    before it, nor a trailing picture's before its own IRAP picture; pictures before frame 0
    or past the last frame do not exist. A trailing picture that lost references before its
    IRAP picture gets, as HM gives the first pictures of its GOP structure, the pictures coded
    since that IRAP picture instead, latest first, while the set holds fewer than the entry's
    active references. References with a TemporalId above the picture's stay in the set unused
    (7.4.3.2 forbids them in the lists). A reference that should still be there but was left
    out of the set of the picture coded before it is an error in the GOP table (GopError).
    """
    g = len(gop)
    table = gop or [GopEntry("I", 1, 0, 0, 0, 0.57, 0, 0, 0, 0, ())]
    pictures: list[Picture] = []
    tid: dict[int, int] = {}
    held: list[int] = []  # frames marked as references after the last picture coded
    gone: set[int] = set()  # frames the rules of an IRAP picture took out of the DPB
    coded: set[int] = set()
    since_irap: list[int] = []  # frames coded after the last IRAP picture, in coding order
    irap, irap_nal, prev_irap, idr = 0, IDR_W_RADL, 0, 0
    for frame, n in coding_order(table, frames):
        e = table[n - 1] if n else None
        periodic = frame == 0 or (intra_period > 0 and frame % intra_period == 0)
        if frame == 0 or (periodic and refresh_type == 2):
            nal = IDR_W_RADL
        elif periodic and refresh_type == 1:
            nal = CRA_NUT
        elif frame < irap:
            nal = RASL_R if irap_nal == CRA_NUT else RADL_R
        else:
            nal = TRAIL_R
        is_irap = nal in (IDR_W_RADL, CRA_NUT)
        trailing = not is_irap and frame > irap
        if is_irap:
            prev_irap, irap, irap_nal = irap, frame, nal
        if nal == IDR_W_RADL:
            idr = frame
            avail: list[int] = []
            gone.update(coded)
        elif nal == CRA_NUT:
            avail = [q for q in held if q >= prev_irap]
        else:
            avail = [q for q in held if q >= irap] if trailing else list(held)
        gone.update(q for q in held if q not in avail)
        intra = periodic or e is None or e.slice_type == "I"
        cur_tid = 0 if is_irap or e is None else e.temporal_id
        kept, count, lost_before = [], 0, False
        for d in e.refs if e is not None and nal != IDR_W_RADL else ():
            q = frame + d
            if q in avail:
                kept.append(d)
                count += 1
            elif q >= frames:
                count += 1  # never coded: HM counts it, then leaves it out
            elif q < 0 or (trailing and q < irap):
                lost_before = True
            elif q in gone or (nal == CRA_NUT and q < prev_irap):
                pass  # taken out by an IRAP picture's rules
            else:
                before = pictures[-1].frame
                why = "is not coded before it" if q not in coded else "is no longer kept"
                raise GopError(
                    f"Frame{n} (POC {frame}) references POC {q}, which {why}: the reference "
                    f"picture set of POC {before}, coded before it, does not hold it"
                )
        if lost_before and trailing:
            for cand in reversed(since_irap):
                if cand in avail and tid[cand] <= cur_tid and cand - frame not in kept:
                    kept.append(cand - frame)
                    count += 1
                if count >= e.num_ref_active:
                    break
        refs = _rps_order(kept)
        used = tuple(int(not intra and tid[frame + d] <= cur_tid) for d in refs)
        if periodic:
            slice_type, pic_qp, active = "I", qp, (0, 0)
            factor = lambda_factor(qp, frame, g or 1, None)
        else:
            slice_type = "I" if intra else e.slice_type
            pic_qp = min(max(qp + e.qp_offset, 0), 51)
            factor = lambda_factor(pic_qp, frame, g, e.qp_factor)
            n0 = min(e.num_ref_active, sum(used))
            if n0 == 0 and not intra:
                raise GopError(
                    f"Frame{n} (POC {frame}): none of its reference pictures "
                    f"{[frame + d for d in e.refs]} can be used"
                )
            active = (0, 0) if intra else (n0, n0 if slice_type == "B" else 0)
        pictures.append(
            Picture(
                frame, frame - idr, slice_type, pic_qp, nal, cur_tid, tuple(refs), used,
                active, factor,
            )
        )  # fmt: skip
        tid[frame] = cur_tid
        coded.add(frame)
        held = sorted(frame + d for d in refs) + [frame]
        since_irap = [] if is_irap else since_irap + [frame]
    return pictures


@dataclass(frozen=True)
class SpsNeeds:
    """What a schedule needs of the sequence parameter set (7.4.3.2, C.5.2)."""

    max_temporal_layers: int  # sps_max_sub_layers_minus1 + 1
    num_reorder_pics: int  # sps_max_num_reorder_pics
    max_dec_pic_buffering: int  # sps_max_dec_pic_buffering_minus1 + 1


def sps_needs(pictures: list[Picture]) -> SpsNeeds:
    """num_reorder_pics: the most pictures that precede one in decoding order and follow it in
    output order (within its coded video sequence). max_dec_pic_buffering: the smallest DPB with
    which the output-order DPB of C.5.2.2 outputs every picture in order and never lacks room
    for a reference picture, found by running it on the schedule."""
    reorder = 0
    cvs: list[int] = []
    for p in pictures:
        if p.nal_type == IDR_W_RADL:
            cvs = []
        reorder = max(reorder, sum(f > p.frame for f in cvs))
        cvs.append(p.frame)
    least = 1 + max((len(p.refs) for p in pictures), default=0)
    buffering = next(
        (m for m in range(max(least, reorder + 1), 17) if _dpb_works(pictures, reorder, m)), 16
    )
    layers = 1 + max((p.temporal_id for p in pictures), default=0)
    return SpsNeeds(layers, reorder, buffering)


def _dpb_works(pictures: list[Picture], reorder: int, size: int) -> bool:
    """Whether C.5.2.2's DPB of ``size`` pictures decodes the schedule with output in order."""
    dpb: set[int] = set()
    waiting: set[int] = set()

    def bump(i: int) -> bool:  # outputs the first waiting picture; False if one comes too soon
        f = min(waiting)
        later = pictures[i:]
        cvs_end = next((k for k, p in enumerate(later) if k and p.nal_type == IDR_W_RADL), None)
        if any(p.frame < f for p in later[:cvs_end]):
            return False
        waiting.remove(f)
        return True

    for i, p in enumerate(pictures):
        if p.nal_type == IDR_W_RADL:
            dpb.clear()
            waiting.clear()
        refs = {p.frame + d for d in p.refs}
        dpb = {f for f in dpb if f in refs or f in waiting}
        while len(dpb) >= size:
            if not waiting or not bump(i):
                return False
            dpb = {f for f in dpb if f in refs or f in waiting}
        dpb.add(p.frame)
        waiting.add(p.frame)
        while len(waiting) > reorder:
            if not bump(i + 1):
                return False
    return True


def check_references(gop: list[GopEntry]) -> None:
    """Runs the table from frame 0 until every entry has all its references (HM checks its
    tables so): a reference that is not kept by then is a GopError naming the entry."""
    if gop:
        reach = max((-d for e in gop for d in e.refs), default=0)
        schedule(gop, -1, 0, reach + 3 * len(gop) + 1, 32)
