// Small SSE2 helpers shared by the vector kernels (intra, transform, distortion).
#pragma once

#if defined(__SSE2__)
#include <emmintrin.h>

#include <cstdint>
#include <cstring>

namespace hevc {

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

}  // namespace hevc
#endif
