#include "sao.h"

#include <algorithm>

#include "dsp/dsp.h"

namespace hevc {

void sao_neighbours(const Pps& pps, const CodingInfo& info, int rx, int ry, bool avail[9]) {
  const PicGeometry& g = info.geo();
  const int cur = ry * g.w_ctb + rx;
  const int cur_ts = g.rs_to_ts[cur];
  const SliceFilterInfo& sc = info.slice_filters_[info.ctb_filter_idx_[cur]];
  for (int dy = -1; dy <= 1; ++dy) {
    for (int dx = -1; dx <= 1; ++dx) {
      bool& a = avail[(dy + 1) * 3 + dx + 1];
      const int nx = rx + dx, ny = ry + dy;
      a = nx >= 0 && ny >= 0 && nx < g.w_ctb && ny < g.h_ctb;
      if (!a || (dx == 0 && dy == 0)) continue;
      const int nb = ny * g.w_ctb + nx;
      if (info.ctb_slice_[nb] < 0) {
        a = false;
        continue;
      }
      if (info.ctb_slice_[nb] != info.ctb_slice_[cur]) {
        const SliceFilterInfo& sn = info.slice_filters_[info.ctb_filter_idx_[nb]];
        const bool nb_earlier = g.rs_to_ts[nb] < cur_ts;
        if ((nb_earlier && !sc.lf_across_slices) || (!nb_earlier && !sn.lf_across_slices))
          a = false;
      }
      if (!pps.loop_filter_across_tiles && g.tile_id_rs(nb) != g.tile_id_rs(cur)) a = false;
    }
  }
}

void sao_ctb(const SaoParams& sp, int cidx, const Plane& src, Plane& dst, int x0, int y0, int w,
             int h, const bool avail[9], const uint8_t* skip_mask, int mask_stride) {
  const int type = sp.type[cidx];
  if (type == 0) return;
  const int8_t* off = sp.offset[cidx];
  int table[32] = {0};
  if (type == 1) {
    for (int k = 0; k < 4; ++k) table[(k + sp.band_pos[cidx]) & 31] = off[k];
    if (!skip_mask) {
      // Band offset as a table of every sample value: one lookup a sample.
      Pel lut[256];
      for (int v = 0; v < 256; ++v) lut[v] = static_cast<Pel>(clip_pel(v + table[v >> 3]));
      for (int y = y0; y < y0 + h; ++y) {
        const Pel* s = src.row(y) + x0;
        Pel* d = dst.row(y) + x0;
        for (int x = 0; x < w; ++x) d[x] = lut[s[x]];
      }
      return;
    }
  } else {
    for (int k = 0; k < 4; ++k) table[k + 1] = off[k];
  }
  sao_visit(
      type, sp.eo_class[cidx], src, cidx, x0, y0, w, h, avail, skip_mask, mask_stride,
      [&](ptrdiff_t i, int cat) {
        dst.buf[i] = static_cast<Pel>(clip_pel(src.buf[i] + table[cat]));
      },
      [&](ptrdiff_t base, int xb, int xe, ptrdiff_t oa, ptrdiff_t ob) {
        dsp::kernels().sao.edge_apply(src.buf.data() + base + xb, dst.buf.data() + base + xb,
                                      xe - xb, oa, ob, table);
      });
}

void sao_picture(const Sps& sps, const Pps& pps, const CodingInfo& info, const Frame& deblocked,
                 Frame& pic) {
  const PicGeometry& g = info.geo();
  // Samples of PCM (with pcm_loop_filter_disabled) and bypass CUs keep their values.
  std::vector<uint8_t> mask;
  bool any_skip = false;
  const bool may_skip = pps.transquant_bypass || (sps.pcm && sps.pcm_loop_filter_disabled);
  for (int y = 0; may_skip && y < info.h4(); ++y)
    for (int x = 0; x < info.w4(); ++x) {
      const BlockInfo& b = info.blk(x * 4, y * 4);
      if ((b.flags & kBfBypass) || ((b.flags & kBfPcm) && sps.pcm_loop_filter_disabled))
        any_skip = true;
    }
  if (any_skip) {
    mask.assign(static_cast<size_t>(info.w4()) * info.h4(), 0);
    for (int y = 0; y < info.h4(); ++y)
      for (int x = 0; x < info.w4(); ++x) {
        const BlockInfo& b = info.blk(x * 4, y * 4);
        mask[static_cast<size_t>(y) * info.w4() + x] =
            (b.flags & kBfBypass) || ((b.flags & kBfPcm) && sps.pcm_loop_filter_disabled);
      }
  }
  for (int ry = 0; ry < g.h_ctb; ++ry) {
    for (int rx = 0; rx < g.w_ctb; ++rx) {
      const int rs = ry * g.w_ctb + rx;
      if (info.ctb_slice_[rs] < 0) continue;
      const SaoParams& sp = info.sao_[rs];
      if (!sp.type[0] && !sp.type[1] && !sp.type[2]) continue;
      bool avail[9];
      sao_neighbours(pps, info, rx, ry, avail);
      for (int c = 0; c < 3; ++c) {
        const int sh = c ? 1 : 0;
        const int x0 = (rx << g.ctb_log2) >> sh, y0 = (ry << g.ctb_log2) >> sh;
        const Plane& src = deblocked.planes[c];
        const int w = std::min(g.ctb_size >> sh, src.width - x0);
        const int h = std::min(g.ctb_size >> sh, src.height - y0);
        sao_ctb(sp, c, src, pic.planes[c], x0, y0, w, h, avail, any_skip ? mask.data() : nullptr,
                info.w4());
      }
    }
  }
}

}  // namespace hevc
