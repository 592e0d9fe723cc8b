// The C reference of motion compensation: the interpolation filters and the weighted averages.
#include <algorithm>

#include "dsp.h"
#include "inter_taps.h"

namespace hevc::dsp {

namespace {

Pel clip8(int v) { return static_cast<Pel>(std::clamp(v, 0, 255)); }

void copy(const Pel* src, ptrdiff_t stride, int w, int h, int16_t* dst) {
  for (int y = 0; y < h; ++y)
    for (int x = 0; x < w; ++x) dst[y * w + x] = static_cast<int16_t>(src[y * stride + x] << 6);
}

// One direction: `step` 1 filters horizontally, `stride` vertically (shift1 0).
template <int N>
void filter(const Pel* src, ptrdiff_t stride, ptrdiff_t step, int w, int h, const int8_t* taps,
            int16_t* dst) {
  constexpr int off = N / 2 - 1;
  for (int y = 0; y < h; ++y)
    for (int x = 0; x < w; ++x) {
      const Pel* s = src + y * stride + x - off * step;
      int v = 0;
      for (int k = 0; k < N; ++k) v += taps[k] * s[k * step];
      dst[y * w + x] = static_cast<int16_t>(v);
    }
}

template <int N>
void filter_hv(const Pel* src, ptrdiff_t stride, int w, int h, const int8_t* tx, const int8_t* ty,
               int16_t* dst) {
  constexpr int off = N / 2 - 1;
  int16_t tmp[kInterTmpSize];
  filter<N>(src - off * stride, stride, 1, w, h + N - 1, tx, tmp);
  for (int y = 0; y < h; ++y)
    for (int x = 0; x < w; ++x) {
      int v = 0;
      for (int k = 0; k < N; ++k) v += ty[k] * tmp[(y + k) * w + x];
      dst[y * w + x] = static_cast<int16_t>(v >> 6);
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
  for (int y = 0; y < h; ++y)
    for (int x = 0; x < w; ++x) dst[y * stride + x] = clip8((p[y * w + x] + 32) >> 6);
}

void avg_bi(const int16_t* a, const int16_t* b, int w, int h, Pel* dst, ptrdiff_t stride) {
  for (int y = 0; y < h; ++y)
    for (int x = 0; x < w; ++x)
      dst[y * stride + x] = clip8((a[y * w + x] + b[y * w + x] + 64) >> 7);
}

void weight_uni(const int16_t* p, int w, int h, int w0, int o0, int log2wd, Pel* dst,
                ptrdiff_t stride) {
  const int round = 1 << (log2wd - 1);
  for (int y = 0; y < h; ++y)
    for (int x = 0; x < w; ++x)
      dst[y * stride + x] = clip8(((p[y * w + x] * w0 + round) >> log2wd) + o0);
}

void weight_bi(const int16_t* a, const int16_t* b, int w, int h, int w0, int w1, int o0, int o1,
               int log2wd, Pel* dst, ptrdiff_t stride) {
  const int add = (o0 + o1 + 1) * (1 << log2wd);
  for (int y = 0; y < h; ++y)
    for (int x = 0; x < w; ++x)
      dst[y * stride + x] = clip8((a[y * w + x] * w0 + b[y * w + x] * w1 + add) >> (log2wd + 1));
}

}  // namespace

void init_inter_c(InterKernels& k) {
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
