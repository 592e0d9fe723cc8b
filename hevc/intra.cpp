#include "intra.h"

#include <algorithm>
#include <cstdlib>
#include <cstring>

#include "simd.h"

#if defined(__SSSE3__)
#include <tmmintrin.h>
#endif
#if defined(__AVX2__)
#include <immintrin.h>
#endif

namespace hevc {

namespace {

constexpr int8_t kAngle[35] = {0,  0,  32,  26,  21,  17,  13,  9,   5,   2,   0,   -2,
                               -5, -9, -13, -17, -21, -26, -32, -26, -21, -17, -13, -9,
                               -5, -2, 0,   2,   5,   9,   13,  17,  21,  26,  32};
constexpr int16_t kInvAngle[15] = {-4096, -1638, -910, -630, -482, -390,  -315, -256,
                                   -315,  -390,  -482, -630, -910, -1638, -4096};

#if defined(__SSSE3__)
// Two rows of 4 (or one row of 8) weighted pairs: ab holds the interleaved samples (r[i],
// r[i + 1]), w the per-row weights; returns the eight rounded predictions as 16-bit lanes
// ((32 - fact) * r[i] + fact * r[i + 1] + 16) >> 5 (the weighted sum fits in 13 bits).
inline __m128i angular_lanes(__m128i ab, __m128i w) {
  return _mm_srli_epi16(_mm_add_epi16(_mm_maddubs_epi16(ab, w), _mm_set1_epi16(16)), 5);
}
#if defined(__AVX2__)
// The same for two registers' worth: a 128-bit lane per row of 16 (or per half of a row of 32).
inline __m256i angular_lanes(__m256i ab, __m256i w) {
  return _mm256_srli_epi16(_mm256_add_epi16(_mm256_maddubs_epi16(ab, w), _mm256_set1_epi16(16)), 5);
}
#endif
inline __m128i pair_weights(int fact) {
  return _mm_set1_epi16(static_cast<int16_t>(((fact & 0xff) << 8) | (32 - fact)));
}

// 4x4 and 8x8 angular blocks from byte shuffles of two registers: the main side's first 16
// samples (from its sample 1 for the positive angles, which read none before it) and the other
// side's, whose samples the negative angles project onto the main side's extension. No
// extension is built, nor any position or weight computed: per mode, a table holds for each
// byte of the interleaved pairs (r[i], r[i + 1]) that angular_lanes weighs its sample in either
// register and its weight. (A sample of weight 0, the second of a pair where fact is 0, is
// taken as 0: it is the only one that could lie beyond the 16.)
template <int N>
struct AngularShuffles {
  // Vectors of 16 bytes (eight pairs): two rows of 4, or one row of 8; an 8x8 block's in the
  // order its AVX2 kernel packs them, rows 0, 2, 1, 3, 4, 6, 5, 7.
  static constexpr int kVectors = N * N / 8;
  alignas(32) int8_t main[33][kVectors][16];  // the byte of the main side's register, or -128
  alignas(32) int8_t side[33][kVectors][16];  // the byte of the other side's register, or -128
  alignas(32) int8_t weight[33][kVectors][16];
};

template <int N>
constexpr AngularShuffles<N> make_angular_shuffles() {
  AngularShuffles<N> t{};
  constexpr int kRow8[8] = {0, 2, 1, 3, 4, 6, 5, 7};
  for (int mode = 2; mode < 35; ++mode) {
    const int angle = kAngle[mode];
    for (int v = 0; v < AngularShuffles<N>::kVectors; ++v)
      for (int b = 0; b < 16; ++b) {
        const int row = N == 4 ? 2 * v + b / 8 : kRow8[v];
        const int i = (b % (2 * N)) / 2, second = b & 1;
        const int pos = (row + 1) * angle, fact = pos & 31;
        const int at = (pos >> 5) + 1 + i + second;  // in the (extended) main side
        const int w = second ? fact : 32 - fact;
        int from_main = -128, from_side = -128;
        if (w != 0) {
          if (angle >= 0)
            from_main = at - 1;
          else if (at >= 0)
            from_main = at;
          else
            from_side = (at * kInvAngle[mode - 11] + 128) >> 8;
        }
        t.main[mode - 2][v][b] = static_cast<int8_t>(from_main);
        t.side[mode - 2][v][b] = static_cast<int8_t>(from_side);
        t.weight[mode - 2][v][b] = static_cast<int8_t>(w);
      }
  }
  return t;
}

constexpr AngularShuffles<4> kAngular4 = make_angular_shuffles<4>();

inline __m128i load16(const void* p) {
  return _mm_loadu_si128(reinterpret_cast<const __m128i*>(p));
}

void angular_shuffled4(const Pel* main_side, const Pel* side, int mode, Pel* out) {
  const bool negative = kAngle[mode] < 0;
  const __m128i m = load16(main_side + (negative ? 0 : 1)), s = load16(side);
  const int k = mode - 2;
  __m128i rows[2];
  for (int v = 0; v < 2; ++v) {
    __m128i ab = _mm_shuffle_epi8(m, load16(kAngular4.main[k][v]));
    if (negative) ab = _mm_or_si128(ab, _mm_shuffle_epi8(s, load16(kAngular4.side[k][v])));
    rows[v] = angular_lanes(ab, load16(kAngular4.weight[k][v]));
  }
  _mm_storeu_si128(reinterpret_cast<__m128i*>(out), _mm_packus_epi16(rows[0], rows[1]));
}

#if defined(__AVX2__)
constexpr AngularShuffles<8> kAngular8 = make_angular_shuffles<8>();

void angular_shuffled8(const Pel* main_side, const Pel* side, int mode, Pel* out) {
  const bool negative = kAngle[mode] < 0;
  const __m256i m = _mm256_broadcastsi128_si256(load16(main_side + (negative ? 0 : 1)));
  const __m256i s = _mm256_broadcastsi128_si256(load16(side));
  const int k = mode - 2;
  auto load32 = [](const void* p) {
    return _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p));
  };
  // Two vectors per register: rows 0 and 2, 1 and 3 (packed: rows 0..3), then 4 and 6, 5 and 7.
  auto rows = [&](int v) {
    __m256i ab = _mm256_shuffle_epi8(m, load32(kAngular8.main[k][v]));
    if (negative) ab = _mm256_or_si256(ab, _mm256_shuffle_epi8(s, load32(kAngular8.side[k][v])));
    return angular_lanes(ab, load32(kAngular8.weight[k][v]));
  };
  for (int h = 0; h < 2; ++h)
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(out + 32 * h),
                        _mm256_packus_epi16(rows(4 * h), rows(4 * h + 2)));
}
#endif
#endif

