// The SIMD kernels behind one table of function pointers, grouped by coding tool: a C reference
// of every kernel, always built, and the SSE2, SSE4.1 and AVX2 variants picked once at start-up
// by what the CPU supports (or by CNNFILTER_SIMD / set_simd_level, so that tests can run every
// level). Each level only replaces the kernels it has; every level's results are exactly the C
// reference's (integer arithmetic), which tests/test_dsp.py checks on random inputs.
//
// Files: <tool>_c.cpp (portable), <tool>_sse2.cpp, <tool>_sse41.cpp, <tool>_avx2.cpp, each
// compiled with its own instruction-set flags (hevc/CMakeLists.txt). An ISA file keeps all its
// code in an anonymous namespace and exports only its init function: an inline function of a
// shared header, compiled with -mavx2 and kept out of line, could otherwise be the copy the
// linker keeps for the whole program.
#pragma once

#include <cstddef>
#include <cstdint>

#include "../common.h"

namespace hevc::dsp {

// Kernels indexed by block size are indexed by log2(n) - 2: 4x4, 8x8, 16x16, 32x32.
struct IntraKernels {
  // Planar (8.4.4.2.5) and DC (8.4.4.2.6) from the reference samples as in IntraRefs:
  // left[0] = top[0] = p[-1][-1], left[1 + y] = p[-1][y], top[1 + x] = p[x][-1].
  void (*planar[4])(const Pel* left, const Pel* top, Pel* dst, int stride);
  void (*dc[4])(const Pel* left, const Pel* top, bool filter_edges, Pel* dst, int stride);
  // Angular modes 2..34 into a contiguous block laid out along the mode's main direction,
  // from the main side's and the other side's references (without the edge filter).
  void (*angular[4])(const Pel* main_side, const Pel* side, int mode, Pel* out);
  // dst (rows of `stride`) = the transpose of the contiguous block.
  void (*transpose[4])(const Pel* block, Pel* dst, int stride);
};

struct TransformKernels {
  // Flat scaling (no scaling list) of the levels in columns 0..max_x, rows 0..max_y (the
  // others are zero); qp 0..51.
  void (*dequant_flat)(int16_t* coeff, int log2n, int qp, int max_x, int max_y);
  // Inverse DCT in place; coefficients beyond column max_x or row max_y are zero.
  void (*inverse_dct[4])(int16_t* coeff, int max_x, int max_y);
  void (*forward_dct[4])(const int16_t* residual, int16_t* coeff);
  void (*inverse_dst4)(int16_t* coeff);
  void (*forward_dst4)(const int16_t* residual, int16_t* coeff);
  // dst += res (n x n, rows of n), clipped to 8 bits.
  void (*add_residual[4])(Pel* dst, int stride, const int16_t* res);
};

struct PixelKernels {
  // res = src - pred (n x n, rows of n).
  void (*residual[4])(const Pel* src, int ss, const Pel* pred, int ps, int16_t* res);
  // Sum of squared differences over any w x h.
  uint64_t (*sse)(const Pel* a, int as, const Pel* b, int bs, int w, int h);
  // Sum of absolute differences over any w x h up to 64 x 64 (the motion search's cost).
  uint32_t (*sad)(const Pel* a, int as, const Pel* b, int bs, int w, int h);
  // Hadamard SATD of an n x n block: 4x4 halved, 8x8 tiles quartered, each rounded.
  uint32_t (*satd[4])(const Pel* org, int os, const Pel* pred, int ps);
};

struct SaoKernels {
  // Edge offset over n samples (src[i], neighbours src[i + oa], src[i + ob], all usable):
  // dst[i] = clip(src[i] + offset[category]), offset[0] = 0; dst and src do not overlap.
  void (*edge_apply)(const Pel* src, Pel* dst, int n, ptrdiff_t oa, ptrdiff_t ob,
                     const int offset[5]);
  // The encoder's statistics of the same samples: count[cat] and sum[cat] of org - rec, for
  // categories 1..4 (category 0 is left alone).
  void (*edge_stats)(const Pel* rec, const Pel* org, int n, ptrdiff_t oa, ptrdiff_t ob,
                     int64_t count[5], int64_t sum[5]);
};

// Motion compensation (8.5.3.3.3 and 8.5.3.3.4, BitDepth 8): a w x h block (w a multiple of 4
// for luma, 2 for chroma, up to 64; h up to 64) interpolated into 14-bit samples, dst rows of
// w. src points at the block's first sample and rows of `stride`; the filters read N / 2 - 1
// samples before and N / 2 after it in each filtered direction (N = 8 taps luma, 4 chroma).
// frac: the quarter (luma) or eighth (chroma) sample position, 1.. in the filtered direction.
struct InterKernels {
  // Integer position: src << 6.
  void (*copy)(const Pel* src, ptrdiff_t stride, int w, int h, int16_t* dst);
  // Horizontal only (shift1 0), vertical only (shift1 0), both (first horizontally on h + N - 1
  // rows, then vertically with shift2 6; the 2-D result is kept to 16 bits as int16_t keeps it).
  void (*luma_h)(const Pel* src, ptrdiff_t stride, int w, int h, int fx, int16_t* dst);
  void (*luma_v)(const Pel* src, ptrdiff_t stride, int w, int h, int fy, int16_t* dst);
  void (*luma_hv)(const Pel* src, ptrdiff_t stride, int w, int h, int fx, int fy, int16_t* dst);
  void (*chroma_h)(const Pel* src, ptrdiff_t stride, int w, int h, int fx, int16_t* dst);
  void (*chroma_v)(const Pel* src, ptrdiff_t stride, int w, int h, int fy, int16_t* dst);
  void (*chroma_hv)(const Pel* src, ptrdiff_t stride, int w, int h, int fx, int fy, int16_t* dst);
  // Default weighted prediction into dst (rows of `stride`), clipped to 8 bits: uni
  // (p + 32) >> 6, bi (a + b + 64) >> 7; the 14-bit blocks have rows of w.
  void (*avg_uni)(const int16_t* p, int w, int h, Pel* dst, ptrdiff_t stride);
  void (*avg_bi)(const int16_t* a, const int16_t* b, int w, int h, Pel* dst, ptrdiff_t stride);
  // Explicit weighted prediction (8.5.3.3.4.3), log2wd = denominator + 6 (6..13), weights and
  // offsets as PredWeights holds them (|w| < 256, -128 <= o <= 127).
  void (*weight_uni)(const int16_t* p, int w, int h, int w0, int o0, int log2wd, Pel* dst,
                     ptrdiff_t stride);
  void (*weight_bi)(const int16_t* a, const int16_t* b, int w, int h, int w0, int w1, int o0,
                    int o1, int log2wd, Pel* dst, ptrdiff_t stride);
};

// Deblocking of luma (8.7.2.5.3 decisions, 8.7.2.5.7 filters), BitDepth 8: one 8-sample
// stretch of an edge on the 8x8 grid, made of two 4-line segments, each with its own tc (0:
// left alone; bS and QP are the caller's), beta, and sides not to be modified (no_p, no_q: PCM
// with pcm_loop_filter_disabled_flag, or transquant bypass). `s` points at q0 of the first
// line. luma[0]: a vertical edge (p to the left, lines down `stride`); luma[1]: a horizontal
// edge (p above, lines to the right). Reads p3..q3, writes at most p2..q2.
struct DeblockSegment {
  int tc = 0, beta = 0;
  bool no_p = false, no_q = false;
};

struct DeblockKernels {
  void (*luma[2])(Pel* s, ptrdiff_t stride, const DeblockSegment seg[2]);
};

struct Kernels {
  IntraKernels intra;
  TransformKernels transform;
  PixelKernels pixel;
  SaoKernels sao;
  InterKernels inter;
  DeblockKernels deblock;
};

enum class SimdLevel : int { C = 0, SSE2 = 1, SSE41 = 2, AVX2 = 3 };
constexpr int kNumSimdLevels = 4;

// The table in use, selected before main() (static initialisation) from the CPU and
// CNNFILTER_SIMD.
extern Kernels g_kernels;
inline const Kernels& kernels() { return g_kernels; }

// The best level the CPU (and the build: C only off x86-64) supports.
SimdLevel best_simd_level();
SimdLevel simd_level();
// Selects the kernels of `level`, or of the best supported level below it; returns the level
// selected. Not while other threads code.
SimdLevel set_simd_level(SimdLevel level);
const char* simd_level_name(SimdLevel level);
// "c", "sse2", "sse41", "avx2" (as CNNFILTER_SIMD takes them); false for anything else.
bool parse_simd_level(const char* name, SimdLevel& level);
// The table of one level on its own, as set_simd_level would select it (for the kernel tests).
Kernels kernels_for(SimdLevel level);

// Sets a per-size table to kernel<4>, kernel<8>, kernel<16>, kernel<32> (in the init functions).
#define HEVC_DSP_SIZES(table, kernel) \
  (table)[0] = kernel<4>;             \
  (table)[1] = kernel<8>;             \
  (table)[2] = kernel<16>;            \
  (table)[3] = kernel<32>

// Fill the kernels a level has, over those of the level below (the C reference: all of them).
void init_intra_c(IntraKernels& k);
void init_transform_c(TransformKernels& k);
void init_pixel_c(PixelKernels& k);
void init_sao_c(SaoKernels& k);
void init_inter_c(InterKernels& k);
void init_deblock_c(DeblockKernels& k);
#if defined(CNNFILTER_X86_KERNELS)
void init_intra_sse2(IntraKernels& k);
void init_intra_sse41(IntraKernels& k);
void init_intra_avx2(IntraKernels& k);
void init_transform_sse2(TransformKernels& k);
void init_transform_sse41(TransformKernels& k);
void init_transform_avx2(TransformKernels& k);
void init_pixel_sse2(PixelKernels& k);
void init_pixel_sse41(PixelKernels& k);
void init_pixel_avx2(PixelKernels& k);
void init_sao_sse2(SaoKernels& k);
void init_sao_sse41(SaoKernels& k);
void init_inter_sse2(InterKernels& k);
void init_inter_avx2(InterKernels& k);
void init_deblock_sse2(DeblockKernels& k);
#endif

}  // namespace hevc::dsp
