#include "mv_derive.h"

#include <algorithm>
#include <cstdlib>

namespace hevc {

namespace {

Mv scale_mv(Mv mv, int td, int tb) {
  td = std::clamp(td, -128, 127);
  tb = std::clamp(tb, -128, 127);
  if (td == 0) return mv;  // only in a corrupt stream: a picture referring to its own POC
  const int tx = (16384 + (std::abs(td) >> 1)) / td;
  const int f = std::clamp((tb * tx + 32) >> 6, -4096, 4095);
  auto s = [f](int v) {
    const int p = f * v;
    const int a = (std::abs(p) + 127) >> 8;
    return static_cast<int16_t>(std::clamp(p < 0 ? -a : a, -32768, 32767));
  };
  return Mv{s(mv.x), s(mv.y)};
}

// Availability of a neighbouring prediction block (6.4.2).
bool pb_available(const MvContext& c, const PbPos& pb, int xn, int yn) {
  const bool same_cb =
      pb.x_cb <= xn && xn < pb.x_cb + pb.n_cb && pb.y_cb <= yn && yn < pb.y_cb + pb.n_cb;
  bool avail;
  if (!same_cb)
    avail = c.info->available(pb.x, pb.y, xn, yn);
  else
    avail = !((pb.w << 1) == pb.n_cb && (pb.h << 1) == pb.n_cb && pb.part_idx == 1 &&
              pb.y_cb + pb.h <= yn && pb.x_cb + pb.w > xn);
  return avail && c.motion->at(xn, yn).is_inter();
}

// Collocated motion vector of list X for reference index ref_idx (8.5.3.2.8 / 8.5.3.2.9).
bool col_mv_at(const MvContext& c, int X, int ref_idx, int xcol, int ycol, Mv& out) {
  const MvField& m = c.col->motion->at((xcol >> 4) << 4, (ycol >> 4) << 4);
  if (!m.is_inter()) return false;
  int list;
  if (!m.pred(0))
    list = 1;
  else if (!m.pred(1))
    list = 0;
  else
    list = c.no_backward_pred ? X : c.col_from_l0;
  const bool cur_lt = c.refs->lt[X][ref_idx];
  const bool col_lt = (m.lt >> list) & 1;
  if (cur_lt != col_lt) return false;
  const int col_diff = c.col->poc - m.ref_poc[list];
  const int cur_diff = c.cur_poc - c.refs->poc[X][ref_idx];
  out = (cur_lt || col_diff == cur_diff) ? m.mv[list] : scale_mv(m.mv[list], col_diff, cur_diff);
  return true;
}

bool temporal_mv(const MvContext& c, const PbPos& pb, int X, int ref_idx, Mv& out) {
  if (!c.col) return false;
  const int ctb_log2 = c.info->geo().ctb_log2;
  const int xbr = pb.x + pb.w, ybr = pb.y + pb.h;
  if ((pb.y >> ctb_log2) == (ybr >> ctb_log2) && ybr < c.info->geo().height &&
      xbr < c.info->geo().width && col_mv_at(c, X, ref_idx, xbr, ybr, out))
    return true;
  return col_mv_at(c, X, ref_idx, pb.x + (pb.w >> 1), pb.y + (pb.h >> 1), out);
}

}  // namespace

void MvContext::derive_flags() {
  no_backward_pred = true;
  for (int l = 0; l < 2; ++l)
    for (int i = 0; i < refs->num[l]; ++i)
      if (refs->poc[l][i] > cur_poc) no_backward_pred = false;
}

MvField merge_candidate(const MvContext& c, PbPos pb, int merge_idx) {
  const int orig_w = pb.w, orig_h = pb.h;
  if (c.log2_par_mrg_level > 2 && pb.n_cb == 8) {
    pb.x = pb.x_cb;
    pb.y = pb.y_cb;
    pb.w = pb.h = pb.n_cb;
    pb.part_idx = 0;
  }
  int n = 0;
  const int lvl = c.log2_par_mrg_level;
  auto same_region = [&](int xn, int yn) {
    return (pb.x >> lvl) == (xn >> lvl) && (pb.y >> lvl) == (yn >> lvl);
  };
  auto get = [&](int xn, int yn, bool excluded, const MvField** out) {
    *out = nullptr;
    if (excluded || same_region(xn, yn) || !pb_available(c, pb, xn, yn)) return false;
    *out = &c.motion->at(xn, yn);
    return true;
  };
  const int pm = pb.part_mode;
  const MvField *a1, *b1, *b0, *a0, *b2;
  // availableN (after the exclusions) decides the pruning comparisons; availableFlagN (after
  // pruning) whether the candidate is in the list.
  const bool va1 =
      get(pb.x - 1, pb.y + pb.h - 1, (pm == 2 || pm == 6 || pm == 7) && pb.part_idx == 1, &a1);
  const bool vb1 =
      get(pb.x + pb.w - 1, pb.y - 1, (pm == 1 || pm == 4 || pm == 5) && pb.part_idx == 1, &b1);
  const bool vb0 = get(pb.x + pb.w, pb.y - 1, false, &b0);
  const bool va0 = get(pb.x - 1, pb.y + pb.h, false, &a0);
  const bool vb2 = get(pb.x - 1, pb.y - 1, false, &b2);
  const bool fa1 = va1;
  const bool fb1 = vb1 && !(va1 && a1->same_motion(*b1));
  const bool fb0 = vb0 && !(vb1 && b1->same_motion(*b0));
  const bool fa0 = va0 && !(va1 && a1->same_motion(*a0));
  const bool fb2 = vb2 && !(va1 && a1->same_motion(*b2)) && !(vb1 && b1->same_motion(*b2)) &&
                   fa0 + fa1 + fb0 + fb1 != 4;
  MvField list[5 + 1 + 20];
  if (fa1) list[n++] = *a1;
  if (fb1) list[n++] = *b1;
  if (fb0) list[n++] = *b0;
  if (fa0) list[n++] = *a0;
  if (fb2) list[n++] = *b2;
  // 8.5.3.2.2: bi-prediction of 8x4 and 4x8 blocks is turned into list 0 prediction.
  auto pick = [&](int i) {
    MvField out = list[i];
    if (out.pred(0) && out.pred(1) && orig_w + orig_h == 12) out.ref_idx[1] = -1;
    return out;
  };
  if (merge_idx < n) return pick(merge_idx);  // later candidates cannot change earlier ones
  {
    // Temporal candidate (refIdxLXCol = 0).
    MvField col;
    Mv mv;
    if (temporal_mv(c, pb, 0, 0, mv)) {
      col.ref_idx[0] = 0;
      col.mv[0] = mv;
    }
    if (c.b_slice && temporal_mv(c, pb, 1, 0, mv)) {
      col.ref_idx[1] = 0;
      col.mv[1] = mv;
    }
    if (col.is_inter()) list[n++] = col;
  }
  const int orig = n;
  if (c.b_slice && orig > 1 && orig < c.max_merge_cand) {
    static const int l0i[12] = {0, 1, 0, 2, 1, 2, 0, 3, 1, 3, 2, 3};
    static const int l1i[12] = {1, 0, 2, 0, 2, 1, 3, 0, 3, 1, 3, 2};
    for (int k = 0; k < orig * (orig - 1) && n < c.max_merge_cand; ++k) {
      const MvField& p0 = list[l0i[k]];
      const MvField& p1 = list[l1i[k]];
      if (!p0.pred(0) || !p1.pred(1)) continue;
      if (c.refs->poc[0][p0.ref_idx[0]] == c.refs->poc[1][p1.ref_idx[1]] && p0.mv[0] == p1.mv[1])
        continue;
      MvField m;
      m.ref_idx[0] = p0.ref_idx[0];
      m.mv[0] = p0.mv[0];
      m.ref_idx[1] = p1.ref_idx[1];
      m.mv[1] = p1.mv[1];
      list[n++] = m;
    }
  }
  const int num_ref = c.b_slice ? std::min(c.refs->num[0], c.refs->num[1]) : c.refs->num[0];
  for (int zero = 0; n < c.max_merge_cand; ++zero) {
    MvField m;
    const int r = zero < num_ref ? zero : 0;
    m.ref_idx[0] = static_cast<int8_t>(r);
    if (c.b_slice) m.ref_idx[1] = static_cast<int8_t>(r);
    list[n++] = m;
  }
  return pick(merge_idx);
}

void amvp_candidates(const MvContext& c, const PbPos& pb, int X, int ref_idx, Mv out[2]) {
  const int Y = 1 - X;
  const int target_poc = c.refs->poc[X][ref_idx];
  const bool target_lt = c.refs->lt[X][ref_idx];
  // First pass: a neighbour referring to the same picture, unscaled.
  auto same_pic = [&](const MvField& m, Mv& mv) {
    if (m.pred(X) && m.ref_poc[X] == target_poc && ((m.lt >> X) & 1) == target_lt) {
      mv = m.mv[X];
      return true;
    }
    if (m.pred(Y) && m.ref_poc[Y] == target_poc && ((m.lt >> Y) & 1) == target_lt) {
      mv = m.mv[Y];
      return true;
    }
    return false;
  };
  // Second pass: any neighbour with the same long-term marking, scaled when short-term.
  auto scaled = [&](const MvField& m, Mv& mv) {
    for (int l : {X, Y}) {
      if (!m.pred(l) || (((m.lt >> l) & 1) != 0) != target_lt) continue;
      mv = m.mv[l];
      if (!target_lt) mv = scale_mv(mv, c.cur_poc - m.ref_poc[l], c.cur_poc - target_poc);
      return true;
    }
    return false;
  };
  const int ax[2] = {pb.x - 1, pb.x - 1}, ay[2] = {pb.y + pb.h, pb.y + pb.h - 1};
  const int bx[3] = {pb.x + pb.w, pb.x + pb.w - 1, pb.x - 1},
            by[3] = {pb.y - 1, pb.y - 1, pb.y - 1};
  bool av_a[2], av_b[3];
  for (int k = 0; k < 2; ++k) av_a[k] = pb_available(c, pb, ax[k], ay[k]);
  for (int k = 0; k < 3; ++k) av_b[k] = pb_available(c, pb, bx[k], by[k]);
  const bool is_scaled = av_a[0] || av_a[1];
  bool have_a = false, have_b = false;
  Mv mva, mvb;
  for (int k = 0; k < 2 && !have_a; ++k)
    if (av_a[k]) have_a = same_pic(c.motion->at(ax[k], ay[k]), mva);
  for (int k = 0; k < 2 && !have_a; ++k)
    if (av_a[k]) have_a = scaled(c.motion->at(ax[k], ay[k]), mva);
  for (int k = 0; k < 3 && !have_b; ++k)
    if (av_b[k]) have_b = same_pic(c.motion->at(bx[k], by[k]), mvb);
  if (!is_scaled && have_b) {
    mva = mvb;
    have_a = true;
  }
  if (!is_scaled) {
    have_b = false;
    for (int k = 0; k < 3 && !have_b; ++k)
      if (av_b[k]) have_b = scaled(c.motion->at(bx[k], by[k]), mvb);
  }
  int n = 0;
  if (have_a) out[n++] = mva;
  if (have_b && !(have_a && mva == mvb)) out[n++] = mvb;
  if (n < 2) {
    Mv col;
    if (temporal_mv(c, pb, X, ref_idx, col)) out[n++] = col;
  }
  while (n < 2) out[n++] = Mv{};
}

}  // namespace hevc
