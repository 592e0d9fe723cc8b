// SSE4.1 SAO kernels: edge offset applied 16 samples per step.
#include <smmintrin.h>

#include "dsp.h"
#include "sao_edge.h"
#include "x86.h"

namespace hevc::dsp {

namespace {

decltype(SaoKernels::edge_apply) g_apply_below = nullptr;

// Category from raw = 2 + sign(c - a) + sign(c - b) via byte shuffles; saturating adds clip.
// The last step overlaps the one before rather than leave a tail: it writes the same values
// again (dst is not src).
void edge_apply(const Pel* src, Pel* dst, int n, ptrdiff_t oa, ptrdiff_t ob, const int offset[5]) {
  if (n < 16) {
    g_apply_below(src, dst, n, oa, ob, offset);
    return;
  }
  // Byte r of the tables: the offset of raw value r, split into its positive and negative part.
  const __m128i zero = _mm_setzero_si128(), two = _mm_set1_epi8(2);
  const __m128i by_raw = _mm_packs_epi16(
      _mm_packs_epi32(_mm_setr_epi32(offset[kSaoEdgeCat[0]], offset[kSaoEdgeCat[1]],
                                     offset[kSaoEdgeCat[2]], offset[kSaoEdgeCat[3]]),
                      _mm_cvtsi32_si128(offset[kSaoEdgeCat[4]])),
      zero);
  const __m128i tpos = _mm_max_epi8(by_raw, zero);
  const __m128i tneg = _mm_sub_epi8(zero, _mm_min_epi8(by_raw, zero));
  auto step = [&](int x) {
    const Pel* p = src + x;
    const __m128i c = load16(p), a = load16(p + oa), b = load16(p + ob);
    const __m128i raw = _mm_add_epi8(two, _mm_add_epi8(sign_epu8(c, a), sign_epu8(c, b)));
    const __m128i up = _mm_shuffle_epi8(tpos, raw), down = _mm_shuffle_epi8(tneg, raw);
    store16(dst + x, _mm_subs_epu8(_mm_adds_epu8(c, up), down));
  };
  int x = 0;
  for (; x + 16 <= n; x += 16) step(x);
  if (x < n) step(n - 16);
}

}  // namespace

void init_sao_sse41(SaoKernels& k) {
  g_apply_below = k.edge_apply;
  k.edge_apply = edge_apply;
}

}  // namespace hevc::dsp
