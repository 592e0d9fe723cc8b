#include "sao_search.h"

#include <algorithm>
#include <cmath>
#include <limits>

#include "../dsp/dsp.h"
#include "../sao.h"

namespace hevc {

namespace {

constexpr int kMaxOffset = 7;  // (1 << (Min(bitDepth, 10) - 5)) - 1 for 8-bit video

struct Stats {
  int64_t count[32] = {0};
  int64_t sum[32] = {0};  // sum of (original - deblocked)
};

struct CtbStats {
  Stats band[3];
  Stats edge[3][4];
};

double delta_dist(const Stats& s, int cat, int o) {
  return static_cast<double>(s.count[cat]) * o * o - 2.0 * o * static_cast<double>(s.sum[cat]);
}

// Picks the offset of one category by RD, from the rounded mean towards zero.
int best_offset(const Stats& s, int cat, double lambda, bool band, int sign_constraint,
                double& cost) {
  cost = 0;
  if (s.count[cat] == 0) return 0;
  const double mean = static_cast<double>(s.sum[cat]) / static_cast<double>(s.count[cat]);
  int o = static_cast<int>(std::lround(mean));
  o = clip3(-kMaxOffset, kMaxOffset, o);
  if (sign_constraint > 0) o = std::max(o, 0);
  if (sign_constraint < 0) o = std::min(o, 0);
  int best_o = 0;
  double best = kInf;
  const int step = o > 0 ? -1 : 1;
  for (int v = o;; v += step) {
    const int a = std::abs(v);
    const double bits = a + (a < kMaxOffset ? 1 : 0) + (band && a ? 1 : 0);
    const double c = delta_dist(s, cat, v) + lambda * bits;
    if (c < best) {
      best = c;
      best_o = v;
    }
    if (v == 0) break;
  }
  cost = best;
  return best_o;
}

// Offsets and distortion change of a component's parameters given its statistics.
double params_dist(const CtbStats& st, int cidx, const SaoParams& sp) {
  const int t = sp.type[cidx];
  if (t == 0) return 0;
  double d = 0;
  if (t == 1) {
    for (int k = 0; k < 4; ++k)
      d += delta_dist(st.band[cidx], (sp.band_pos[cidx] + k) & 31, sp.offset[cidx][k]);
  } else {
    for (int k = 0; k < 4; ++k)
      d += delta_dist(st.edge[cidx][sp.eo_class[cidx]], k + 1, sp.offset[cidx][k]);
  }
  return d;
}

void derive_edge(const CtbStats& st, int cidx, int cls, double lambda, SaoParams& sp) {
  sp.type[cidx] = 2;
  sp.eo_class[cidx] = static_cast<uint8_t>(cls);
  for (int k = 0; k < 4; ++k) {
    double c;
    sp.offset[cidx][k] = static_cast<int8_t>(
        best_offset(st.edge[cidx][cls], k + 1, lambda, false, k < 2 ? 1 : -1, c));
  }
}

void derive_band(const CtbStats& st, int cidx, double lambda, SaoParams& sp) {
  double cost[32];
  int off[32];
  for (int b = 0; b < 32; ++b) off[b] = best_offset(st.band[cidx], b, lambda, true, 0, cost[b]);
  int best_pos = 0;
  double best = kInf;
  for (int p = 0; p < 32; ++p) {
    double c = 0;
    for (int k = 0; k < 4; ++k) c += cost[(p + k) & 31];
    if (c < best) {
      best = c;
      best_pos = p;
    }
  }
  sp.type[cidx] = 1;
  sp.band_pos[cidx] = static_cast<uint8_t>(best_pos);
  for (int k = 0; k < 4; ++k) sp.offset[cidx][k] = static_cast<int8_t>(off[(best_pos + k) & 31]);
}

}  // namespace

std::pair<bool, bool> sao_decide(EncPicture& pic, const Frame& deblocked, SliceState& st,
                                 const CnnPictureFlags* replaced) {
  CodingInfo& info = pic.info;
  const PicGeometry& g = info.geo();
  const Pps& pps = *pic.pps;
  ContextSet ctx;
  ctx.init(pic.type, false, pic.qp);
  CoeffSink sink{pic, {}};
  std::vector<CtbStats> all(g.num_ctb);
  bool any_luma = false, any_chroma = false;
  const double lambda[3] = {pic.rd.lambda, pic.rd.lambda / pic.rd.chroma_weight[1],
                            pic.rd.lambda / pic.rd.chroma_weight[2]};
  for (int ry = 0; ry < g.h_ctb; ++ry) {
    for (int rx = 0; rx < g.w_ctb; ++rx) {
      const int rs = ry * g.w_ctb + rx;
      st.ctb_addr_rs = rs;
      bool avail[9];
      sao_neighbours(pps, info, rx, ry, avail);
      CtbStats& cs = all[rs];
      for (int c = 0; c < 3; ++c) {
        const int sh = c ? 1 : 0;
        const Plane& rec = deblocked.planes[c];
        const Plane& org = pic.src.planes[c];
        const int x0 = (rx << g.ctb_log2) >> sh, y0 = (ry << g.ctb_log2) >> sh;
        const int w = std::min(g.ctb_size >> sh, rec.width - x0),
                  h = std::min(g.ctb_size >> sh, rec.height - y0);
        sao_visit(1, 0, rec, c, x0, y0, w, h, avail, nullptr, 0, [&](ptrdiff_t i, int b) {
          ++cs.band[c].count[b];
          cs.band[c].sum[b] += org.buf[i] - rec.buf[i];
        });
        for (int cls = 0; cls < 4; ++cls) {
          Stats& s = cs.edge[c][cls];
          sao_visit(
              2, cls, rec, c, x0, y0, w, h, avail, nullptr, 0,
              [&](ptrdiff_t i, int cat) {
                ++s.count[cat];
                s.sum[cat] += org.buf[i] - rec.buf[i];
              },
              [&](ptrdiff_t base, int xb, int xe, ptrdiff_t oa, ptrdiff_t ob) {
                dsp::kernels().sao.edge_stats(rec.buf.data() + base + xb,
                                              org.buf.data() + base + xb, xe - xb, oa, ob, s.count,
                                              s.sum);
              });
        }
      }
      // Distortion weight per component: zero where the CNN output replaces the component.
      double wgt[3] = {1.0, pic.rd.chroma_weight[1], pic.rd.chroma_weight[2]};
      if (replaced) {
        if (rs < static_cast<int>(replaced->luma.size()) && replaced->luma[rs]) wgt[0] = 0;
        if (rs < static_cast<int>(replaced->chroma.size()) && replaced->chroma[rs])
          wgt[1] = wgt[2] = 0;
      }
      auto bits_of = [&](const SaoParams& sp) {
        ContextSet c = ctx;
        CabacCounter cnt;
        CtuCoder<CabacCounter, CoeffSink> coder(cnt, c, sink, st);
        info.sao_[rs] = sp;
        coder.sao(rx, ry);
        return static_cast<double>(cnt.bits()) / kBitScale;
      };
      // New parameters: luma first (chroma off), then chroma with the chosen luma.
      SaoParams best_sp;
      double best_luma = kInf;
      if (st.sao_luma) {
        std::vector<SaoParams> cands(1);
        for (int cls = 0; cls < 4; ++cls) {
          SaoParams p;
          derive_edge(cs, 0, cls, lambda[0], p);
          cands.push_back(p);
        }
        SaoParams pb;
        derive_band(cs, 0, lambda[0], pb);
        cands.push_back(pb);
        for (const SaoParams& p : cands) {
          const double c = wgt[0] * params_dist(cs, 0, p) + lambda[0] * bits_of(p);
          if (c < best_luma) {
            best_luma = c;
            best_sp = p;
          }
        }
      }
      double best_total = best_luma == kInf ? 0 : best_luma;
      if (st.sao_chroma) {
        const double base_bits = bits_of(best_sp);
        std::vector<SaoParams> cands;
        SaoParams off = best_sp;
        cands.push_back(off);
        for (int cls = 0; cls < 4; ++cls) {
          SaoParams p = best_sp;
          derive_edge(cs, 1, cls, lambda[1], p);
          derive_edge(cs, 2, cls, lambda[2], p);
          cands.push_back(p);
        }
        SaoParams pb = best_sp;
        derive_band(cs, 1, lambda[1], pb);
        derive_band(cs, 2, lambda[2], pb);
        cands.push_back(pb);
        double best_c = kInf;
        SaoParams chosen = best_sp;
        for (const SaoParams& p : cands) {
          const double c = wgt[1] * params_dist(cs, 1, p) + wgt[2] * params_dist(cs, 2, p) +
                           lambda[0] * (bits_of(p) - base_bits);
          if (c < best_c) {
            best_c = c;
            chosen = p;
          }
        }
        best_sp = chosen;
        best_total += best_c;
      }
      // Merge candidates.
      auto merge_cost = [&](const SaoParams& nb, bool left) {
        SaoParams m = nb;
        m.merge_left = left;
        m.merge_up = !left;
        double d = 0;
        for (int c = 0; c < 3; ++c) d += params_dist(cs, c, m) * wgt[c];
        return std::make_pair(d + lambda[0] * bits_of(m), m);
      };
      SaoParams chosen = best_sp;
      double chosen_cost = best_total;
      if (rx > 0 && rs > info.ctb_slice_[rs] && g.tile_id_rs(rs) == g.tile_id_rs(rs - 1)) {
        auto [c, m] = merge_cost(info.sao_[rs - 1], true);
        if (c < chosen_cost) {
          chosen_cost = c;
          chosen = m;
        }
      }
      if (ry > 0 && rs - g.w_ctb >= info.ctb_slice_[rs] &&
          g.tile_id_rs(rs) == g.tile_id_rs(rs - g.w_ctb)) {
        auto [c, m] = merge_cost(info.sao_[rs - g.w_ctb], false);
        if (c < chosen_cost) {
          chosen_cost = c;
          chosen = m;
        }
      }
      info.sao_[rs] = chosen;
      {
        CabacCounter cnt;
        CtuCoder<CabacCounter, CoeffSink> coder(cnt, ctx, sink, st);
        coder.sao(rx, ry);
      }
      any_luma |= chosen.type[0] != 0;
      any_chroma |= chosen.type[1] != 0 || chosen.type[2] != 0;
    }
  }
  return {any_luma, any_chroma};
}

uint64_t sao_bits(EncPicture& pic, SliceState& st) {
  const PicGeometry& g = pic.info.geo();
  ContextSet ctx;
  ctx.init(pic.type, false, pic.qp);
  CoeffSink sink{pic, {}};
  CabacCounter cnt;
  CtuCoder<CabacCounter, CoeffSink> coder(cnt, ctx, sink, st);
  for (int rs = 0; rs < g.num_ctb; ++rs) {
    st.ctb_addr_rs = rs;
    coder.sao(rs % g.w_ctb, rs / g.w_ctb);
  }
  return cnt.bits();
}

}  // namespace hevc
