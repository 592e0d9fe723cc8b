// Where a CTU's CABAC context variables come from and where substreams start (9.3.1), with
// tiles, wavefront rows and dependent slice segments: one rule for the decoder and the encoder.
#pragma once

#include "params.h"
#include "picture.h"

namespace hevc {

enum class CtxStart {
  Continue,  // the contexts after the previous CTU
  Init,      // initialised for the slice
  Wpp,       // the WPP storage (after the second CTU of the row above)
  Segment,   // the end of the previous slice segment (a dependent segment)
};

// The first CTU of a tile (a picture's first CTU included).
inline bool tile_starts(const PicGeometry& g, int ts) {
  return ts == 0 || g.tile_id[ts] != g.tile_id[ts - 1];
}

// With WPP, the first CTU of a CTU row of its tile.
inline bool wpp_row_starts(const PicGeometry& g, const Pps& p, int rs) {
  const int rx = rs % g.w_ctb;
  return p.entropy_coding_sync && rx == g.col_bd[g.col_of_ctb_x[rx]];
}

// The CTU at tile-scan address `ts`; `segment_start`: the first CTU of a slice segment.
inline CtxStart ctx_start(const CodingInfo& info, const Pps& p, int ts, bool segment_start,
                          bool dependent) {
  const PicGeometry& g = info.geo();
  const int rs = g.ts_to_rs[ts], rx = rs % g.w_ctb;
  if (tile_starts(g, ts)) return CtxStart::Init;
  if (wpp_row_starts(g, p, rs)) {
    const int x0 = rx << g.ctb_log2, y0 = (rs / g.w_ctb) << g.ctb_log2;
    return info.available(x0, y0, x0 + g.ctb_size, y0 - g.ctb_size) ? CtxStart::Wpp
                                                                    : CtxStart::Init;
  }
  if (!segment_start) return CtxStart::Continue;
  return dependent ? CtxStart::Segment : CtxStart::Init;
}

// Whether the WPP storage takes the contexts after the CTU at raster address `rs`.
inline bool wpp_stores(const PicGeometry& g, const Pps& p, int rs) {
  const int rx = rs % g.w_ctb;
  return p.entropy_coding_sync && rx == g.col_bd[g.col_of_ctb_x[rx]] + 1;
}

// Whether the CTU at `ts` (not a segment's first) begins a new substream: a new tile, or a new
// CTU row of its tile with WPP.
inline bool substream_starts(const PicGeometry& g, const Pps& p, int ts) {
  const int rs = g.ts_to_rs[ts];
  const bool new_tile = p.tiles && g.tile_id[ts] != g.tile_id[ts - 1];
  const bool new_row =
      p.entropy_coding_sync && (rs % g.w_ctb == 0 || g.tile_id[ts] != g.tile_id_rs(rs - 1));
  return new_tile || new_row;
}

}  // namespace hevc
