// CABAC: context variables, their initialisation, and three engines that share one interface:
//   CabacReader  – arithmetic decoding (decoder)
//   CabacWriter  – arithmetic encoding (encoder, final bitstream)
//   CabacCounter – fractional-bit estimation with context adaptation (encoder RDO)
// The syntax code (ctu_syntax.h) is written once against that interface.
#pragma once

#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <vector>

#include "common.h"

namespace hevc {

// Context index layout; each syntax element owns a contiguous range.
enum Ctx : int {
  kCtxSaoMerge = 0,
  kCtxSaoType = 1,
  kCtxSplitCu = 2,  // 3
  kCtxTransquantBypass = 5,
  kCtxCuSkip = 6,  // 3
  kCtxPredMode = 9,
  kCtxPartMode = 10,  // 4
  kCtxPrevIntraLuma = 14,
  kCtxIntraChroma = 15,
  kCtxRqtRootCbf = 16,
  kCtxMergeFlag = 17,
  kCtxMergeIdx = 18,
  kCtxInterPredIdc = 19,  // 5
  kCtxRefIdx = 24,        // 2
  kCtxMvpFlag = 26,
  kCtxSplitTransform = 27,  // 3
  kCtxCbfLuma = 30,         // 2
  kCtxCbfChroma = 32,       // 5
  kCtxMvdGt0 = 37,
  kCtxMvdGt1 = 38,
  kCtxCuQpDelta = 39,      // 2
  kCtxTransformSkip = 41,  // 2: luma, chroma
  kCtxLastX = 43,          // 18
  kCtxLastY = 61,          // 18
  kCtxCsbf = 79,           // 4
  kCtxSig = 83,            // 44 (42 used by Main)
  kCtxGt1 = 127,           // 24
  kCtxGt2 = 151,           // 6
  kNumCtx = 157
};

// A context variable: (pStateIdx << 1) | valMps.
struct ContextSet {
  std::array<uint8_t, kNumCtx> s{};
  void init(SliceType type, bool cabac_init_flag, int qp);
};

extern const uint8_t kRangeTabLps[64][4];
extern const uint8_t kTransIdxLps[64];
// One table lookup (built in cabac.cpp from the transition rules of 9.3.4.3.2.2): rate estimation
// updates a context for every bin it counts.
extern uint8_t kNextState[128][2];
inline uint8_t next_state(uint8_t ctx, uint32_t bin) { return kNextState[ctx][bin]; }

// Cost of coding `bin` in context state `ctx`, in 1/32768 bits.
extern uint32_t kEntropyBits[128][2];
inline uint32_t bin_cost(uint8_t ctx, uint32_t bin) { return kEntropyBits[ctx][bin]; }
constexpr uint32_t kBitScale = 32768;

class CabacReader {
 public:
  static constexpr bool reading = true;
  CabacReader() = default;
  void start(const uint8_t* data, size_t size);
  // Re-initialises the engine `offset` bytes after the current start (after PCM samples).
  void restart(size_t offset) {
    const uint8_t* b = begin_ + std::min(offset, size());
    start(b, static_cast<size_t>(end_ - b));
  }
  uint32_t bin(uint8_t& ctx, uint32_t = 0);
  uint32_t bypass(uint32_t = 0);
  uint32_t bypass_bits(uint32_t, int n);
  uint32_t terminate(uint32_t = 0);
  // Byte offset (from the start given to start()) of the first byte after the arithmetic
  // codeword, valid right after a terminate bin equal to 1.
  size_t aligned_pos() const;
  // Bytes consumed beyond the end of the data (zeros were fed); large values mean corruption.
  size_t overread() const { return overread_; }
  const uint8_t* data() const { return begin_; }
  size_t size() const { return static_cast<size_t>(end_ - begin_); }

 private:
  void refill();
  const uint8_t* begin_ = nullptr;
  const uint8_t* p_ = nullptr;
  const uint8_t* end_ = nullptr;
  uint32_t range_ = 510, value_ = 0;
  int bits_ = 0;  // look-ahead bits held below the 9-bit offset window
  size_t overread_ = 0;
};

class CabacWriter {
 public:
  static constexpr bool reading = false;
  void start();
  uint32_t bin(uint8_t& ctx, uint32_t b);
  uint32_t bypass(uint32_t b);
  uint32_t bypass_bits(uint32_t v, int n);
  uint32_t terminate(uint32_t b);  // a 1 also flushes; the caller then byte-aligns
  std::vector<uint8_t>& out() { return out_; }
  // Appends raw bytes after a flush (PCM samples); restart() must follow.
  void append_aligned(const uint8_t* p, size_t n);
  void finish_alignment();  // zero bits up to the byte boundary
  void raw_bits(uint32_t v, int n) {
    for (int i = n - 1; i >= 0; --i) write_bit((v >> i) & 1);
  }
  size_t bits_written() const { return out_.size() * 8 + nbits_; }

 private:
  void put_bit(uint32_t b);
  void write_bit(uint32_t b);
  void renorm();
  std::vector<uint8_t> out_;
  uint32_t cur_ = 0;
  int nbits_ = 0;
  uint32_t low_ = 0, range_ = 510, outstanding_ = 0;
  bool first_ = true;
};

class CabacCounter {
 public:
  static constexpr bool reading = false;
  uint32_t bin(uint8_t& ctx, uint32_t b) {
    const uint8_t s = ctx;  // read once: bits_ could alias it
    bits_ += kEntropyBits[s][b];
    ctx = next_state(s, b);
    return b;
  }
  uint32_t bypass(uint32_t b) {
    bits_ += kBitScale;
    return b;
  }
  uint32_t bypass_bits(uint32_t v, int n) {
    bits_ += kBitScale * static_cast<uint32_t>(n);
    return v;
  }
  uint32_t terminate(uint32_t b) {
    bits_ += b ? 7 * kBitScale : 0;
    return b;
  }
  uint64_t bits() const { return bits_; }  // in 1/32768 bits
  void reset() { bits_ = 0; }

 private:
  uint64_t bits_ = 0;
};

}  // namespace hevc