// One row of angular prediction: d[i] = ((32 - fact) * r[i] + fact * r[i + 1] + 16) >> 5;
// 16 samples per step where SSSE3 is there (angular_block takes the narrower blocks itself).
void angular_row(const Pel* r, int fact, Pel* d, int n) {
  int i = 0;
#if defined(__SSSE3__)
  const __m128i w = pair_weights(fact);
  for (; i + 16 <= n; i += 16) {
    const __m128i a = _mm_loadu_si128(reinterpret_cast<const __m128i*>(r + i));
    const __m128i b = _mm_loadu_si128(reinterpret_cast<const __m128i*>(r + i + 1));
    _mm_storeu_si128(reinterpret_cast<__m128i*>(d + i),
                     _mm_packus_epi16(angular_lanes(_mm_unpacklo_epi8(a, b), w),
                                      angular_lanes(_mm_unpackhi_epi8(a, b), w)));
  }
#endif
  const int f0 = 32 - fact;
  for (; i < n; ++i) d[i] = static_cast<Pel>((f0 * r[i] + fact * r[i + 1] + 16) >> 5);
}

// All rows of an N x N angular block along the main direction. fact == 0 needs no special
// case: the weights (32, 0) reproduce the reference sample exactly.
template <int N>
void angular_block(const Pel* ref, int angle, Pel* out) {
#if defined(__SSSE3__)
  if constexpr (N == 8) {
    for (int j = 0; j < 8; j += 2) {
      __m128i v[2];
      for (int k = 0; k < 2; ++k) {
        const int pos = (j + k + 1) * angle;
        const Pel* r = ref + (pos >> 5) + 1;
        const __m128i a = _mm_loadl_epi64(reinterpret_cast<const __m128i*>(r));
        const __m128i b = _mm_loadl_epi64(reinterpret_cast<const __m128i*>(r + 1));
        v[k] = angular_lanes(_mm_unpacklo_epi8(a, b), pair_weights(pos & 31));
      }
      _mm_storeu_si128(reinterpret_cast<__m128i*>(out + j * 8), _mm_packus_epi16(v[0], v[1]));
    }
    return;
  }
#endif
#if defined(__AVX2__)
  if constexpr (N >= 16) {
    // 32 samples per step: two rows of 16 (one per 128-bit lane) or one row of 32.
    constexpr int kRows = N == 16 ? 2 : 1;
    for (int j = 0; j < N; j += kRows) {
      __m128i a[2], b[2], w[2];
      for (int k = 0; k < 2; ++k) {
        const int row = j + (kRows == 2 ? k : 0), at = kRows == 2 ? 0 : 16 * k;
        const int pos = (row + 1) * angle;
        const Pel* r = ref + (pos >> 5) + 1 + at;
        a[k] = _mm_loadu_si128(reinterpret_cast<const __m128i*>(r));
        b[k] = _mm_loadu_si128(reinterpret_cast<const __m128i*>(r + 1));
        w[k] = pair_weights(pos & 31);
      }
      const __m256i av = _mm256_set_m128i(a[1], a[0]), bv = _mm256_set_m128i(b[1], b[0]);
      const __m256i wv = _mm256_set_m128i(w[1], w[0]);
      _mm256_storeu_si256(reinterpret_cast<__m256i*>(out + j * N),
                          _mm256_packus_epi16(angular_lanes(_mm256_unpacklo_epi8(av, bv), wv),
                                              angular_lanes(_mm256_unpackhi_epi8(av, bv), wv)));
    }
    return;
  }
#endif
  for (int j = 0; j < N; ++j) {
    const int pos = (j + 1) * angle;
    angular_row(ref + (pos >> 5) + 1, pos & 31, out + j * N, N);
  }
}

