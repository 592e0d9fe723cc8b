#include "intra.h"

#include <algorithm>
#include <cstdlib>
#include <cstring>

#include "dsp/dsp.h"

namespace hevc {

namespace {

// The pure horizontal and vertical modes' first column (of `out`, along the main direction)
// of a luma block, with the gradient of the other side.
inline void filter_edge(int log2n, int cidx, const Pel* main_side, const Pel* side, int mode,
                        Pel* out) {
  const int n = 1 << log2n;
  if (cidx == 0 && n < 32 && (mode == 26 || mode == 10))
    for (int j = 0; j < n; ++j)
      out[j * n] = static_cast<Pel>(clip_pel(main_side[1] + ((side[1 + j] - side[0]) >> 1)));
}

// intra_build_refs of an N x N luma (Unit 4) or chroma (Unit 2) block: the samples per minimum
// block and their number constants, so that the loops over them unroll.
template <int Unit, int N>
void build_refs(const IntraContext& ctx, int x, int y, IntraRefs& r) {
  r.log2n = N == 4 ? 2 : N == 8 ? 3 : N == 16 ? 4 : 5;
  constexpr int n2 = 2 * N;
  constexpr int sh = Unit == 2 ? 1 : 0, unit = Unit;
  constexpr int units = n2 / unit;
  const int xl = x << sh, yl = y << sh;
  const Plane& p = *ctx.plane;
  const CodingInfo& info = *ctx.info;
  // Availability per minimum block (4 luma samples): left units top to bottom, top units left
  // to right. Available samples go straight to r.left[1 + i] = p[-1][i], r.top[1 + i] = p[i][-1].
  bool av_left[32], av_top[32], av_corner;
  info.available_run(xl, yl, xl - 1, yl, 0, 4, units, av_left);
  info.available_run(xl, yl, xl - 1, yl - 1, 0, 0, 1, &av_corner);
  info.available_run(xl, yl, xl, yl - 1, 4, 0, units, av_top);
  if (ctx.constrained_intra) {
    auto intra = [&](bool& av, int xn, int yn) {
      av = av && info.blk(xn, yn).pred_mode == static_cast<uint8_t>(PredMode::Intra);
    };
    for (int u = 0; u < units; ++u) {
      intra(av_left[u], xl - 1, yl + 4 * u);
      intra(av_top[u], xl + 4 * u, yl - 1);
    }
    intra(av_corner, xl - 1, yl - 1);
  }
  int count = av_corner;
  for (int u = 0; u < units; ++u) count += av_left[u] + av_top[u];
  // (Locals: a sample's store, a byte, could alias the plane's members.)
  const Pel* const samples = p.row(0);
  const ptrdiff_t stride = p.stride;
  Pel* const left = r.left;
  for (int u = 0; u < units; ++u) {
    if (!av_left[u]) continue;
    for (int j = 0; j < unit; ++j)
      left[1 + u * unit + j] = samples[(y + u * unit + j) * stride + x - 1];
  }
  if (av_corner) left[0] = samples[(y - 1) * stride + x - 1];
  for (int u = 0; u < units; ++u)
    if (av_top[u]) copy_row(r.top + 1 + u * unit, samples + (y - 1) * stride + x + u * unit, unit);
  if (count == 0) {
    std::memset(r.left, 128, n2 + 1);
    std::memset(r.top, 128, n2 + 1);
    return;
  }
  if (count < 2 * units + 1) {
    // Substitution (8.4.4.2.2) along p[-1][2n-1] ... p[-1][-1] ... p[2n-1][-1]: samples before
    // the first available one take its value, later unavailable ones their predecessor's. Done
    // per unit (all of a unit's samples share availability): the left units bottom to top,
    // the corner, the top units left to right.
    // The first available sample in that order (count > 0: there is one).
    Pel prev;
    int ul = units - 1, ut = 0;
    while (ul >= 0 && !av_left[ul]) --ul;
    if (ul >= 0) {
      prev = r.left[ul * unit + unit];
    } else if (av_corner) {
      prev = r.left[0];
    } else {
      while (!av_top[ut]) ++ut;
      prev = r.top[1 + ut * unit];
    }
    // Then prev is the last sample before the current unit, in that order.
    for (int u = units - 1; u >= 0; --u) {
      Pel* seg = r.left + 1 + u * unit;
      if (!av_left[u]) std::memset(seg, prev, static_cast<size_t>(unit));
      prev = seg[0];
    }
    if (!av_corner) r.left[0] = prev;
    prev = r.left[0];
    for (int u = 0; u < units; ++u) {
      Pel* seg = r.top + 1 + u * unit;
      if (!av_top[u]) std::memset(seg, prev, static_cast<size_t>(unit));
      prev = seg[unit - 1];
    }
  }
  r.top[0] = r.left[0];
}

// intra_pred of an N x N block.
template <int N>
void predict(const IntraRefs& r, int cidx, int mode, Pel* dst, int stride) {
  constexpr int k = N == 4 ? 0 : (N == 8 ? 1 : (N == 16 ? 2 : 3));
  const dsp::IntraKernels& kernels = dsp::kernels().intra;
  if (mode == 0) {
    kernels.planar[k](r.left, r.top, dst, stride);
  } else if (mode == 1) {
    kernels.dc[k](r.left, r.top, cidx == 0, dst, stride);
  } else {
    Pel block[N * N];
    if (intra_pred_main(r, cidx, mode, block)) {
      kernels.transpose[k](block, dst, stride);
    } else {
      for (int y = 0; y < N; ++y) std::memcpy(dst + y * stride, block + y * N, N);
    }
  }
}

}  // namespace

void intra_build_refs(const IntraContext& ctx, int cidx, int x, int y, int log2n, IntraRefs& r) {
  with_block_size(log2n, [&](auto n) {
    if (cidx)
      build_refs<2, n>(ctx, x, y, r);
    else
      build_refs<4, n>(ctx, x, y, r);
  });
}

const IntraRefs& intra_filter_refs(const IntraRefs& raw, int cidx, int mode, bool strong_enabled,
                                   IntraRefs& f) {
  const int n = 1 << raw.log2n, n2 = 2 * n;
  if (!intra_filter_needed(cidx, mode, raw.log2n)) return raw;
  f.log2n = raw.log2n;
  const int c = raw.left[0];
  if (strong_enabled && n == 32 && std::abs(c + raw.top[n2] - 2 * raw.top[n]) < 8 &&
      std::abs(c + raw.left[n2] - 2 * raw.left[n]) < 8) {
    f.left[0] = f.top[0] = static_cast<Pel>(c);
    for (int i = 0; i < 63; ++i) {
      f.left[1 + i] = static_cast<Pel>(((63 - i) * c + (i + 1) * raw.left[64] + 32) >> 6);
      f.top[1 + i] = static_cast<Pel>(((63 - i) * c + (i + 1) * raw.top[64] + 32) >> 6);
    }
    f.left[64] = raw.left[64];
    f.top[64] = raw.top[64];
    return f;
  }
  f.left[0] = f.top[0] = static_cast<Pel>((raw.left[1] + 2 * c + raw.top[1] + 2) >> 2);
  for (int i = 1; i < n2; ++i) {
    f.left[i] = static_cast<Pel>((raw.left[i - 1] + 2 * raw.left[i] + raw.left[i + 1] + 2) >> 2);
    f.top[i] = static_cast<Pel>((raw.top[i - 1] + 2 * raw.top[i] + raw.top[i + 1] + 2) >> 2);
  }
  f.left[n2] = raw.left[n2];
  f.top[n2] = raw.top[n2];
  return f;
}

void intra_pred(const IntraRefs& r, int cidx, int mode, Pel* dst, int stride) {
  with_block_size(r.log2n, [&](auto size) { predict<size()>(r, cidx, mode, dst, stride); });
}

bool intra_pred_main(const IntraRefs& r, int cidx, int mode, Pel* out) {
  const bool vertical = mode >= 18;
  const Pel* main_side = vertical ? r.top : r.left;
  const Pel* side = vertical ? r.left : r.top;
  // Rows of `out` run along the main direction: out = pred for vertical modes, its transpose
  // for horizontal ones.
  dsp::kernels().intra.angular[r.log2n - 2](main_side, side, mode, out);
  filter_edge(r.log2n, cidx, main_side, side, mode, out);
  return !vertical;
}

void transpose_block(const Pel* block, int log2n, Pel* dst, int stride) {
  dsp::kernels().intra.transpose[log2n - 2](block, dst, stride);
}

void intra_predict_block(const IntraContext& ctx, int cidx, int x, int y, int log2n, int mode,
                         bool strong_enabled, Pel* dst, int stride) {
  IntraRefs raw, filt;
  intra_build_refs(ctx, cidx, x, y, log2n, raw);
  const IntraRefs& r = intra_filter_refs(raw, cidx, mode, strong_enabled, filt);
  intra_pred(r, cidx, mode, dst, stride);
}

void intra_mpm(int a, int b, int mpm[3]) {
  if (a == b) {
    if (a < 2) {
      mpm[0] = 0;
      mpm[1] = 1;
      mpm[2] = 26;
    } else {
      mpm[0] = a;
      mpm[1] = 2 + ((a + 29) % 32);
      mpm[2] = 2 + ((a - 2 + 1) % 32);
    }
    return;
  }
  mpm[0] = a;
  mpm[1] = b;
  mpm[2] = (a != 0 && b != 0) ? 0 : ((a != 1 && b != 1) ? 1 : 26);
}

}  // namespace hevc
