#include "motion_search.h"

#include <algorithm>
#include <cstdlib>
#include <cstring>

#include "../dsp/dsp.h"
#include "../inter_pred.h"
#include "rdcost.h"

namespace hevc {

namespace {

// Bits of an Exp-Golomb code of order k.
int exp_golomb_bits(uint32_t n, int k) {
  int len = 0;
  while (n >= (1u << k)) {
    n -= 1u << k;
    ++k;
    ++len;
  }
  return len + 1 + k;
}

int component_bits(int v) {
  const int a = std::abs(v);
  if (a == 0) return 1;
  // abs_mvd_greater0/1 flags, the sign, and abs_mvd_minus2 in EG1.
  return 2 + 1 + (a > 1 ? exp_golomb_bits(static_cast<uint32_t>(a - 2), 1) : 0);
}

// The search asks for these bits at every position it visits: a table of every |component|
// an int16 can hold.
const uint8_t* component_bits_table() {
  static const std::vector<uint8_t> table = [] {
    std::vector<uint8_t> t(32769);
    for (int a = 0; a <= 32768; ++a) t[a] = static_cast<uint8_t>(component_bits(a));
    return t;
  }();
  return table.data();
}

}  // namespace

int mvd_bits(Mv d) {
  static const uint8_t* t = component_bits_table();
  return t[std::abs(d.x)] + t[std::abs(d.y)];
}

namespace {

Mv minus(Mv a, Mv b) {
  return Mv{static_cast<int16_t>(a.x - b.x), static_cast<int16_t>(a.y - b.y)};
}

// The MVD bits of `q` (quarter samples) against the better of the two AMVP predictors.
int mvp_bits(Mv q, const Mv pred[2]) {
  return std::min(mvd_bits(minus(q, pred[0])), mvd_bits(minus(q, pred[1])));
}

}  // namespace

void PaddedLuma::build(const Plane& p) {
  width = p.width;
  height = p.height;
  stride = width + 2 * kMargin;
  buf.resize(static_cast<size_t>(stride) * (height + 2 * kMargin));
  for (int y = -kMargin; y < height + kMargin; ++y) {
    const Pel* s = p.row(std::clamp(y, 0, height - 1));
    Pel* d = const_cast<Pel*>(at(0, y));
    std::memcpy(d, s, static_cast<size_t>(width));
    std::memset(d - kMargin, s[0], kMargin);
    std::memset(d + width, s[width - 1], kMargin);
  }
}

MotionSearch::MotionSearch(EncPicture& pic, const EncoderConfig& cfg) : pic_(pic), cfg_(cfg) {
  for (int l = 0; l < 2; ++l)
    for (int i = 0; i < pic.refs.num[l]; ++i) {
      const Frame* f = pic.ref_frame(l, i);
      if (!padded_.count(f)) padded_[f].build(f->planes[0]);
    }
  scratch_.planes[0].alloc(pic.rec.planes[0].width, pic.rec.planes[0].height);
}

uint32_t MotionSearch::sad_at(const PaddedLuma& ref, int x, int y, int w, int h, Mv v) const {
  const Plane& src = pic_.src.planes[0];
  return block_sad(src.row(y) + x, src.stride, ref.at(x + v.x, y + v.y), ref.stride, w, h);
}

uint32_t MotionSearch::pred_dist(const PbPos& pb, const MvField& m, bool hadamard) {
  const Frame* ref[2] = {nullptr, nullptr};
  for (int l = 0; l < 2; ++l)
    if (m.pred(l)) ref[l] = pic_.ref_frame(l, m.ref_idx[l]);
  predict_inter(ref, m, pb.x, pb.y, pb.w, pb.h, pic_.weights, scratch_, 1);
  return scratch_dist(pb, hadamard);
}

uint32_t MotionSearch::scratch_dist(const PbPos& pb, bool hadamard) const {
  const Plane& src = pic_.src.planes[0];
  const Plane& p = scratch_.planes[0];
  if (!hadamard)
    return block_sad(src.row(pb.y) + pb.x, src.stride, p.row(pb.y) + pb.x, p.stride, pb.w, pb.h);
  // SATD over the largest square blocks that tile the prediction block: a power of two that
  // divides both sides (an AMP block such as 32x24 or 64x48 has no square tile of its short
  // side), so no tile reads outside the block or the picture.
  const int n = std::min({pb.w & -pb.w, pb.h & -pb.h, 32});
  uint32_t sum = 0;
  for (int j = 0; j < pb.h; j += n)
    for (int i = 0; i < pb.w; i += n)
      sum += satd_block(src.row(pb.y + j) + pb.x + i, src.stride, p.row(pb.y + j) + pb.x + i,
                        p.stride, n);
  return sum;
}

uint32_t MotionSearch::bi_dist_kept(const PbPos& pb, int list, int ref_idx, Mv v) {
  // The other list's 14-bit prediction is in other14_; averaging is symmetric, as predict_inter
  // does it without weights (the encoder never weights).
  predict_component(pic_.ref_frame(list, ref_idx)->planes[0], 0, v, pb.x, pb.y, pb.w, pb.h,
                    this14_.data());
  Plane& p = scratch_.planes[0];
  dsp::kernels().inter.avg_bi(this14_.data(), other14_.data(), pb.w, pb.h, p.row(pb.y) + pb.x,
                              p.stride);
  return scratch_dist(pb, cfg_.hadamard_me);
}

uint32_t MotionSearch::bi_cost(const PbPos& pb, const MvField& m) {
  return pred_dist(pb, m, cfg_.hadamard_me);
}

MeResult MotionSearch::search(const PbPos& pb, int list, int ref_idx, int ref_bits) {
  Mv pred[2];
  amvp_candidates(pic_.mvc, pb, list, ref_idx, pred);
  const PaddedLuma& ref = padded_.at(pic_.ref_frame(list, ref_idx));
  const double sl = pic_.rd.sqrt_lambda;
  const int W = ref.width, H = ref.height, m = PaddedLuma::kMargin - 8;
  // Integer positions keep the block inside the padded margin.
  auto clamp_int = [&](Mv v) {
    v.x = static_cast<int16_t>(std::clamp<int>(v.x, -m - pb.x, W + m - pb.w - pb.x));
    v.y = static_cast<int16_t>(std::clamp<int>(v.y, -m - pb.y, H + m - pb.h - pb.y));
    return v;
  };
  auto int_cost = [&](Mv v) {
    const Mv q{static_cast<int16_t>(v.x * 4), static_cast<int16_t>(v.y * 4)};
    return sad_at(ref, pb.x, pb.y, pb.w, pb.h, v) + sl * mvp_bits(q, pred);
  };
  // The window is centred on the first predictor, as the reference encoder does.
  const Mv centre = clamp_int(
      Mv{static_cast<int16_t>((pred[0].x + 2) >> 2), static_cast<int16_t>((pred[0].y + 2) >> 2)});
  const int range = cfg_.search_range;
  auto in_window = [&](Mv v) {
    return std::abs(v.x - centre.x) <= range && std::abs(v.y - centre.y) <= range;
  };
  Mv best = centre;
  double best_cost = int_cost(best);
  auto consider = [&](Mv v) {
    v = clamp_int(v);
    if (!in_window(v)) return false;
    const double c = int_cost(v);
    if (c < best_cost) {
      best_cost = c;
      best = v;
      return true;
    }
    return false;
  };
  consider(clamp_int(
      Mv{static_cast<int16_t>((pred[1].x + 2) >> 2), static_cast<int16_t>((pred[1].y + 2) >> 2)}));
  consider(Mv{});
  if (!cfg_.fast_search) {
    const Mv c0 = best;
    for (int dy = -range; dy <= range; ++dy)
      for (int dx = -range; dx <= range; ++dx)
        consider(Mv{static_cast<int16_t>(centre.x + dx), static_cast<int16_t>(centre.y + dy)});
    (void)c0;
  } else {
    // Expanding diamonds from the best start, then again from each new best until the best lies
    // next to the start point; a raster pass when the best moved far.
    for (int round = 0; round < 8; ++round) {
      const Mv start = best;
      int best_dist = 0;
      for (int d = 1; d <= range; d *= 2) {
        const int h = std::max(1, d / 2);
        const Mv pts[8] = {{static_cast<int16_t>(start.x), static_cast<int16_t>(start.y - d)},
                           {static_cast<int16_t>(start.x - d), static_cast<int16_t>(start.y)},
                           {static_cast<int16_t>(start.x + d), static_cast<int16_t>(start.y)},
                           {static_cast<int16_t>(start.x), static_cast<int16_t>(start.y + d)},
                           {static_cast<int16_t>(start.x - h), static_cast<int16_t>(start.y - h)},
                           {static_cast<int16_t>(start.x + h), static_cast<int16_t>(start.y - h)},
                           {static_cast<int16_t>(start.x - h), static_cast<int16_t>(start.y + h)},
                           {static_cast<int16_t>(start.x + h), static_cast<int16_t>(start.y + h)}};
        const int npts = d == 1 ? 4 : 8;
        for (int k = 0; k < npts; ++k)
          if (consider(pts[k])) best_dist = d;
      }
      if (round == 0 && best_dist > 5) {
        const int step = 5;
        for (int dy = -range; dy <= range; dy += step)
          for (int dx = -range; dx <= range; dx += step)
            consider(Mv{static_cast<int16_t>(centre.x + dx), static_cast<int16_t>(centre.y + dy)});
      }
      if (best_dist <= 1 && best.x == start.x && best.y == start.y) break;
    }
    // A last look at the eight neighbours.
    const Mv c = best;
    for (int dy = -1; dy <= 1; ++dy)
      for (int dx = -1; dx <= 1; ++dx)
        if (dx || dy) consider(Mv{static_cast<int16_t>(c.x + dx), static_cast<int16_t>(c.y + dy)});
  }
  // Half, then quarter samples around the best (prediction distortion: SATD or SAD).
  MvField f;
  f.ref_idx[list] = static_cast<int8_t>(ref_idx);
  uint32_t dist = 0;
  const Mv q = refine_fraction(
      pb, f, list, Mv{static_cast<int16_t>(best.x * 4), static_cast<int16_t>(best.y * 4)}, pred,
      dist);
  return result(q, pred, dist, ref_bits);
}

Mv MotionSearch::refine_fraction(const PbPos& pb, MvField& f, int list, Mv q, const Mv pred[2],
                                 uint32_t& dist, bool other_kept) {
  const double sl = pic_.rd.sqrt_lambda;
  auto frac_cost = [&](Mv v, uint32_t& d) {
    f.mv[list] = v;
    d = other_kept ? bi_dist_kept(pb, list, f.ref_idx[list], v)
                   : pred_dist(pb, f, cfg_.hadamard_me);
    return d + sl * mvp_bits(v, pred);
  };
  double qcost = frac_cost(q, dist);
  for (int step = 2; step >= 1; step /= 2) {
    const Mv c = q;
    for (int dy = -step; dy <= step; dy += step)
      for (int dx = -step; dx <= step; dx += step) {
        if (!dx && !dy) continue;
        const Mv v{static_cast<int16_t>(c.x + dx), static_cast<int16_t>(c.y + dy)};
        uint32_t d = 0;
        const double cst = frac_cost(v, d);
        if (cst < qcost) {
          qcost = cst;
          q = v;
          dist = d;
        }
      }
  }
  f.mv[list] = q;
  return q;
}

MeResult MotionSearch::result(Mv q, const Mv pred[2], uint32_t dist, int ref_bits) const {
  MeResult r;
  r.mv = q;
  const Mv d0 = minus(q, pred[0]), d1 = minus(q, pred[1]);
  r.mvp = mvd_bits(d1) < mvd_bits(d0) ? 1 : 0;
  r.mvd = r.mvp ? d1 : d0;
  r.bits = mvd_bits(r.mvd) + 1 + ref_bits;
  r.dist = dist;
  r.cost = dist + pic_.rd.sqrt_lambda * r.bits;
  return r;
}

MeResult MotionSearch::refine_bi(const PbPos& pb, int list, int nrefs, const Mv* starts,
                                 const int* ref_bits, const MvField& m, int& ref_out) {
  // The other list's 14-bit prediction, made once: the target below and the fractional
  // refinement's bi-predictions use it. The bi-prediction's error is half of target - this
  // list's prediction.
  const int ol = list ^ 1;
  other14_.resize(static_cast<size_t>(pb.w) * pb.h);
  this14_.resize(other14_.size());
  predict_component(pic_.ref_frame(ol, m.ref_idx[ol])->planes[0], 0, m.mv[ol], pb.x, pb.y, pb.w,
                    pb.h, other14_.data());
  Plane& po = scratch_.planes[0];
  dsp::kernels().inter.avg_uni(other14_.data(), pb.w, pb.h, po.row(pb.y) + pb.x, po.stride);
  const Plane& src = pic_.src.planes[0];
  // The target 2 x source - other lies in [-255, 510]; clipped to samples, |target - r| only
  // loses |target - clipped| (r is a sample too), the same at every position: the fast SAD of
  // the clipped target plus that constant.
  target_.resize(static_cast<size_t>(pb.w) * pb.h);
  uint32_t outside = 0;
  for (int j = 0; j < pb.h; ++j) {
    const Pel* s = src.row(pb.y + j) + pb.x;
    const Pel* o = po.row(pb.y + j) + pb.x;
    Pel* t = &target_[static_cast<size_t>(j) * pb.w];
    for (int i = 0; i < pb.w; ++i) {
      const int v = 2 * s[i] - o[i], c = std::clamp(v, 0, 255);
      outside += static_cast<uint32_t>(std::abs(v - c));
      t[i] = static_cast<Pel>(c);
    }
  }
  const double sl = pic_.rd.sqrt_lambda;
  const int range = cfg_.bipred_search_range;
  // The integer search for every reference; only the best one is refined to quarter samples.
  Mv best{}, best_pred[2];
  double best_cost = kInf;
  ref_out = -1;
  for (int r = 0; r < nrefs; ++r) {
    Mv pred[2];
    amvp_candidates(pic_.mvc, pb, list, r, pred);
    const PaddedLuma& ref = padded_.at(pic_.ref_frame(list, r));
    const int W = ref.width, H = ref.height, mg = PaddedLuma::kMargin - 8;
    const Mv centre{static_cast<int16_t>((starts[r].x + 2) >> 2),
                    static_cast<int16_t>((starts[r].y + 2) >> 2)};
    for (int dy = -range; dy <= range; ++dy)
      for (int dx = -range; dx <= range; ++dx) {
        const int vx = centre.x + dx, vy = centre.y + dy;
        if (vx < -mg - pb.x || vx > W + mg - pb.w - pb.x || vy < -mg - pb.y ||
            vy > H + mg - pb.h - pb.y)
          continue;
        const Mv q{static_cast<int16_t>(vx * 4), static_cast<int16_t>(vy * 4)};
        const uint32_t sad = outside + block_sad(target_.data(), pb.w, ref.at(pb.x + vx, pb.y + vy),
                                                 ref.stride, pb.w, pb.h);
        const double c = sad / 2 + sl * (mvp_bits(q, pred) + ref_bits[r]);
        if (c < best_cost) {
          best_cost = c;
          best = q;
          ref_out = r;
          best_pred[0] = pred[0];
          best_pred[1] = pred[1];
        }
      }
  }
  if (ref_out < 0) return MeResult{};
  MvField f = m;
  f.ref_idx[list] = static_cast<int8_t>(ref_out);
  uint32_t dist = 0;
  const Mv q = refine_fraction(pb, f, list, best, best_pred, dist, true);
  return result(q, best_pred, dist, ref_bits[ref_out]);
}

}  // namespace hevc