// Planar prediction (8.4.4.2.5) with the vertical part kept as a running sum per column; all
// terms fit 16 bits (weights sum to 2N, samples are 8-bit), so the loops vectorise in 16-bit lanes.
template <int N>
void planar(const Pel* left, const Pel* top, Pel* dst, int stride) {
  constexpr int Log2 = N == 4 ? 2 : (N == 8 ? 3 : (N == 16 ? 4 : 5));
#if defined(__SSE2__)
  // Eight 16-bit lanes per step, two rows of 4 or eight columns of a row (lane x of a row:
  // vert[x] + (N-1-x) * left + (x+1) * tr); the compiler's vectoriser does worse even with
  // the wider blocks.
  constexpr int rows = N == 4 ? 2 : 1, groups = N == 4 ? 1 : N / 8;
  const __m128i zero = _mm_setzero_si128();
  const __m128i tr = _mm_set1_epi16(top[1 + N]), bl = _mm_set1_epi16(left[1 + N]);
  __m128i wl[groups], wr[groups], step[groups], vert[groups];
  for (int g = 0; g < groups; ++g) {
    const __m128i x1 = N == 4 ? _mm_setr_epi16(1, 2, 3, 4, 1, 2, 3, 4)
                              : _mm_add_epi16(_mm_setr_epi16(1, 2, 3, 4, 5, 6, 7, 8),
                                              _mm_set1_epi16(static_cast<int16_t>(8 * g)));
    wl[g] = _mm_sub_epi16(_mm_set1_epi16(N), x1);
    wr[g] = _mm_mullo_epi16(x1, tr);
    __m128i t;  // the top row, repeated for each row held
    if constexpr (N == 4) {
      t = _mm_unpacklo_epi8(load4(top + 1), zero);
      t = _mm_unpacklo_epi64(t, t);
    } else {
      t = _mm_unpacklo_epi8(_mm_loadl_epi64(reinterpret_cast<const __m128i*>(top + 1 + 8 * g)),
                            zero);
    }
    step[g] = _mm_mullo_epi16(_mm_sub_epi16(bl, t), _mm_set1_epi16(rows));
    // (N - 1 - y) * top + (y + 1) * bl + N for the first row(s).
    vert[g] = _mm_add_epi16(_mm_mullo_epi16(t, _mm_set1_epi16(N - 1)),
                            _mm_add_epi16(bl, _mm_set1_epi16(N)));
    if constexpr (N == 4)  // the second row of each pair is one step further
      vert[g] = _mm_add_epi16(vert[g], _mm_unpacklo_epi64(zero, _mm_sub_epi16(bl, t)));
  }
  for (int y = 0; y < N; y += rows) {
    const __m128i l =
        N == 4 ? _mm_unpacklo_epi64(_mm_set1_epi16(left[1 + y]), _mm_set1_epi16(left[2 + y]))
               : _mm_set1_epi16(left[1 + y]);
    __m128i v[groups];
    for (int g = 0; g < groups; ++g) {
      v[g] = _mm_srli_epi16(_mm_add_epi16(_mm_add_epi16(vert[g], _mm_mullo_epi16(wl[g], l)), wr[g]),
                            Log2 + 1);
      vert[g] = _mm_add_epi16(vert[g], step[g]);
    }
    Pel* d = dst + y * stride;
    if constexpr (N == 4) {
      const __m128i bytes = _mm_packus_epi16(v[0], v[0]);
      store4(d, bytes);
      store4(d + stride, _mm_srli_si128(bytes, 4));
    } else if constexpr (N == 8) {
      _mm_storel_epi64(reinterpret_cast<__m128i*>(d), _mm_packus_epi16(v[0], v[0]));
    } else {
      for (int g = 0; g < groups; g += 2)
        _mm_storeu_si128(reinterpret_cast<__m128i*>(d + 8 * g), _mm_packus_epi16(v[g], v[g + 1]));
    }
  }
#else
  const int16_t tr = top[1 + N], bl = left[1 + N];
  int16_t vert[N], step[N], wl[N], wr[N];
  for (int x = 0; x < N; ++x) {
    vert[x] = static_cast<int16_t>((N - 1) * top[1 + x] + bl + N);
    step[x] = static_cast<int16_t>(bl - top[1 + x]);
    wl[x] = static_cast<int16_t>(N - 1 - x);
    wr[x] = static_cast<int16_t>((x + 1) * tr);
  }
  for (int y = 0; y < N; ++y) {
    const int16_t l = left[1 + y];
    Pel* d = dst + y * stride;
    for (int x = 0; x < N; ++x)
      d[x] = static_cast<Pel>(static_cast<uint16_t>(vert[x] + wl[x] * l + wr[x]) >> (Log2 + 1));
    for (int x = 0; x < N; ++x) vert[x] = static_cast<int16_t>(vert[x] + step[x]);
  }
#endif
}

