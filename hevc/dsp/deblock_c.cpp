// The C reference of the luma deblocking kernel: the decisions and filters of 8.7.2.5.3 and
// 8.7.2.5.7, one 4-line segment at a time.
#include <cstdlib>

#include "dsp.h"

namespace hevc::dsp {

namespace {

void segment(Pel* s, ptrdiff_t step, ptrdiff_t line, const DeblockSegment& g) {
  const int tc = g.tc, beta = g.beta;
  if (tc == 0) return;  // both filters then change nothing
  auto P = [&](int l, int i) -> Pel& { return s[l * line - (i + 1) * step]; };
  auto Q = [&](int l, int i) -> Pel& { return s[l * line + i * step]; };
  const int dp0 = std::abs(P(0, 2) - 2 * P(0, 1) + P(0, 0));
  const int dp3 = std::abs(P(3, 2) - 2 * P(3, 1) + P(3, 0));
  const int dq0 = std::abs(Q(0, 2) - 2 * Q(0, 1) + Q(0, 0));
  const int dq3 = std::abs(Q(3, 2) - 2 * Q(3, 1) + Q(3, 0));
  const int dpq0 = dp0 + dq0, dpq3 = dp3 + dq3;
  if (dpq0 + dpq3 >= beta) return;
  auto strong_line = [&](int l, int dpq) {
    return 2 * dpq < (beta >> 2) &&
           std::abs(P(l, 3) - P(l, 0)) + std::abs(Q(l, 0) - Q(l, 3)) < (beta >> 3) &&
           std::abs(P(l, 0) - Q(l, 0)) < ((5 * tc + 1) >> 1);
  };
  const bool strong = strong_line(0, dpq0) && strong_line(3, dpq3);
  const bool dep = dp0 + dp3 < ((beta + (beta >> 1)) >> 3);
  const bool deq = dq0 + dq3 < ((beta + (beta >> 1)) >> 3);
  for (int l = 0; l < 4; ++l) {
    const int p0 = P(l, 0), p1 = P(l, 1), p2 = P(l, 2), p3 = P(l, 3);
    const int q0 = Q(l, 0), q1 = Q(l, 1), q2 = Q(l, 2), q3 = Q(l, 3);
    if (strong) {
      const int t2 = 2 * tc;
      if (!g.no_p) {
        P(l, 0) = static_cast<Pel>(
            clip3(p0 - t2, p0 + t2, (p2 + 2 * p1 + 2 * p0 + 2 * q0 + q1 + 4) >> 3));
        P(l, 1) = static_cast<Pel>(clip3(p1 - t2, p1 + t2, (p2 + p1 + p0 + q0 + 2) >> 2));
        P(l, 2) =
            static_cast<Pel>(clip3(p2 - t2, p2 + t2, (2 * p3 + 3 * p2 + p1 + p0 + q0 + 4) >> 3));
      }
      if (!g.no_q) {
        Q(l, 0) = static_cast<Pel>(
            clip3(q0 - t2, q0 + t2, (p1 + 2 * p0 + 2 * q0 + 2 * q1 + q2 + 4) >> 3));
        Q(l, 1) = static_cast<Pel>(clip3(q1 - t2, q1 + t2, (p0 + q0 + q1 + q2 + 2) >> 2));
        Q(l, 2) =
            static_cast<Pel>(clip3(q2 - t2, q2 + t2, (p0 + q0 + q1 + 3 * q2 + 2 * q3 + 4) >> 3));
      }
      continue;
    }
    int delta = (9 * (q0 - p0) - 3 * (q1 - p1) + 8) >> 4;
    if (std::abs(delta) >= tc * 10) continue;
    delta = clip3(-tc, tc, delta);
    if (!g.no_p) {
      P(l, 0) = static_cast<Pel>(clip_pel(p0 + delta));
      if (dep) {
        const int dlt = clip3(-(tc >> 1), tc >> 1, (((p2 + p0 + 1) >> 1) - p1 + delta) >> 1);
        P(l, 1) = static_cast<Pel>(clip_pel(p1 + dlt));
      }
    }
    if (!g.no_q) {
      Q(l, 0) = static_cast<Pel>(clip_pel(q0 - delta));
      if (deq) {
        const int dlt = clip3(-(tc >> 1), tc >> 1, (((q2 + q0 + 1) >> 1) - q1 - delta) >> 1);
        Q(l, 1) = static_cast<Pel>(clip_pel(q1 + dlt));
      }
    }
  }
}

void luma_v(Pel* s, ptrdiff_t stride, const DeblockSegment seg[2]) {
  segment(s, 1, stride, seg[0]);
  segment(s + 4 * stride, 1, stride, seg[1]);
}

void luma_h(Pel* s, ptrdiff_t stride, const DeblockSegment seg[2]) {
  segment(s, stride, 1, seg[0]);
  segment(s + 4, stride, 1, seg[1]);
}

}  // namespace

void init_deblock_c(DeblockKernels& k) {
  k.luma[0] = luma_v;
  k.luma[1] = luma_h;
}

}  // namespace hevc::dsp
