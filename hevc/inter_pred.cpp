#include "inter_pred.h"

#include <algorithm>
#include <cstring>

#include "slice_header.h"

namespace hevc {

namespace {

// Table 8-11 (luma, quarter-sample positions 1..3) and Table 8-12 (chroma, eighth-sample 1..7).
const int8_t kLumaTaps[4][8] = {{0, 0, 0, 64, 0, 0, 0, 0},
                                {-1, 4, -10, 58, 17, -5, 1, 0},
                                {-1, 4, -11, 40, 40, -11, 4, -1},
                                {0, 1, -5, 17, 58, -10, 4, -1}};
const int8_t kChromaTaps[8][4] = {{0, 64, 0, 0},    {-2, 58, 10, -2}, {-4, 54, 16, -2},
                                  {-6, 46, 28, -4}, {-4, 36, 36, -4}, {-4, 28, 46, -6},
                                  {-2, 16, 54, -4}, {-2, 10, 58, -2}};

constexpr int kMaxBlock = 64;
constexpr int kPad = 8;  // samples read around a block: 3 before and 4 after (luma)

// The reference samples of a block with `before`/`after` extra samples, read directly when
// they lie inside the picture and copied with the coordinates clamped (8-4xx: xInt, yInt
// clipped to the picture) otherwise. Returns a pointer to the block's top-left sample.
const Pel* fetch(const Plane& p, int x, int y, int w, int h, int before, int after, Pel* buf,
                 int& stride) {
  if (x - before >= 0 && y - before >= 0 && x + w + after <= p.width && y + h + after <= p.height) {
    stride = p.stride;
    return p.row(y) + x;
  }
  const int bw = w + before + after, bh = h + before + after;
  stride = bw;
  for (int j = 0; j < bh; ++j) {
    const Pel* src = p.row(std::clamp(y - before + j, 0, p.height - 1));
    Pel* d = buf + j * bw;
    for (int i = 0; i < bw; ++i) d[i] = src[std::clamp(x - before + i, 0, p.width - 1)];
  }
  return buf + before * bw + before;
}

// Interpolates a w x h block at 14-bit precision (8.5.3.3.3.1 / .2 with BitDepth 8: shift1 0,
// shift2 6, shift3 6). `taps` has `n` taps; (fx, fy) index the tap tables.
template <int N>
void interpolate(const Pel* src, int stride, int w, int h, const int8_t* tx, const int8_t* ty,
                 bool fx, bool fy, int16_t* dst) {
  constexpr int off = N / 2 - 1;
  if (!fx && !fy) {
    for (int y = 0; y < h; ++y)
      for (int x = 0; x < w; ++x) dst[y * w + x] = static_cast<int16_t>(src[y * stride + x] << 6);
    return;
  }
  if (!fy) {
    for (int y = 0; y < h; ++y)
      for (int x = 0; x < w; ++x) {
        const Pel* s = src + y * stride + x - off;
        int v = 0;
        for (int k = 0; k < N; ++k) v += tx[k] * s[k];
        dst[y * w + x] = static_cast<int16_t>(v);
      }
    return;
  }
  if (!fx) {
    for (int y = 0; y < h; ++y)
      for (int x = 0; x < w; ++x) {
        const Pel* s = src + (y - off) * stride + x;
        int v = 0;
        for (int k = 0; k < N; ++k) v += ty[k] * s[k * stride];
        dst[y * w + x] = static_cast<int16_t>(v);
      }
    return;
  }
  int16_t tmp[(kMaxBlock + kPad) * kMaxBlock];
  const int rows = h + N - 1;
  for (int y = 0; y < rows; ++y)
    for (int x = 0; x < w; ++x) {
      const Pel* s = src + (y - off) * stride + x - off;
      int v = 0;
      for (int k = 0; k < N; ++k) v += tx[k] * s[k];
      tmp[y * w + x] = static_cast<int16_t>(v);
    }
  for (int y = 0; y < h; ++y)
    for (int x = 0; x < w; ++x) {
      int v = 0;
      for (int k = 0; k < N; ++k) v += ty[k] * tmp[(y + k) * w + x];
      dst[y * w + x] = static_cast<int16_t>(v >> 6);
    }
}

// The 14-bit prediction of one component from one reference.
void predict_component(const Plane& ref, int cidx, Mv mv, int x, int y, int w, int h,
                       int16_t* out) {
  Pel buf[(kMaxBlock + kPad) * (kMaxBlock + kPad)];
  int stride = 0;
  if (cidx == 0) {
    const int fx = mv.x & 3, fy = mv.y & 3;
    const Pel* src = fetch(ref, x + (mv.x >> 2), y + (mv.y >> 2), w, h, 3, 4, buf, stride);
    interpolate<8>(src, stride, w, h, kLumaTaps[fx], kLumaTaps[fy], fx != 0, fy != 0, out);
  } else {
    const int fx = mv.x & 7, fy = mv.y & 7;
    const Pel* src = fetch(ref, x + (mv.x >> 3), y + (mv.y >> 3), w, h, 1, 2, buf, stride);
    interpolate<4>(src, stride, w, h, kChromaTaps[fx], kChromaTaps[fy], fx != 0, fy != 0, out);
  }
}

Pel clip8(int v) { return static_cast<Pel>(std::clamp(v, 0, 255)); }

}  // namespace

PredWeights PredWeights::from_slice(const SliceHeader& h, bool weighted) {
  PredWeights pw;
  pw.enabled = weighted;
  if (!weighted) return pw;
  const PredWeightTable& t = h.pwt;
  const int ld = static_cast<int>(t.luma_log2_denom);
  const int cd = ld + t.delta_chroma_log2_denom;
  pw.log2_wd[0] = ld;
  pw.log2_wd[1] = pw.log2_wd[2] = cd;
  const int lists = h.type() == SliceType::B ? 2 : 1;
  for (int l = 0; l < lists; ++l) {
    const int n = static_cast<int>(l ? h.num_ref_idx_l1_minus1 : h.num_ref_idx_l0_minus1) + 1;
    for (int i = 0; i < n; ++i) {
      pw.w[l][i][0] =
          static_cast<int16_t>((1 << ld) + (t.luma_flag[l][i] ? t.luma_weight[l][i] : 0));
      pw.o[l][i][0] = static_cast<int16_t>(t.luma_flag[l][i] ? t.luma_offset[l][i] : 0);
      for (int c = 0; c < 2; ++c) {
        const int cw = (1 << cd) + (t.chroma_flag[l][i] ? t.chroma_weight[l][i][c] : 0);
        int co = 0;
        if (t.chroma_flag[l][i]) {
          // wpOffsetHalfRangeC = 128 at 8 bits (7.4.7.3).
          co = std::clamp(128 - ((128 * cw) >> cd) + t.chroma_offset[l][i][c], -128, 127);
        }
        pw.w[l][i][c + 1] = static_cast<int16_t>(cw);
        pw.o[l][i][c + 1] = static_cast<int16_t>(co);
      }
    }
  }
  return pw;
}

void predict_inter(const Frame* const ref[2], const MvField& m, int x, int y, int w, int h,
                   const PredWeights& weights, Frame& dst) {
  int16_t pred[2][kMaxBlock * kMaxBlock];
  for (int c = 0; c < 3; ++c) {
    const int sh = c ? 1 : 0;
    const int cx = x >> sh, cy = y >> sh, cw = w >> sh, ch = h >> sh;
    for (int l = 0; l < 2; ++l)
      if (m.pred(l)) predict_component(ref[l]->planes[c], c, m.mv[l], cx, cy, cw, ch, pred[l]);
    Plane& out = dst.planes[c];
    const bool bi = m.pred(0) && m.pred(1);
    const int l = m.pred(0) ? 0 : 1;
    if (!weights.enabled) {
      for (int j = 0; j < ch; ++j) {
        Pel* d = out.row(cy + j) + cx;
        const int16_t* a = pred[0] + j * cw;
        const int16_t* b = pred[1] + j * cw;
        const int16_t* u = pred[l] + j * cw;
        if (bi)
          for (int i = 0; i < cw; ++i) d[i] = clip8((a[i] + b[i] + 64) >> 7);
        else
          for (int i = 0; i < cw; ++i) d[i] = clip8((u[i] + 32) >> 6);
      }
      continue;
    }
    const int log2wd = weights.log2_wd[c] + 6;  // + shift1 = 14 - BitDepth
    if (bi) {
      const int w0 = weights.w[0][m.ref_idx[0]][c], w1 = weights.w[1][m.ref_idx[1]][c];
      const int o0 = weights.o[0][m.ref_idx[0]][c], o1 = weights.o[1][m.ref_idx[1]][c];
      for (int j = 0; j < ch; ++j) {
        Pel* d = out.row(cy + j) + cx;
        const int16_t* a = pred[0] + j * cw;
        const int16_t* b = pred[1] + j * cw;
        for (int i = 0; i < cw; ++i)
          d[i] = clip8((a[i] * w0 + b[i] * w1 + ((o0 + o1 + 1) << log2wd)) >> (log2wd + 1));
      }
    } else {
      const int w0 = weights.w[l][m.ref_idx[l]][c], o0 = weights.o[l][m.ref_idx[l]][c];
      const int round = 1 << (log2wd - 1);
      for (int j = 0; j < ch; ++j) {
        Pel* d = out.row(cy + j) + cx;
        const int16_t* u = pred[l] + j * cw;
        for (int i = 0; i < cw; ++i) d[i] = clip8(((u[i] * w0 + round) >> log2wd) + o0);
      }
    }
  }
}

}  // namespace hevc