#if defined(__SSE2__)
// dst (rows of `ds`) = the transpose of the 8x8 block at src (rows of `ss`).
inline void transpose8(const Pel* src, int ss, Pel* dst, int ds) {
  __m128i r[8];
  for (int j = 0; j < 8; ++j)
    r[j] = _mm_loadl_epi64(reinterpret_cast<const __m128i*>(src + ss * j));
  const __m128i a0 = _mm_unpacklo_epi8(r[0], r[1]), a1 = _mm_unpacklo_epi8(r[2], r[3]);
  const __m128i a2 = _mm_unpacklo_epi8(r[4], r[5]), a3 = _mm_unpacklo_epi8(r[6], r[7]);
  const __m128i b0 = _mm_unpacklo_epi16(a0, a1), b1 = _mm_unpackhi_epi16(a0, a1);
  const __m128i b2 = _mm_unpacklo_epi16(a2, a3), b3 = _mm_unpackhi_epi16(a2, a3);
  const __m128i c[4] = {_mm_unpacklo_epi32(b0, b2), _mm_unpackhi_epi32(b0, b2),
                        _mm_unpacklo_epi32(b1, b3), _mm_unpackhi_epi32(b1, b3)};
  for (int k = 0; k < 4; ++k) {
    _mm_storel_epi64(reinterpret_cast<__m128i*>(dst + (2 * k) * ds), c[k]);
    _mm_storel_epi64(reinterpret_cast<__m128i*>(dst + (2 * k + 1) * ds), _mm_srli_si128(c[k], 8));
  }
}
#endif

