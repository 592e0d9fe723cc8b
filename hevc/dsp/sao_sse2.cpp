// SSE2 SAO kernels: the encoder's edge-offset statistics, 16 samples per step.
#include "dsp.h"
#include "sao_edge.h"
#include "x86.h"

namespace hevc::dsp {

namespace {

decltype(SaoKernels::edge_stats) g_stats_below = nullptr;

// Per edge value sign(c - a) + sign(c - b) of -2, -1, 1, 2 (categories 1, 2, 3, 4): the count
// from a byte mask, the sum of differences from a 16-bit multiply-add with the mask (-1). The
// last step takes the 16 samples that end the run, masked to those not yet counted.
void edge_stats(const Pel* rec, const Pel* org, int n, ptrdiff_t oa, ptrdiff_t ob, int64_t count[5],
                int64_t sum[5]) {
  if (n < 16) {
    g_stats_below(rec, org, n, oa, ob, count, sum);
    return;
  }
  static const int8_t kEdge[4] = {-2, -1, 1, 2};
  // 16 zeros then 16 ones: loaded from byte k, the lanes from 16 - k on are kept.
  alignas(16) static const int8_t kTail[32] = {0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,
                                               0,  0,  0,  0,  0,  -1, -1, -1, -1, -1, -1,
                                               -1, -1, -1, -1, -1, -1, -1, -1, -1, -1};
  const __m128i zero = _mm_setzero_si128(), one = _mm_set1_epi8(1);
  __m128i cnt[4], sm[4];
  for (int k = 0; k < 4; ++k) cnt[k] = sm[k] = zero;
  auto step = [&](int x, __m128i keep) {
    const Pel* p = rec + x;
    const __m128i c = load16(p), a = load16(p + oa), b = load16(p + ob), o = load16(org + x);
    const __m128i e = _mm_add_epi8(sign_epu8(c, a), sign_epu8(c, b));
    const __m128i dlo = _mm_sub_epi16(_mm_unpacklo_epi8(o, zero), _mm_unpacklo_epi8(c, zero));
    const __m128i dhi = _mm_sub_epi16(_mm_unpackhi_epi8(o, zero), _mm_unpackhi_epi8(c, zero));
    for (int k = 0; k < 4; ++k) {
      const __m128i m = _mm_and_si128(_mm_cmpeq_epi8(e, _mm_set1_epi8(kEdge[k])), keep);
      cnt[k] = _mm_add_epi64(cnt[k], _mm_sad_epu8(_mm_and_si128(m, one), zero));
      sm[k] = _mm_add_epi32(sm[k], _mm_madd_epi16(dlo, _mm_unpacklo_epi8(m, m)));
      sm[k] = _mm_add_epi32(sm[k], _mm_madd_epi16(dhi, _mm_unpackhi_epi8(m, m)));
    }
  };
  const __m128i all = _mm_set1_epi8(-1);
  int x = 0;
  for (; x + 16 <= n; x += 16) step(x, all);
  if (x < n) step(n - 16, load16(kTail + (n - x)));
  for (int k = 0; k < 4; ++k) {
    alignas(16) int64_t c2[2];
    alignas(16) int32_t s4[4];
    _mm_store_si128(reinterpret_cast<__m128i*>(c2), cnt[k]);
    _mm_store_si128(reinterpret_cast<__m128i*>(s4), sm[k]);
    const int cat = kSaoEdgeCat[2 + kEdge[k]];
    count[cat] += c2[0] + c2[1];
    sum[cat] -= static_cast<int64_t>(s4[0]) + s4[1] + s4[2] + s4[3];
  }
}

}  // namespace

void init_sao_sse2(SaoKernels& k) {
  g_stats_below = k.edge_stats;
  k.edge_stats = edge_stats;
}

}  // namespace hevc::dsp
