// Sample adaptive offset (H.265 8.7.3), applied to a whole deblocked picture.
#pragma once

#include <cstddef>
#include <type_traits>

#include "dsp/sao_edge.h"
#include "params.h"
#include "picture.h"

namespace hevc {

// Applies the SAO parameters stored in `info` to `pic`, reading neighbours from `deblocked`
// (a copy of `pic` taken before SAO).
void sao_picture(const Sps& sps, const Pps& pps, const CodingInfo& info, const Frame& deblocked,
                 Frame& pic);

// Visits every sample of one CTB block that SAO type `type` (1 band, 2 edge) may modify and
// calls f(i, category) with the sample's index y * stride + x in `src` (planes of one frame
// share their stride) and the band index (0..31) or the edge category (0 = none, 1..4).
// Applying SAO and gathering the encoder's statistics both go through this classification.
// With `run`, the inside of each edge-offset row (where no check is needed) goes to
// run(row_index, x_begin, x_end, oa, ob) instead of per-sample calls; oa/ob are the index
// offsets of the two neighbours.
struct NoRun {
  void operator()(ptrdiff_t, int, int, ptrdiff_t, ptrdiff_t) const {}
};
template <class F, class Run = NoRun>
void sao_visit(int type, int eo_class, const Plane& src, int cidx, int x0, int y0, int w, int h,
               const bool avail[9], const uint8_t* skip_mask, int mask_stride, F&& f,
               Run&& run = NoRun()) {
  constexpr bool use_run = !std::is_same_v<std::decay_t<Run>, NoRun>;
  static const int kH[4][2] = {{-1, 1}, {0, 0}, {-1, 1}, {1, -1}};
  static const int kV[4][2] = {{0, 0}, {-1, 1}, {-1, 1}, {-1, 1}};
  const int sh = cidx ? 1 : 0;
  auto skipped = [&](int x, int y) {
    return skip_mask &&
           skip_mask[static_cast<size_t>((y << sh) >> 2) * mask_stride + ((x << sh) >> 2)];
  };
  if (type == 1) {
    for (int y = y0; y < y0 + h; ++y) {
      const Pel* s = src.row(y);
      const ptrdiff_t base = static_cast<ptrdiff_t>(y) * src.stride;
      for (int x = x0; x < x0 + w; ++x)
        if (!skipped(x, y)) f(base + x, s[x] >> 3);
    }
    return;
  }
  const int ha = kH[eo_class][0], hb = kH[eo_class][1], va = kV[eo_class][0], vb = kV[eo_class][1];
  auto nb_ok = [&](int x, int y) {
    if (x < 0 || y < 0 || x >= src.width || y >= src.height) return false;
    const int dx = x < x0 ? -1 : (x >= x0 + w ? 1 : 0);
    const int dy = y < y0 ? -1 : (y >= y0 + h ? 1 : 0);
    return avail[(dy + 1) * 3 + dx + 1];
  };
  const ptrdiff_t oa = static_cast<ptrdiff_t>(va) * src.stride + ha;
  const ptrdiff_t ob = static_cast<ptrdiff_t>(vb) * src.stride + hb;
  for (int y = y0; y < y0 + h; ++y) {
    const bool row_inner = y - 1 >= y0 && y + 1 < y0 + h;
    const Pel* s = src.row(y);
    const ptrdiff_t base = static_cast<ptrdiff_t>(y) * src.stride;
    auto visit = [&](int x) {
      const int c = s[x], a = s[x + oa], b = s[x + ob];
      f(base + x, sao_edge_cat(c, a, b));
    };
    // Between the row's ends the neighbours lie in the CTBs straight above, beside or below:
    // one check at the first of them holds for all (the top and bottom rows included).
    const bool run_ok =
        row_inner || (w > 2 && nb_ok(x0 + 1 + ha, y + va) && nb_ok(x0 + 1 + hb, y + vb));
    if (run_ok && !skip_mask && w > 2) {
      // Only the row's ends need checks.
      if (nb_ok(x0 + ha, y + va) && nb_ok(x0 + hb, y + vb)) visit(x0);
      if constexpr (use_run)
        run(base, x0 + 1, x0 + w - 1, oa, ob);
      else
        for (int x = x0 + 1; x < x0 + w - 1; ++x) visit(x);
      const int xe = x0 + w - 1;
      if (nb_ok(xe + ha, y + va) && nb_ok(xe + hb, y + vb)) visit(xe);
      continue;
    }
    for (int x = x0; x < x0 + w; ++x) {
      const bool inner = row_inner && x - 1 >= x0 && x + 1 < x0 + w;
      if (!inner && (!nb_ok(x + ha, y + va) || !nb_ok(x + hb, y + vb))) continue;
      if (skipped(x, y)) continue;
      visit(x);
    }
  }
}

// Applies SAO to one CTB of one component; shared with the encoder's SAO decision.
// `avail` holds usability of the 8 neighbouring CTBs (row-major 3x3 without the centre:
// index = (dy + 1) * 3 + (dx + 1)).
void sao_ctb(const SaoParams& sp, int cidx, const Plane& src, Plane& dst, int x0, int y0, int w,
             int h, const bool avail[9], const uint8_t* skip_mask, int mask_stride);

// Which neighbouring CTBs SAO may read across (slice and tile rules).
void sao_neighbours(const Pps& pps, const CodingInfo& info, int rx, int ry, bool avail[9]);

}  // namespace hevc