// dst (rows of `stride`) = the transpose of the contiguous N x N block.
template <int N>
void transpose_into(const Pel* block, Pel* dst, int stride) {
#if defined(__SSSE3__)
  if constexpr (N == 4) {
    const __m128i m = _mm_setr_epi8(0, 4, 8, 12, 1, 5, 9, 13, 2, 6, 10, 14, 3, 7, 11, 15);
    const __m128i t = _mm_shuffle_epi8(_mm_loadu_si128(reinterpret_cast<const __m128i*>(block)), m);
    store4(dst, t);  // (the byte shifts need immediates, hence no loop)
    store4(dst + stride, _mm_srli_si128(t, 4));
    store4(dst + 2 * stride, _mm_srli_si128(t, 8));
    store4(dst + 3 * stride, _mm_srli_si128(t, 12));
    return;
  }
#endif
#if defined(__SSE2__)
  if constexpr (N >= 8) {
    // 8x8 tiles: tile (ty, tx) of the block goes to tile (tx, ty).
    for (int ty = 0; ty < N; ty += 8)
      for (int tx = 0; tx < N; tx += 8)
        transpose8(block + ty * N + tx, N, dst + tx * stride + ty, stride);
    return;
  }
#endif
  for (int y = 0; y < N; ++y)
    for (int x = 0; x < N; ++x) dst[y * stride + x] = block[x * N + y];
}

// The shuffled kernels where the instruction set has them; false for the other sizes.
bool angular_shuffled(int log2n, const Pel* main_side, const Pel* side, int mode, Pel* out) {
#if defined(__SSSE3__)
  if (log2n == 2) {
    angular_shuffled4(main_side, side, mode, out);
    return true;
  }
#endif
#if defined(__AVX2__)
  if (log2n == 3) {
    angular_shuffled8(main_side, side, mode, out);
    return true;
  }
#endif
  return false;
}

// The pure horizontal and vertical modes' first column (of `out`, along the main direction)
// of a luma block, with the gradient of the other side.
inline void filter_edge(int log2n, int cidx, const Pel* main_side, const Pel* side, int mode,
                        Pel* out) {
  const int n = 1 << log2n;
  if (cidx == 0 && n < 32 && (mode == 26 || mode == 10))
    for (int j = 0; j < n; ++j)
      out[j * n] = static_cast<Pel>(clip_pel(main_side[1] + ((side[1 + j] - side[0]) >> 1)));
}

