// Shared types, limits and error reporting for the HEVC core.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <stdexcept>
#include <string>
#include <type_traits>

namespace hevc {

using Pel = uint8_t;  // Main / Main Still Picture: 8-bit samples only.

// Raised for anything a hostile or broken bitstream can cause. The bindings map it to
// cnnfilter.BitstreamError, so the message must make sense to a user on its own.
class BitstreamError : public std::runtime_error {
 public:
  explicit BitstreamError(const std::string& msg) : std::runtime_error(msg) {}
};

// A valid stream that uses something this codec does not implement (yet).
class UnsupportedError : public BitstreamError {
 public:
  explicit UnsupportedError(const std::string& msg) : BitstreamError(msg) {}
};

// Limits that keep hostile headers from exhausting memory: level 6.2 allows
// 35,651,584 luma samples and 8·sqrt of that per side.
constexpr int kMaxPicWidth = 16888;
constexpr int kMaxPicHeight = 16888;
constexpr int64_t kMaxLumaSamples = 35651584;
constexpr size_t kMaxNalSize = 64u << 20;

template <typename T>
constexpr T clip3(T lo, T hi, T v) {
  return v < lo ? lo : (v > hi ? hi : v);
}
inline int clip_pel(int v) { return v < 0 ? 0 : (v > 255 ? 255 : v); }

// Calls f(size) with a block row's size in bytes: a constant where it is a power of two of
// 4..64, else a size_t. The rows are short and copied very often: constant sizes let the
// compiler emit plain moves instead of library calls (and inlined always, so that the size is
// known at the call wherever it is).
template <class F>
[[gnu::always_inline]] inline void with_row_bytes(int bytes, F&& f) {
  switch (bytes) {
    case 4:
      f(std::integral_constant<size_t, 4>{});
      break;
    case 8:
      f(std::integral_constant<size_t, 8>{});
      break;
    case 16:
      f(std::integral_constant<size_t, 16>{});
      break;
    case 32:
      f(std::integral_constant<size_t, 32>{});
      break;
    case 64:
      f(std::integral_constant<size_t, 64>{});
      break;
    default:
      f(static_cast<size_t>(bytes));
      break;
  }
}
// memcpy of one block row.
[[gnu::always_inline]] inline void copy_row(void* d, const void* s, int bytes) {
  with_row_bytes(bytes, [&](auto size) { std::memcpy(d, s, size); });
}
// copy_row over `rows` rows, strides in bytes: the size dispatched once for all of them.
inline void copy_rows(void* d, ptrdiff_t d_stride, const void* s, ptrdiff_t s_stride, int bytes,
                      int rows) {
  with_row_bytes(bytes, [&](auto size) {
    char* to = static_cast<char*>(d);
    const char* from = static_cast<const char*>(s);
    for (int r = 0; r < rows; ++r, to += d_stride, from += s_stride) std::memcpy(to, from, size);
  });
}
// Calls f(std::integral_constant<int, N>{}) for a block of log2 size 2..5 (N = 4..32), so that
// a kernel written as a template on N is dispatched from a run-time size in one place.
template <class F>
void with_block_size(int log2n, F&& f) {
  switch (log2n) {
    case 2:
      f(std::integral_constant<int, 4>{});
      break;
    case 3:
      f(std::integral_constant<int, 8>{});
      break;
    case 4:
      f(std::integral_constant<int, 16>{});
      break;
    default:
      f(std::integral_constant<int, 32>{});
      break;
  }
}

// Copies an n x n block (n = 1 << log2n) between strided buffers, the size a constant.
template <class T>
void copy_block(T* dst, int dst_stride, const T* src, int src_stride, int log2n) {
  with_block_size(log2n, [=](auto n) {
    // Locals, which the rows written cannot alias (the closure's members could be).
    T* to = dst;
    const T* from = src;
    const int ds = dst_stride, ss = src_stride;
    for (int y = 0; y < n; ++y, to += ds, from += ss) std::memcpy(to, from, sizeof(T) * n);
  });
}

inline int ceil_log2(uint32_t v) {
  int n = 0;
  while ((1u << n) < v) ++n;
  return n;
}
inline int floor_log2(uint32_t v) {
  int n = -1;
  while (v) {
    v >>= 1;
    ++n;
  }
  return n;
}

[[noreturn]] inline void fail(const std::string& msg) { throw BitstreamError(msg); }
inline void check(bool ok, const char* msg) {
  if (!ok) throw BitstreamError(msg);
}

enum class SliceType : uint8_t { B = 0, P = 1, I = 2 };
enum class PredMode : uint8_t { Intra = 0, Inter = 1, Skip = 2 };

// The chroma QP mapping of ChromaArrayType 1 (Table 8-10), for residuals and deblocking.
inline int chroma_qp_mapping(int qpi) {
  static const uint8_t kTab[14] = {29, 30, 31, 32, 33, 33, 34, 34, 35, 35, 36, 36, 37, 37};
  if (qpi < 30) return qpi;
  if (qpi > 43) return qpi - 6;
  return kTab[qpi - 30];
}

}  // namespace hevc
