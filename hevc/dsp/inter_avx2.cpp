// AVX2 motion compensation: 16 samples per step, the rest of a row (w not a multiple of 16)
// by the SSE2 rows of inter_x86.h.
#include <immintrin.h>

#include "inter_x86.h"

namespace hevc::dsp {

namespace {

inline __m256i widen16(const Pel* p) { return _mm256_cvtepu8_epi16(load16(p)); }
inline __m256i load32(const int16_t* p) {
  return _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p));
}
inline void store32(int16_t* p, __m256i v) {
  _mm256_storeu_si256(reinterpret_cast<__m256i*>(p), v);
}
// 16 words saturated to bytes, in order, to 16 bytes of dst (packus works per 128-bit lane).
inline void store_pels(Pel* d, __m256i v) {
  store16(d, _mm256_castsi256_si128(_mm256_permute4x64_epi64(_mm256_packus_epi16(v, v), 0x08)));
}

void copy(const Pel* src, ptrdiff_t stride, int w, int h, int16_t* dst) {
  for (int y = 0; y < h; ++y) {
    const Pel* s = src + y * stride;
    int16_t* d = dst + y * w;
    int x = 0;
    for (; x + 16 <= w; x += 16) store32(d + x, _mm256_slli_epi16(widen16(s + x), 6));
    copy_row(s, x, w, d);
  }
}

template <int N>
void filter(const Pel* src, ptrdiff_t stride, ptrdiff_t step, int w, int h, const int8_t* taps,
            int16_t* dst) {
  __m128i c[N];
  __m256i c2[N];
  splat_taps<N>(taps, c);
  for (int k = 0; k < N; ++k) c2[k] = _mm256_set1_epi16(taps[k]);
  const Pel* s0 = src - (N / 2 - 1) * step;
  for (int y = 0; y < h; ++y) {
    const Pel* s = s0 + y * stride;
    int16_t* d = dst + y * w;
    int x = 0;
    for (; x + 16 <= w; x += 16) {
      __m256i acc = _mm256_mullo_epi16(widen16(s + x), c2[0]);
      for (int k = 1; k < N; ++k)
        acc = _mm256_add_epi16(acc, _mm256_mullo_epi16(widen16(s + x + k * step), c2[k]));
      store32(d + x, acc);
    }
    filter_row<N>(s, step, c, taps, x, w, d);
  }
}

template <int N>
void filter_hv(const Pel* src, ptrdiff_t stride, int w, int h, const int8_t* tx, const int8_t* ty,
               int16_t* dst) {
  int16_t tmp[kInterTmpSize];
  filter<N>(src - (N / 2 - 1) * stride, stride, 1, w, h + N - 1, tx, tmp);
  __m128i cp[N / 2];
  __m256i cp2[N / 2];
  pair_taps<N>(ty, cp);
  for (int k = 0; k < N / 2; ++k) cp2[k] = _mm256_broadcastsi128_si256(cp[k]);
  for (int y = 0; y < h; ++y) {
    const int16_t* t = tmp + y * w;
    int16_t* d = dst + y * w;
    int x = 0;
    for (; x + 16 <= w; x += 16) {
      __m256i lo = _mm256_setzero_si256(), hi = _mm256_setzero_si256();
      for (int k = 0; k < N; k += 2) {
        const __m256i r0 = load32(t + k * w + x), r1 = load32(t + (k + 1) * w + x);
        lo = _mm256_add_epi32(lo, _mm256_madd_epi16(_mm256_unpacklo_epi16(r0, r1), cp2[k / 2]));
        hi = _mm256_add_epi32(hi, _mm256_madd_epi16(_mm256_unpackhi_epi16(r0, r1), cp2[k / 2]));
      }
      // Truncated to 16 bits as the C reference's int16_t; packs keeps the lanes' order.
      lo = _mm256_srai_epi32(_mm256_slli_epi32(_mm256_srai_epi32(lo, 6), 16), 16);
      hi = _mm256_srai_epi32(_mm256_slli_epi32(_mm256_srai_epi32(hi, 6), 16), 16);
      store32(d + x, _mm256_packs_epi32(lo, hi));
    }
    filter16_row<N>(t, w, cp, ty, x, d);
  }
}

void luma_h(const Pel* src, ptrdiff_t stride, int w, int h, int fx, int16_t* dst) {
  filter<8>(src, stride, 1, w, h, kLumaTaps[fx], dst);
}
void luma_v(const Pel* src, ptrdiff_t stride, int w, int h, int fy, int16_t* dst) {
  filter<8>(src, stride, stride, w, h, kLumaTaps[fy], dst);
}
void luma_hv(const Pel* src, ptrdiff_t stride, int w, int h, int fx, int fy, int16_t* dst) {
  filter_hv<8>(src, stride, w, h, kLumaTaps[fx], kLumaTaps[fy], dst);
}
void chroma_h(const Pel* src, ptrdiff_t stride, int w, int h, int fx, int16_t* dst) {
  filter<4>(src, stride, 1, w, h, kChromaTaps[fx], dst);
}
void chroma_v(const Pel* src, ptrdiff_t stride, int w, int h, int fy, int16_t* dst) {
  filter<4>(src, stride, stride, w, h, kChromaTaps[fy], dst);
}
void chroma_hv(const Pel* src, ptrdiff_t stride, int w, int h, int fx, int fy, int16_t* dst) {
  filter_hv<4>(src, stride, w, h, kChromaTaps[fx], kChromaTaps[fy], dst);
}

void avg_uni(const int16_t* p, int w, int h, Pel* dst, ptrdiff_t stride) {
  const __m256i r = _mm256_set1_epi16(32);
  for (int y = 0; y < h; ++y) {
    const int16_t* s = p + y * w;
    Pel* d = dst + y * stride;
    int x = 0;
    for (; x + 16 <= w; x += 16)
      store_pels(d + x, _mm256_srai_epi16(_mm256_adds_epi16(load32(s + x), r), 6));
    avg_uni_row(s, x, w, d);
  }
}

void avg_bi(const int16_t* a, const int16_t* b, int w, int h, Pel* dst, ptrdiff_t stride) {
  const __m256i r = _mm256_set1_epi16(64);
  for (int y = 0; y < h; ++y) {
    const int16_t *sa = a + y * w, *sb = b + y * w;
    Pel* d = dst + y * stride;
    int x = 0;
    for (; x + 16 <= w; x += 16) {
      const __m256i s = _mm256_adds_epi16(load32(sa + x), load32(sb + x));
      store_pels(d + x, _mm256_srai_epi16(_mm256_adds_epi16(s, r), 7));
    }
    avg_bi_row(sa, sb, x, w, d);
  }
}

}  // namespace

void init_inter_avx2(InterKernels& k) {
  k.copy = copy;
  k.luma_h = luma_h;
  k.luma_v = luma_v;
  k.luma_hv = luma_hv;
  k.chroma_h = chroma_h;
  k.chroma_v = chroma_v;
  k.chroma_hv = chroma_hv;
  k.avg_uni = avg_uni;
  k.avg_bi = avg_bi;
}

}  // namespace hevc::dsp
