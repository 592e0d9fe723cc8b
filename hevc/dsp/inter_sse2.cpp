// SSE2 motion compensation: every interpolation filter and weighted average, 8 samples a step.
#include "inter_x86.h"

namespace hevc::dsp {

namespace {

void copy(const Pel* src, ptrdiff_t stride, int w, int h, int16_t* dst) {
  for (int y = 0; y < h; ++y) copy_row(src + y * stride, 0, w, dst + y * w);
}

template <int N>
void filter(const Pel* src, ptrdiff_t stride, ptrdiff_t step, int w, int h, const int8_t* taps,
            int16_t* dst) {
  __m128i c[N];
  splat_taps<N>(taps, c);
  const Pel* s = src - (N / 2 - 1) * step;
  for (int y = 0; y < h; ++y) filter_row<N>(s + y * stride, step, c, taps, 0, w, dst + y * w);
}

template <int N>
void filter_hv(const Pel* src, ptrdiff_t stride, int w, int h, const int8_t* tx, const int8_t* ty,
               int16_t* dst) {
  int16_t tmp[kInterTmpSize];
  filter<N>(src - (N / 2 - 1) * stride, stride, 1, w, h + N - 1, tx, tmp);
  __m128i cp[N / 2];
  pair_taps<N>(ty, cp);
  for (int y = 0; y < h; ++y) filter16_row<N>(tmp + y * w, w, cp, ty, 0, dst + y * w);
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
  for (int y = 0; y < h; ++y) avg_uni_row(p + y * w, 0, w, dst + y * stride);
}

void avg_bi(const int16_t* a, const int16_t* b, int w, int h, Pel* dst, ptrdiff_t stride) {
  for (int y = 0; y < h; ++y) avg_bi_row(a + y * w, b + y * w, 0, w, dst + y * stride);
}

void weight_uni(const int16_t* p, int w, int h, int w0, int o0, int log2wd, Pel* dst,
                ptrdiff_t stride) {
  const int round = 1 << (log2wd - 1);
  const __m128i wp = pair16(w0, round), zero = _mm_setzero_si128();
  const __m128i shift = _mm_cvtsi32_si128(log2wd), post = _mm_set1_epi32(o0);
  for (int y = 0; y < h; ++y) {
    const int16_t* s = p + y * w;
    Pel* d = dst + y * stride;
    for (int x = weight_row<false>(s, nullptr, wp, zero, shift, post, 0, w, d); x < w; ++x)
      d[x] = clip_pel(((s[x] * w0 + round) >> log2wd) + o0);
  }
}

void weight_bi(const int16_t* a, const int16_t* b, int w, int h, int w0, int w1, int o0, int o1,
               int log2wd, Pel* dst, ptrdiff_t stride) {
  const int add = (o0 + o1 + 1) * (1 << log2wd);
  const __m128i wp = pair16(w0, w1), pre = _mm_set1_epi32(add);
  const __m128i shift = _mm_cvtsi32_si128(log2wd + 1), zero = _mm_setzero_si128();
  for (int y = 0; y < h; ++y) {
    const int16_t *sa = a + y * w, *sb = b + y * w;
    Pel* d = dst + y * stride;
    for (int x = weight_row<true>(sa, sb, wp, pre, shift, zero, 0, w, d); x < w; ++x)
      d[x] = clip_pel((sa[x] * w0 + sb[x] * w1 + add) >> (log2wd + 1));
  }
}

}  // namespace

void init_inter_sse2(InterKernels& k) {
  k.copy = copy;
  k.luma_h = luma_h;
  k.luma_v = luma_v;
  k.luma_hv = luma_hv;
  k.chroma_h = chroma_h;
  k.chroma_v = chroma_v;
  k.chroma_hv = chroma_hv;
  k.avg_uni = avg_uni;
  k.avg_bi = avg_bi;
  k.weight_uni = weight_uni;
  k.weight_bi = weight_bi;
}

}  // namespace hevc::dsp
