#include "motion_search.h"

#include <algorithm>
#include <cstdlib>
#include <cstring>

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
  const Plane& src = pic_.src.planes[0];
  const Plane& p = scratch_.planes[0];
  if (!hadamard)
    return block_sad(src.row(pb.y) + pb.x, src.stride, p.row(pb.y) + pb.x, p.stride, pb.w, pb.h);
  // SATD over the largest square blocks that tile the prediction block.
  const int n = std::min({pb.w, pb.h, 32});
  uint32_t sum = 0;
  for (int j = 0; j < pb.h; j += n)
    for (int i = 0; i < pb.w; i += n)
      sum += satd_block(src.row(pb.y + j) + pb.x + i, src.stride, p.row(pb.y + j) + pb.x + i,
                        p.stride, n);
  return sum;
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
  // Bits against the better predictor.
  auto bits_of = [&](Mv q) {  // q in quarter samples
    const int b0 =
        mvd_bits(Mv{static_cast<int16_t>(q.x - pred[0].x), static_cast<int16_t>(q.y - pred[0].y)});
    const int b1 =
        mvd_bits(Mv{static_cast<int16_t>(q.x - pred[1].x), static_cast<int16_t>(q.y - pred[1].y)});
    return std::min(b0, b1);
  };
  auto int_cost = [&](Mv v) {
    const Mv q{static_cast<int16_t>(v.x * 4), static_cast<int16_t>(v.y * 4)};
    return sad_at(ref, pb.x, pb.y, pb.w, pb.h, v) + sl * bits_of(q);
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
  Mv q{static_cast<int16_t>(best.x * 4), static_cast<int16_t>(best.y * 4)};
  auto frac_cost = [&](Mv v, uint32_t& dist) {
    f.mv[list] = v;
    dist = pred_dist(pb, f, cfg_.hadamard_me);
    return dist + sl * bits_of(v);
  };
  uint32_t best_dist_val = 0;
  double qcost = frac_cost(q, best_dist_val);
  for (int step = 2; step >= 1; step /= 2) {
    const Mv c = q;
    for (int dy = -step; dy <= step; dy += step)
      for (int dx = -step; dx <= step; dx += step) {
        if (!dx && !dy) continue;
        const Mv v{static_cast<int16_t>(c.x + dx), static_cast<int16_t>(c.y + dy)};
        uint32_t dist = 0;
        const double cst = frac_cost(v, dist);
        if (cst < qcost) {
          qcost = cst;
          q = v;
          best_dist_val = dist;
        }
      }
  }
  MeResult r;
  r.mv = q;
  const Mv d0{static_cast<int16_t>(q.x - pred[0].x), static_cast<int16_t>(q.y - pred[0].y)};
  const Mv d1{static_cast<int16_t>(q.x - pred[1].x), static_cast<int16_t>(q.y - pred[1].y)};
  r.mvp = mvd_bits(d1) < mvd_bits(d0) ? 1 : 0;
  r.mvd = r.mvp ? d1 : d0;
  r.bits = mvd_bits(r.mvd) + 1 + ref_bits;
  r.dist = best_dist_val;
  r.cost = best_dist_val + sl * r.bits;
  return r;
}

}  // namespace hevc
