// Small SSE2 helpers shared by the x86 kernel files. (An anonymous namespace: each file has its
// copies, compiled for its own instruction set.)
#pragma once

#include <emmintrin.h>

#include <cstdint>
#include <cstring>

namespace hevc::dsp {
namespace {

// Four bytes to / from the low lane; memcpy keeps unaligned access and aliasing well-defined.
inline __m128i load4(const void* p) {
  int32_t v;
  std::memcpy(&v, p, 4);
  return _mm_cvtsi32_si128(v);
}
inline void store4(void* p, __m128i v) {
  const int32_t x = _mm_cvtsi128_si32(v);
  std::memcpy(p, &x, 4);
}
inline __m128i load16(const void* p) { return _mm_loadu_si128(static_cast<const __m128i*>(p)); }
inline void store16(void* p, __m128i v) { _mm_storeu_si128(static_cast<__m128i*>(p), v); }
inline __m128i load8(const void* p) { return _mm_loadl_epi64(static_cast<const __m128i*>(p)); }
inline void store8(void* p, __m128i v) { _mm_storel_epi64(static_cast<__m128i*>(p), v); }

// sign(c - n) per unsigned byte, as -1, 0 or 1.
inline __m128i sign_epu8(__m128i c, __m128i n) {
  const __m128i bias = _mm_set1_epi8(static_cast<char>(0x80));
  const __m128i cs = _mm_xor_si128(c, bias), ns = _mm_xor_si128(n, bias);
  return _mm_sub_epi8(_mm_cmpgt_epi8(ns, cs), _mm_cmpgt_epi8(cs, ns));
}

}  // namespace
}  // namespace hevc::dsp
