"""Where the decoder runs the CNN: the regions that cover the CTUs whose flags select it.

A network whose card declares its ``receptive_field`` R computes each output sample from the
input within R samples of it, so a region read with a halo of at least R around its core gives
the core the same samples as the whole picture does (docs/models.md, "Inference units"). The
decoder therefore filters only the flagged CTUs, merged into rectangles, and the whole picture
when that costs less.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

# Filter the whole picture once the regions would read this share of its area or more: a
# region's halo and the per-run overhead make a nearly full cover slower than one whole run.
WHOLE_PICTURE_SHARE = 0.75


@dataclass(frozen=True)
class Region:
    """Rows y0..y1 and columns x0..x1 (end exclusive) of the core, read with ``halo``."""

    y0: int
    y1: int
    x0: int
    x1: int

    def read(self, halo: int, multiple: int, h: int, w: int) -> tuple[int, int, int, int]:
        """The rows and columns read for this core. The start is rounded down to ``multiple``
        so that a network that works on 2x2 phases (pixel-unshuffle) sees the same phases as in
        the whole picture."""
        ry0 = max(0, (self.y0 - halo) // multiple * multiple)
        rx0 = max(0, (self.x0 - halo) // multiple * multiple)
        return ry0, min(h, self.y1 + halo), rx0, min(w, self.x1 + halo)

    def cost(self, halo: int, multiple: int, h: int, w: int) -> int:
        ry0, ry1, rx0, rx1 = self.read(halo, multiple, h, w)
        return (ry1 - ry0) * (rx1 - rx0)


def plan_regions(
    flags: np.ndarray, ctu: int, h: int, w: int, halo: int, multiple: int
) -> list[Region] | None:
    """Rectangles covering every flagged CTU of an (h, w) plane whose CTUs are ``ctu`` samples
    wide; None when filtering the whole picture costs less (or nothing would be saved)."""

    def cost(r: Region) -> int:
        return r.cost(halo, multiple, h, w)

    regions: list[Region] = []
    open_: list[Region] = []  # regions that end at the previous CTU row
    for row in range(flags.shape[0]):
        y0, y1 = row * ctu, min(h, (row + 1) * ctu)
        cols = np.flatnonzero(flags[row])
        runs: list[Region] = []
        for c in cols:
            x0, x1 = int(c) * ctu, min(w, (int(c) + 1) * ctu)
            # Two runs closer than both halos read the gap anyway: one run is cheaper.
            if runs and x0 - runs[-1].x1 <= 2 * halo:
                runs[-1] = Region(y0, y1, runs[-1].x0, x1)
            else:
                runs.append(Region(y0, y1, x0, x1))
        next_open = []
        for r in runs:
            for k, o in enumerate(open_):
                merged = Region(o.y0, r.y1, min(o.x0, r.x0), max(o.x1, r.x1))
                if o.x0 < r.x1 and r.x0 < o.x1 and cost(merged) <= cost(o) + cost(r):
                    r = merged
                    open_.pop(k)
                    break
            next_open.append(r)
        regions += open_
        open_ = next_open
    regions += open_
    if not regions or sum(map(cost, regions)) >= WHOLE_PICTURE_SHARE * h * w:
        return None
    return regions


__all__ = ["Region", "plan_regions", "WHOLE_PICTURE_SHARE"]
