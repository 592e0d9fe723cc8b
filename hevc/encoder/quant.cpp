#include "quant.h"

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <limits>

#include "../residual_ctx.h"
#include "../scan.h"
#include "rdcost.h"

namespace hevc {

namespace {

const int kQuantScale[6] = {26214, 23302, 20560, 18396, 16384, 14564};

struct Geometry {
  int n, log2n, nsb;
  const std::vector<ScanPos>* sc4;
  const std::vector<ScanPos>* scs;
  const uint16_t* scan;  // scan position -> raster index
  int blkpos(int pos) const { return scan[pos]; }
};

// Level-coding state in front of one coefficient (the syntax's greater1/greater2/Rice state), in
// one word: RDOQ stores one per position for sign hiding, a single store. The gt2 context follows
// from the gt1 one.
struct LevelState {
  uint32_t v;  // bytes, from the lowest: gt1_ctx, c1_idx (gt1 flags so far), c2_idx, rice
  // ctxSet * 4 + min(3, greater1Ctx) (+16 for chroma): context of its gt1 flag
  int gt1_ctx() const { return static_cast<int>(v & 0xff); }
  bool gt1_coded() const { return (v & 0xff00) < (8u << 8); }  // fewer than 8 gt1 flags so far
  bool gt2_coded() const { return (v & 0xff0000) == 0; }       // no gt2 flag so far
  int rice() const { return static_cast<int>(v >> 24); }
};

// A coefficient's distance from level l in level_double's units (`level_double` minus l steps of
// 2^qbits): an integer below 2^53, so the distances from l + 1 and l - 1 are exactly one
// level_step less and more, without computing them again.
inline double level_distance(int32_t level_double, int l, int qbits) {
  return static_cast<double>(level_double - (static_cast<int64_t>(l) << qbits));
}
inline double level_step(int qbits) { return static_cast<double>(int64_t{1} << qbits); }

// Bits (1/32768) of a nonzero level's gt1/gt2/remaining/sign coding.
[[gnu::always_inline]] inline uint32_t level_bits(const ContextSet& cs, const LevelState& s,
                                                  int level) {
  uint32_t bits = kBitScale;  // sign
  if (s.gt1_coded()) {
    const uint8_t g1 = cs.s[kCtxGt1 + s.gt1_ctx()];
    if (level == 1) return bits + bin_cost(g1, 0);
    bits += bin_cost(g1, 1);
    if (s.gt2_coded()) {
      const uint8_t g2 = cs.s[kCtxGt2 + (s.gt1_ctx() >> 2)];  // ctxSet (+4 for chroma)
      if (level == 2) return bits + bin_cost(g2, 0);
      return bits + bin_cost(g2, 1) +
             kBitScale * remaining_bins(static_cast<uint32_t>(level - 3), s.rice());
    }
    return bits + kBitScale * remaining_bins(static_cast<uint32_t>(level - 2), s.rice());
  }
  return bits + kBitScale * remaining_bins(static_cast<uint32_t>(level - 1), s.rice());
}

// Sign data hiding (applied per 4x4 sub-block): makes the parity of the sum of levels carry the
// sign of the first nonzero coefficient by changing the one level whose change costs least.
// Rate change (1/32768 bits) of moving a coefficient's level up and down by one.
struct RateDelta {
  const ContextSet* cs = nullptr;  // null: distortion-only decisions (no RDOQ)
  const LevelState* state = nullptr;
  const uint8_t* sig = nullptr;  // sig_coeff_flag context state per block position
  void deltas(int bp, int level, int32_t& up, int32_t& down) const {
    up = down = 0;
    if (!cs) return;
    const LevelState& st = state[bp];
    const int32_t sig_on =
        static_cast<int32_t>(bin_cost(sig[bp], 1)) - static_cast<int32_t>(bin_cost(sig[bp], 0));
    if (level == 0) {
      up = sig_on + static_cast<int32_t>(level_bits(*cs, st, 1));
      return;
    }
    const int32_t cur = static_cast<int32_t>(level_bits(*cs, st, level));
    up = static_cast<int32_t>(level_bits(*cs, st, level + 1)) - cur;
    down = level == 1 ? -sig_on - cur : static_cast<int32_t>(level_bits(*cs, st, level - 1)) - cur;
  }
};

// Adds the level at raster index i to the count and bounding box.
void note_level(const Geometry& g, int i, QuantResult& r) {
  ++r.nonzero;
  r.max_x = std::max(r.max_x, i & (g.n - 1));
  r.max_y = std::max(r.max_y, i >> g.log2n);
}

// Also lists the scan positions of the nonzero levels, in scan order.
QuantResult summarise(const Geometry& g, int last, const int16_t* lv, uint16_t* nz_pos) {
  QuantResult r;
  for (int pos = 0; pos <= last; ++pos) {
    if (!lv[g.blkpos(pos)]) continue;
    nz_pos[r.nonzero] = static_cast<uint16_t>(pos);
    note_level(g, g.blkpos(pos), r);
  }
  return r;
}

// `nz_pos`: the scan positions of the `n_nz` nonzero levels in scan order, which give each
// sub-block's levels without visiting its zeros. Keeps `r` up to date: the count exact, the
// bounding box covering every nonzero level (a level set to zero leaves it as it was, which only
// makes the inverse transform visit a few more zeros).
void hide_signs(const QuantJob& job, const Geometry& g, const int32_t* level_double, int qbits,
                double err_scale, const RateDelta& rate, const uint16_t* nz_pos, int n_nz,
                int16_t* lv, QuantResult& r) {
  const double lambda = job.lambda / kBitScale;
  const int last_sb = nz_pos[n_nz - 1] >> 4;
  for (int k = n_nz - 1; k >= 0;) {
    const int sb = nz_pos[k] >> 4;
    const int last_nz = nz_pos[k] & 15;
    int parity = 0;  // of the sum of the levels (a level and its negation have the same)
    for (; k >= 0 && nz_pos[k] >> 4 == sb; --k) parity ^= lv[g.blkpos(nz_pos[k])];
    const int first_nz = nz_pos[k + 1] & 15;
    if (last_nz - first_nz < 4) continue;
    const bool neg = lv[g.blkpos(nz_pos[k + 1])] < 0;
    if ((parity & 1) == static_cast<int>(neg)) continue;
    double best = kInf;
    int best_pos = -1, best_dir = 0;
    const int end = sb == last_sb ? last_nz : 15;
    const double step = level_step(qbits);
    for (int p = end; p >= 0; --p) {
      const int pos = sb * 16 + p;
      const int bp = g.blkpos(pos);
      const int a = std::abs(lv[bp]);
      // In front of the first nonzero level only a level of the hidden sign may appear.
      if (p < first_nz && (job.coef[bp] < 0) != neg) continue;
      const double d = level_distance(level_double[bp], a, qbits);
      const double e0 = d * d * err_scale;
      int32_t rate_up, rate_down;
      rate.deltas(bp, a, rate_up, rate_down);
      // Up by one.
      if (a < 32767) {
        const double du = d - step;
        const double c = du * du * err_scale - e0 + lambda * rate_up;
        if (c < best) {
          best = c;
          best_pos = bp;
          best_dir = 1;
        }
      }
      // Down by one (never the first nonzero to zero: that would move the hidden sign).
      if (a > 0 && !(a == 1 && p == first_nz) && !(a == 1 && sb == last_sb && p == last_nz)) {
        const double dd = d + step;
        const double c = dd * dd * err_scale - e0 + lambda * rate_down;
        if (c < best) {
          best = c;
          best_pos = bp;
          best_dir = -1;
        }
      }
    }
    if (best_pos < 0) continue;
    const int a = std::abs(lv[best_pos]) + best_dir;
    const bool src_neg = lv[best_pos] != 0 ? lv[best_pos] < 0 : job.coef[best_pos] < 0;
    if (!lv[best_pos])
      note_level(g, best_pos, r);
    else if (!a)
      --r.nonzero;
    lv[best_pos] = static_cast<int16_t>(src_neg ? -a : a);
  }
}

}  // namespace

QuantResult quantize(const QuantJob& job, int16_t* lv) {
  Geometry g;
  g.log2n = job.log2n;
  g.n = 1 << job.log2n;
  g.nsb = 1 << (job.log2n - 2);
  g.sc4 = &scan_order(2, job.scan_idx);
  g.scs = &scan_order(job.log2n - 2, job.scan_idx);
  g.scan = coeff_scan(job.log2n, job.scan_idx);
  const int total = g.n * g.n;
  const int ts = 7 - job.log2n;  // transform shift for 8-bit video
  const int q = kQuantScale[job.qp % 6];
  const int qbits = 14 + job.qp / 6 + ts;
  static const struct ErrScale {
    double v[6][6];  // [qp % 6][transform shift]
    ErrScale() {
      for (int i = 0; i < 6; ++i)
        for (int t = 0; t < 6; ++t)
          v[i][t] =
              std::ldexp(1.0 / (static_cast<double>(kQuantScale[i]) * kQuantScale[i]), -2 * t);
    }
  } kErrScale;
  const double err_scale = kErrScale.v[job.qp % 6][ts];
  const double step = level_step(qbits);

  // |coef| * q < 2^30 and the rounding offset <= 2^26, so 32-bit arithmetic is exact here and
  // the loop vectorises, the last position included (a running maximum of scan positions).
  int32_t level_double[32 * 32];
  int max_abs[32 * 32];
  const int32_t half = int32_t{1} << (qbits - 1);
  const uint16_t* scan_pos = coeff_scan_pos(g.log2n, job.scan_idx);
  uint16_t rank = 0;
  // This and the other passes over a whole block take its size as a constant: small blocks'
  // loops unroll.
  with_block_size(g.log2n, [&](auto n) {
    for (int i = 0; i < n * n; ++i) {
      const int32_t ld = std::abs(static_cast<int32_t>(job.coef[i])) * q;
      level_double[i] = ld;
      max_abs[i] = std::min<int32_t>(32767, (ld + half) >> qbits);
      rank = std::max(rank, scan_rank_if(scan_pos, i, max_abs[i] != 0));
    }
    std::memset(lv, 0, sizeof(int16_t) * n * n);
  });
  const int last_init = rank - 1;

  if (!job.rdoq || !job.ctx) {
    const int64_t offset = int64_t{job.intra ? 171 : 85} << (qbits - 9);
    for (int i = 0; i < total; ++i) {
      const int a = static_cast<int>(std::min<int64_t>(32767, (level_double[i] + offset) >> qbits));
      lv[i] = static_cast<int16_t>(job.coef[i] < 0 ? -a : a);
    }
    const int last = last_nonzero(lv, g.log2n, job.scan_idx);
    uint16_t nz_pos[32 * 32];
    QuantResult r = summarise(g, last, lv, nz_pos);
    r.last = last;
    if (job.sign_hide && r.nonzero >= 2)
      hide_signs(job, g, level_double, qbits, err_scale, RateDelta{}, nz_pos, r.nonzero, lv, r);
    return r;
  }

  // ---- RDOQ ----
  const ContextSet& cs = *job.ctx;
  const int cidx = job.cidx;
  const double lambda = job.lambda / kBitScale;
  if (last_init < 0) return {};

  double cost_coef[32 * 32], cost_zero[32 * 32];
  double cost_sig[32 * 32];  // written and read at nonzero levels only
  LevelState states[32 * 32];
  uint8_t sig_state[32 * 32];
  double csbf_cost[64];  // written for every sub-block between the first and the last
  uint8_t coded_sb[64];
  with_block_size(g.log2n, [&](auto n) { std::memset(coded_sb, 0, (n / 4) * (n / 4)); });
  const uint8_t* sig_states = &cs.s[kCtxSig + (cidx ? 27 : 0)];
  const SigCtxBlock& sig_ctx_blk = sig_ctx_block(g.log2n, cidx, job.scan_idx);
  const int last_sb = last_init >> 4;
  int prev_c1 = 1;
  bool first_sb = true;
  for (int sb = last_sb; sb >= 0; --sb) {
    const ScanPos& s = (*g.scs)[sb];
    int prev_csbf = 0;
    if (s.x < g.nsb - 1) prev_csbf |= coded_sb[s.y * g.nsb + s.x + 1];
    if (s.y < g.nsb - 1) prev_csbf |= coded_sb[(s.y + 1) * g.nsb + s.x] << 1;
    if (sb > 0 && sb < last_sb) {
      // A sub-block that quantises to zero everywhere costs its distortion and a zero flag.
      bool all_zero = true;
      for (int p = 0; p < 16 && all_zero; ++p) all_zero = max_abs[g.blkpos(sb * 16 + p)] == 0;
      if (all_zero) {
        for (int p = 0; p < 16; ++p) {
          const int bp = g.blkpos(sb * 16 + p);
          cost_coef[bp] = cost_zero[bp] =
              static_cast<double>(level_double[bp]) * level_double[bp] * err_scale;
        }
        const int cs_inc = (prev_csbf & 1) + ((prev_csbf >> 1) & 1);
        csbf_cost[sb] = lambda * bin_cost(cs.s[kCtxCsbf + std::min(cs_inc, 1) + (cidx ? 2 : 0)], 0);
        coded_sb[s.y * g.nsb + s.x] = 0;
        continue;
      }
    }
    const uint8_t* sig_ctx_of = sig_ctx_blk[prev_csbf][sb == 0 ? 1 : 0];
    int ctx_set = (sb == 0 || cidx > 0) ? 0 : 2;
    if (!first_sb && prev_c1 == 0) ++ctx_set;
    // The level-coding state in front of the next position; it changes only after a nonzero
    // level.
    int c1 = 1;
    LevelState st{static_cast<uint32_t>(ctx_set * 4 + 1 + (cidx ? 16 : 0))};
    bool any_gt1_coded = false;
    // Only sub-blocks with a coded_sub_block_flag of their own weigh coding against zeroing.
    const bool csbf_coded = sb > 0 && sb < last_sb;
    double sb_coded = 0, sb_zero = 0;
    int nz_in_sb = 0;
    // Positions after the last one are never read again.
    const int last_p = sb == last_sb ? last_init & 15 : -1;
    const uint16_t* sb_scan = g.scan + sb * 16;  // raster index of each position
    for (int p = sb == last_sb ? last_p : 15; p >= 0; --p) {
      const int bp = sb_scan[p];
      const double cz = static_cast<double>(level_double[bp]) * level_double[bp] * err_scale;
      cost_zero[bp] = cz;
      const uint8_t sig = sig_states[sig_ctx_of[p]];
      states[bp] = st;
      sig_state[bp] = sig;
      const int ma = max_abs[bp];
      if (ma == 0) {
        // Zero is the only choice (never at the last position); the level is already zero.
        const double s0 = lambda * bin_cost(sig, 0);
        cost_coef[bp] = cz + s0;
        if (csbf_coded) {
          sb_coded += cz + s0;
          sb_zero += cz;
        }
        continue;
      }
      const bool is_last = p == last_p;
      int best_l = 0;
      double best = kInf, best_sig = 0;
      if (!is_last) {
        best = cz + lambda * bin_cost(sig, 0);
        best_sig = lambda * bin_cost(sig, 0);
      }
      const double sig1 = is_last ? 0 : lambda * bin_cost(sig, 1);
      // d: the coefficient's distance from ma's level; from ma - 1's it is one exact step more.
      // (Selects, not a branch: which level wins is hard to predict.)
      auto consider = [&](int l, double d) {
        const double c = d * d * err_scale + sig1 + lambda * level_bits(cs, st, l);
        const bool better = c < best;
        best_l = better ? l : best_l;
        best_sig = better ? sig1 : best_sig;
        best = better ? c : best;
      };
      const double d = level_distance(level_double[bp], ma, qbits);
      consider(ma, d);
      if (ma > 1) consider(ma - 1, d + step);
      cost_coef[bp] = best;
      cost_sig[bp] = best_sig;
      lv[bp] = static_cast<int16_t>(best_l);
      if (csbf_coded) {
        sb_coded += best;
        sb_zero += cz;
      }
      if (best_l > 0) {
        ++nz_in_sb;
        const int base = st.gt1_coded() ? (st.gt2_coded() ? 3 : 2) : 1;
        if (best_l >= base && best_l > 3 * (1 << st.rice()) && st.rice() < 4) st.v += 1u << 24;
        if (st.gt1_coded()) {
          any_gt1_coded = true;
          if (best_l > 1) {
            c1 = 0;
            if (st.gt2_coded()) st.v += 1u << 16;
          } else if (c1 > 0) {
            ++c1;
          }
          st.v = ((st.v & ~0xffu) + (1u << 8)) |
                 static_cast<uint32_t>(ctx_set * 4 + std::min(3, c1) + (cidx ? 16 : 0));
        }
      }
    }
    // Coded sub-block flag decision for the sub-blocks that carry one.
    if (csbf_coded) {
      const int cs_inc = std::min(prev_csbf & 1, 1) + ((prev_csbf >> 1) & 1);
      const uint8_t csbf_ctx = cs.s[kCtxCsbf + std::min(cs_inc, 1) + (cidx ? 2 : 0)];
      const double coded = sb_coded + lambda * bin_cost(csbf_ctx, 1);
      const double zero = sb_zero + lambda * bin_cost(csbf_ctx, 0);
      if (nz_in_sb == 0 || zero < coded) {
        for (int p = 0; p < 16; ++p) {
          const int bp = g.blkpos(sb * 16 + p);
          lv[bp] = 0;
          cost_coef[bp] = cost_zero[bp];
        }
        csbf_cost[sb] = lambda * bin_cost(csbf_ctx, 0);
        nz_in_sb = 0;
      } else {
        csbf_cost[sb] = lambda * bin_cost(csbf_ctx, 1);
      }
    }
    coded_sb[s.y * g.nsb + s.x] = nz_in_sb > 0 || sb == 0 || sb == last_sb;
    if (any_gt1_coded) {
      prev_c1 = c1;
      first_sb = false;
    }
  }

  // Last position decision: cost with the last coefficient at each candidate position.
  int offs, shift;
  last_ctx(g.log2n, cidx, offs, shift);
  uint32_t prefix_cost[2][10];  // bits of each last_sig_coeff_{x,y}_prefix value with its suffix
  with_block_size(g.log2n, [&](auto n) {
    constexpr int cmax = n == 4 ? 3 : n == 8 ? 5 : n == 16 ? 7 : 9;  // 2 log2(n) - 1
    for (int axis = 0; axis < 2; ++axis) {
      const int base = axis ? kCtxLastY : kCtxLastX;
      uint32_t ones = 0;
      for (int prefix = 0; prefix <= cmax; ++prefix) {
        uint32_t b = ones;
        if (prefix < cmax) b += bin_cost(cs.s[base + offs + (prefix >> shift)], 0);
        if (prefix > 3) b += kBitScale * ((prefix >> 1) - 1);
        prefix_cost[axis][prefix] = b;
        if (prefix < cmax) ones += bin_cost(cs.s[base + offs + (prefix >> shift)], 1);
      }
    }
  });
  // last_sig_coeff prefix of each coordinate value (0..31).
  static const struct LastPrefixes {
    uint8_t v[32];
    LastPrefixes() {
      for (uint32_t i = 0; i < 32; ++i) v[i] = static_cast<uint8_t>(last_prefix(i));
    }
  } kLastPrefix;
  // The syntax's x is the raster column, but the row for the vertical scan.
  const bool swap_xy = job.scan_idx == 2;
  double cbf0 = 0, cbf1 = 0;
  if (job.cbf_ctx >= 0) {
    cbf0 = lambda * bin_cost(cs.s[job.cbf_ctx], 0);
    cbf1 = lambda * bin_cost(cs.s[job.cbf_ctx], 1);
  }
  // One pass gathers, at each nonzero level (the k-th), the running sums its cost needs; the
  // sum of the zero costs over every position (`uncoded`) is the last running sum. Without a
  // branch on the level (it would be mispredicted at about every nonzero one): every position
  // writes the sums and its indices at the next free k, which a nonzero level then keeps.
  double acc_coef = 0, acc_zero = 0, acc_csbf = 0;
  double sum_coef[32 * 32], sum_zero[32 * 32], sum_csbf[32 * 32];
  uint16_t nonzero_bp[32 * 32], nonzero_pos[32 * 32];
  int n_nonzero = 0;
  for (int sb = 0; sb <= last_init >> 4; ++sb) {
    // The coded_sub_block_flags of the sub-blocks between the first and this one.
    if (sb > 1) acc_csbf += csbf_cost[sb - 1];
    const int end = std::min(last_init, sb * 16 + 15);
    for (int pos = sb * 16; pos <= end; ++pos) {
      const int bp = g.blkpos(pos);
      acc_coef += cost_coef[bp];
      acc_zero += cost_zero[bp];
      sum_coef[n_nonzero] = acc_coef;
      sum_zero[n_nonzero] = acc_zero;
      sum_csbf[n_nonzero] = acc_csbf;
      nonzero_pos[n_nonzero] = static_cast<uint16_t>(pos);
      nonzero_bp[n_nonzero] = static_cast<uint16_t>(bp);
      n_nonzero += lv[bp] != 0;
    }
  }
  const double uncoded = acc_zero;
  double best = uncoded + cbf0;
  int best_k = -1;  // index of the last level kept in nonzero_bp
  for (int k = 0; k < n_nonzero; ++k) {
    const int bp = nonzero_bp[k];
    int x = bp & (g.n - 1), y = bp >> g.log2n;
    if (swap_xy) std::swap(x, y);
    const double lb =
        lambda * (prefix_cost[0][kLastPrefix.v[x]] + prefix_cost[1][kLastPrefix.v[y]]);
    const double c =
        (sum_coef[k] - cost_sig[bp]) + (uncoded - sum_zero[k]) + sum_csbf[k] + lb + cbf1;
    if (c < best) {
      best = c;
      best_k = k;
    }
  }
  for (int k = best_k + 1; k < n_nonzero; ++k) lv[nonzero_bp[k]] = 0;
  QuantResult r;
  if (best_k >= 0) r.last = nonzero_pos[best_k];
  for (int k = 0; k <= best_k; ++k) {
    const int i = nonzero_bp[k];
    note_level(g, i, r);
    lv[i] = static_cast<int16_t>(job.coef[i] < 0 ? -lv[i] : lv[i]);  // (a select, not a branch)
  }
  if (job.sign_hide && r.nonzero >= 2) {
    RateDelta rd;
    rd.cs = &cs;
    rd.state = states;
    rd.sig = sig_state;
    hide_signs(job, g, level_double, qbits, err_scale, rd, nonzero_pos, r.nonzero, lv, r);
  }
  return r;
}

}  // namespace hevc
