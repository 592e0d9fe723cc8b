// SSE2 luma deblocking: both 4-line segments of a stretch at once, one line per 16-bit lane
// (a vertical edge's lines through an 8x8 byte transpose). The decisions, which look at lines
// 0 and 3 of each segment only, are taken in scalar code from vectors of their terms; both
// filters are then computed on every lane and selected per lane.
#include "dsp.h"
#include "x86.h"

namespace hevc::dsp {

namespace {

// in[i]: 8 bytes (low half). out[k]: rows 2k and 2k + 1 of the transpose, in its two halves.
inline void transpose8x8(const __m128i in[8], __m128i out[4]) {
  const __m128i a0 = _mm_unpacklo_epi8(in[0], in[1]), a1 = _mm_unpacklo_epi8(in[2], in[3]);
  const __m128i a2 = _mm_unpacklo_epi8(in[4], in[5]), a3 = _mm_unpacklo_epi8(in[6], in[7]);
  const __m128i b0 = _mm_unpacklo_epi16(a0, a1), b1 = _mm_unpackhi_epi16(a0, a1);
  const __m128i b2 = _mm_unpacklo_epi16(a2, a3), b3 = _mm_unpackhi_epi16(a2, a3);
  out[0] = _mm_unpacklo_epi32(b0, b2);
  out[1] = _mm_unpackhi_epi32(b0, b2);
  out[2] = _mm_unpacklo_epi32(b1, b3);
  out[3] = _mm_unpackhi_epi32(b1, b3);
}

inline __m128i add(__m128i a, __m128i b) { return _mm_add_epi16(a, b); }
inline __m128i sub(__m128i a, __m128i b) { return _mm_sub_epi16(a, b); }
inline __m128i dbl(__m128i a) { return _mm_add_epi16(a, a); }
inline __m128i sra(__m128i a, int n) { return _mm_srai_epi16(a, n); }
inline __m128i abs16(__m128i x) { return _mm_max_epi16(x, _mm_sub_epi16(_mm_setzero_si128(), x)); }
inline __m128i clamp16(__m128i x, __m128i lo, __m128i hi) {
  return _mm_min_epi16(_mm_max_epi16(x, lo), hi);
}
inline __m128i select(__m128i m, __m128i a, __m128i b) {
  return _mm_or_si128(_mm_and_si128(m, a), _mm_andnot_si128(m, b));
}
inline __m128i lanes(const int16_t v[8]) { return load16(v); }

// x[0..7] = p3, p2, p1, p0, q0, q1, q2, q3, one line per lane; p2..q2 are replaced. Returns
// false when neither segment is filtered (nothing to store).
bool filter(__m128i x[8], const DeblockSegment seg[2]) {
  const __m128i &p3 = x[0], &p2 = x[1], &p1 = x[2], &p0 = x[3];
  const __m128i &q0 = x[4], &q1 = x[5], &q2 = x[6], &q3 = x[7];
  alignas(16) int16_t dp[8], dq[8], sa[8], sb[8];
  store16(dp, abs16(add(sub(p2, dbl(p1)), p0)));
  store16(dq, abs16(add(sub(q2, dbl(q1)), q0)));
  store16(sa, add(abs16(sub(p3, p0)), abs16(sub(q0, q3))));
  store16(sb, abs16(sub(p0, q0)));
  alignas(16) int16_t tcv[8] = {}, strong[8] = {}, weak[8] = {}, dep[8] = {}, deq[8] = {};
  alignas(16) int16_t onp[8] = {}, onq[8] = {};
  bool any = false;
  for (int k = 0; k < 2; ++k) {
    const int tc = seg[k].tc, beta = seg[k].beta, a = 4 * k, b = 4 * k + 3;
    if (tc == 0) continue;
    const int dpq0 = dp[a] + dq[a], dpq3 = dp[b] + dq[b];
    if (dpq0 + dpq3 >= beta) continue;
    const int tc5 = (5 * tc + 1) >> 1;
    const bool s = 2 * dpq0 < (beta >> 2) && sa[a] < (beta >> 3) && sb[a] < tc5 &&
                   2 * dpq3 < (beta >> 2) && sa[b] < (beta >> 3) && sb[b] < tc5;
    const int side = (beta + (beta >> 1)) >> 3;
    const bool ep = dp[a] + dp[b] < side, eq = dq[a] + dq[b] < side;
    for (int l = a; l <= b; ++l) {
      tcv[l] = static_cast<int16_t>(tc);
      strong[l] = static_cast<int16_t>(-s);
      weak[l] = static_cast<int16_t>(-!s);
      dep[l] = static_cast<int16_t>(-ep);
      deq[l] = static_cast<int16_t>(-eq);
      onp[l] = static_cast<int16_t>(-!seg[k].no_p);
      onq[l] = static_cast<int16_t>(-!seg[k].no_q);
    }
    any = true;
  }
  if (!any) return false;
  const __m128i tc = lanes(tcv), t2 = add(tc, tc), mp = lanes(onp), mq = lanes(onq);
  const __m128i st = lanes(strong), one = _mm_set1_epi16(1), two = _mm_set1_epi16(2);
  const __m128i four = _mm_set1_epi16(4), zero = _mm_setzero_si128();
  // Strong filter (8-323..8-328), each clipped to +-2tc around the sample it replaces.
  const __m128i p0q0 = add(p0, q0);
  const __m128i s_p0 = sra(add(add(p2, q1), add(dbl(add(p1, p0q0)), four)), 3);
  const __m128i s_p1 = sra(add(add(p2, p1), add(p0q0, two)), 2);
  const __m128i s_p2 = sra(add(add(dbl(p3), add(p2, dbl(p2))), add(add(p1, p0q0), four)), 3);
  const __m128i s_q0 = sra(add(add(q2, p1), add(dbl(add(q1, p0q0)), four)), 3);
  const __m128i s_q1 = sra(add(add(q2, q1), add(p0q0, two)), 2);
  const __m128i s_q2 = sra(add(add(dbl(q3), add(q2, dbl(q2))), add(add(q1, p0q0), four)), 3);
  auto clip2tc = [&](__m128i v, __m128i c) { return clamp16(v, sub(c, t2), add(c, t2)); };
  // Normal filter (8-329..8-338): the lines whose |delta| < 10 tc.
  __m128i delta = sub(_mm_mullo_epi16(sub(q0, p0), _mm_set1_epi16(9)),
                      _mm_mullo_epi16(sub(q1, p1), _mm_set1_epi16(3)));
  delta = sra(add(delta, _mm_set1_epi16(8)), 4);
  const __m128i wl = _mm_and_si128(
      lanes(weak), _mm_cmplt_epi16(abs16(delta), _mm_mullo_epi16(tc, _mm_set1_epi16(10))));
  delta = clamp16(delta, sub(zero, tc), tc);
  const __m128i h = sra(tc, 1), nh = sub(zero, h);
  const __m128i dlt_p = clamp16(sra(add(sub(sra(add(add(p2, p0), one), 1), p1), delta), 1), nh, h);
  const __m128i dlt_q = clamp16(sra(sub(sub(sra(add(add(q2, q0), one), 1), q1), delta), 1), nh, h);
  const __m128i sp = _mm_and_si128(st, mp), sq = _mm_and_si128(st, mq);
  const __m128i wp = _mm_and_si128(wl, mp), wq = _mm_and_si128(wl, mq);
  const __m128i wp1 = _mm_and_si128(wp, lanes(dep)), wq1 = _mm_and_si128(wq, lanes(deq));
  const __m128i n_p0 = select(sp, clip2tc(s_p0, p0), select(wp, add(p0, delta), p0));
  const __m128i n_p1 = select(sp, clip2tc(s_p1, p1), select(wp1, add(p1, dlt_p), p1));
  const __m128i n_p2 = select(sp, clip2tc(s_p2, p2), p2);
  const __m128i n_q0 = select(sq, clip2tc(s_q0, q0), select(wq, sub(q0, delta), q0));
  const __m128i n_q1 = select(sq, clip2tc(s_q1, q1), select(wq1, add(q1, dlt_q), q1));
  const __m128i n_q2 = select(sq, clip2tc(s_q2, q2), q2);
  x[1] = n_p2;
  x[2] = n_p1;
  x[3] = n_p0;
  x[4] = n_q0;
  x[5] = n_q1;
  x[6] = n_q2;
  return true;
}

void luma_v(Pel* s, ptrdiff_t stride, const DeblockSegment seg[2]) {
  if (!seg[0].tc && !seg[1].tc) return;
  const __m128i zero = _mm_setzero_si128();
  __m128i rows[8], cols[4], x[8];
  for (int l = 0; l < 8; ++l) rows[l] = load8(s + l * stride - 4);
  transpose8x8(rows, cols);
  for (int k = 0; k < 4; ++k) {
    x[2 * k] = _mm_unpacklo_epi8(cols[k], zero);
    x[2 * k + 1] = _mm_unpackhi_epi8(cols[k], zero);
  }
  if (!filter(x, seg)) return;
  for (int i = 0; i < 8; ++i) rows[i] = _mm_packus_epi16(x[i], x[i]);
  transpose8x8(rows, cols);
  for (int k = 0; k < 4; ++k) {
    store8(s + 2 * k * stride - 4, cols[k]);
    store8(s + (2 * k + 1) * stride - 4, _mm_srli_si128(cols[k], 8));
  }
}

void luma_h(Pel* s, ptrdiff_t stride, const DeblockSegment seg[2]) {
  if (!seg[0].tc && !seg[1].tc) return;
  const __m128i zero = _mm_setzero_si128();
  __m128i x[8];
  for (int i = 0; i < 8; ++i) x[i] = _mm_unpacklo_epi8(load8(s + (i - 4) * stride), zero);
  if (!filter(x, seg)) return;
  for (int i = 1; i < 7; ++i) store8(s + (i - 4) * stride, _mm_packus_epi16(x[i], x[i]));
}

}  // namespace

void init_deblock_sse2(DeblockKernels& k) {
  k.luma[0] = luma_v;
  k.luma[1] = luma_h;
}

}  // namespace hevc::dsp
