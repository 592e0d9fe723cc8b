#include "dsp.h"

#include <cstdio>
#include <cstdlib>
#include <cstring>

namespace hevc::dsp {

namespace {

constexpr const char* kNames[kNumSimdLevels] = {"c", "sse2", "sse41", "avx2"};

SimdLevel g_level = SimdLevel::C;

SimdLevel detect() {
#if defined(CNNFILTER_X86_KERNELS)
  // (Static initialisation may run before libgcc's own: ask it to look at the CPU now.)
  __builtin_cpu_init();
  // AVX2 also needs the OS to save the YMM registers; __builtin_cpu_supports checks that.
  if (__builtin_cpu_supports("avx2")) return SimdLevel::AVX2;
  if (__builtin_cpu_supports("sse4.1") && __builtin_cpu_supports("ssse3")) return SimdLevel::SSE41;
  if (__builtin_cpu_supports("sse2")) return SimdLevel::SSE2;
#endif
  return SimdLevel::C;
}

// The level CNNFILTER_SIMD asks for, capped at what the CPU supports. A value that names no
// level is reported once on stderr and ignored (this runs before any command can report it).
SimdLevel initial_level() {
  const SimdLevel best = best_simd_level();
  const char* env = std::getenv("CNNFILTER_SIMD");
  if (!env || !*env) return best;
  SimdLevel asked;
  if (!parse_simd_level(env, asked)) {
    std::fprintf(stderr,
                 "warning: CNNFILTER_SIMD=%s is not one of c, sse2, sse41, avx2; using %s\n", env,
                 simd_level_name(best));
    return best;
  }
  return asked < best ? asked : best;
}

}  // namespace

Kernels kernels_for(SimdLevel level) {
  Kernels k{};
  init_intra_c(k.intra);
  init_transform_c(k.transform);
  init_pixel_c(k.pixel);
  init_sao_c(k.sao);
  init_inter_c(k.inter);
  init_deblock_c(k.deblock);
#if defined(CNNFILTER_X86_KERNELS)
  if (level >= SimdLevel::SSE2) {
    init_intra_sse2(k.intra);
    init_transform_sse2(k.transform);
    init_pixel_sse2(k.pixel);
    init_sao_sse2(k.sao);
    init_inter_sse2(k.inter);
    init_deblock_sse2(k.deblock);
  }
  if (level >= SimdLevel::SSE41) {
    init_intra_sse41(k.intra);
    init_transform_sse41(k.transform);
    init_pixel_sse41(k.pixel);
    init_sao_sse41(k.sao);
  }
  if (level >= SimdLevel::AVX2) {
    init_intra_avx2(k.intra);
    init_transform_avx2(k.transform);
    init_pixel_avx2(k.pixel);
    init_inter_avx2(k.inter);
  }
#endif
  return k;
}

SimdLevel best_simd_level() {
  static const SimdLevel best = detect();
  return best;
}

SimdLevel simd_level() { return g_level; }

SimdLevel set_simd_level(SimdLevel level) {
  const SimdLevel best = best_simd_level();
  g_level = level < best ? level : best;
  g_kernels = kernels_for(g_level);
  return g_level;
}

const char* simd_level_name(SimdLevel level) { return kNames[static_cast<int>(level)]; }

bool parse_simd_level(const char* name, SimdLevel& level) {
  for (int i = 0; i < kNumSimdLevels; ++i)
    if (std::strcmp(name, kNames[i]) == 0) {
      level = static_cast<SimdLevel>(i);
      return true;
    }
  return false;
}

// Defined after g_level (same file: initialised in order), before any coding can start.
Kernels g_kernels = kernels_for(g_level = initial_level());

}  // namespace hevc::dsp