// The angular block of the other sizes, through the main side extended in a copy. Not inlined:
// its frame (the copy, the AVX2 registers) would be set up for every block, the small ones too.
[[gnu::noinline]] void angular_extended(int log2n, const Pel* main_side, const Pel* side, int mode,
                                        Pel* out) {
  const int n = 1 << log2n;
  const int angle = kAngle[mode];
  // ref[0 .. 2n] is the main side itself for the positive angles; the negative ones extend it
  // to ref[-n .. -1] from the other side, in a copy. (The last row of angle 32 also reads
  // ref[2n + 1] with weight 0: it stays inside the reference arrays.)
  Pel buf[3 * 64 + 1];
  const Pel* ref = main_side;
  if (angle < 0) {
    Pel* ext = buf + n;
    copy_row(ext, main_side, n);
    ext[n] = main_side[n];
    const int last = (n * angle) >> 5;
    if (last < -1) {
      const int inv = kInvAngle[mode - 11];
      for (int i = last; i <= -1; ++i) ext[i] = side[(i * inv + 128) >> 8];
    }
    ref = ext;
  }
  with_block_size(log2n, [&](auto size) { angular_block<size()>(ref, angle, out); });
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

// Sum of the n samples at p (n = 4, 8, 16 or 32).
template <int N>
int sum_samples(const Pel* p) {
#if defined(__SSE2__)
  const __m128i zero = _mm_setzero_si128();
  if constexpr (N <= 8) {
    const __m128i v = N == 4 ? load4(p) : _mm_loadl_epi64(reinterpret_cast<const __m128i*>(p));
    return _mm_cvtsi128_si32(_mm_sad_epu8(v, zero));
  } else {
    __m128i acc = zero;
    for (int i = 0; i < N; i += 16)
      acc = _mm_add_epi64(
          acc, _mm_sad_epu8(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p + i)), zero));
    return _mm_cvtsi128_si32(_mm_add_epi64(acc, _mm_unpackhi_epi64(acc, acc)));
  }
#else
  int sum = 0;
  for (int i = 0; i < N; ++i) sum += p[i];
  return sum;
#endif
}

// DC prediction (8.4.4.2.6), the first row and column of a luma block filtered.
template <int N>
void dc(const Pel* left, const Pel* top, int cidx, Pel* dst, int stride) {
  constexpr int Log2 = N == 4 ? 2 : (N == 8 ? 3 : (N == 16 ? 4 : 5));
  const int dc = (N + sum_samples<N>(top + 1) + sum_samples<N>(left + 1)) >> (Log2 + 1);
  for (int y = 0; y < N; ++y) std::memset(dst + y * stride, dc, N);
  if (cidx == 0 && N < 32) {
    for (int x = 1; x < N; ++x) dst[x] = static_cast<Pel>((top[1 + x] + 3 * dc + 2) >> 2);
    dst[0] = static_cast<Pel>((left[1] + 2 * dc + top[1] + 2) >> 2);
    for (int y = 1; y < N; ++y) dst[y * stride] = static_cast<Pel>((left[1 + y] + 3 * dc + 2) >> 2);
  }
}

// intra_pred of an N x N block.
template <int N>
void predict(const IntraRefs& r, int cidx, int mode, Pel* dst, int stride) {
  if (mode == 0) {
    planar<N>(r.left, r.top, dst, stride);
  } else if (mode == 1) {
    dc<N>(r.left, r.top, cidx, dst, stride);
  } else {
    Pel block[N * N];
    if (intra_pred_main(r, cidx, mode, block)) {
      transpose_into<N>(block, dst, stride);
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
  if (!angular_shuffled(r.log2n, main_side, side, mode, out))
    angular_extended(r.log2n, main_side, side, mode, out);
  filter_edge(r.log2n, cidx, main_side, side, mode, out);
  return !vertical;
}

void transpose_block(const Pel* block, int log2n, Pel* dst, int stride) {
  with_block_size(log2n, [&](auto size) { transpose_into<size()>(block, dst, stride); });
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
