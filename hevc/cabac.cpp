#include "cabac.h"

#include <cmath>

namespace hevc {

const uint8_t kRangeTabLps[64][4] = {
    {128, 176, 208, 240}, {128, 167, 197, 227}, {128, 158, 187, 216}, {123, 150, 178, 205},
    {116, 142, 169, 195}, {111, 135, 160, 185}, {105, 128, 152, 175}, {100, 122, 144, 166},
    {95, 116, 137, 158},  {90, 110, 130, 150},  {85, 104, 123, 142},  {81, 99, 117, 135},
    {77, 94, 111, 128},   {73, 89, 105, 122},   {69, 85, 100, 116},   {66, 80, 95, 110},
    {62, 76, 90, 104},    {59, 72, 86, 99},     {56, 69, 81, 94},     {53, 65, 77, 89},
    {51, 62, 73, 85},     {48, 59, 69, 80},     {46, 56, 66, 76},     {43, 53, 63, 72},
    {41, 50, 59, 69},     {39, 48, 56, 65},     {37, 45, 54, 62},     {35, 43, 51, 59},
    {33, 41, 48, 56},     {32, 39, 46, 53},     {30, 37, 43, 50},     {29, 35, 41, 48},
    {27, 33, 39, 45},     {26, 31, 37, 43},     {24, 30, 35, 41},     {23, 28, 33, 39},
    {22, 27, 32, 37},     {21, 26, 30, 35},     {20, 24, 29, 33},     {19, 23, 27, 31},
    {18, 22, 26, 30},     {17, 21, 25, 28},     {16, 20, 23, 27},     {15, 19, 22, 25},
    {14, 18, 21, 24},     {14, 17, 20, 23},     {13, 16, 19, 22},     {12, 15, 18, 21},
    {12, 14, 17, 20},     {11, 14, 16, 19},     {11, 13, 15, 18},     {10, 12, 15, 17},
    {10, 12, 14, 16},     {9, 11, 13, 15},      {9, 11, 12, 14},      {8, 10, 12, 14},
    {8, 9, 11, 13},       {7, 9, 11, 12},       {7, 9, 10, 12},       {7, 8, 10, 11},
    {6, 8, 9, 11},        {6, 7, 9, 10},        {6, 7, 8, 9},         {2, 2, 2, 2}};

const uint8_t kTransIdxLps[64] = {0,  0,  1,  2,  2,  4,  4,  5,  6,  7,  8,  9,  9,  11, 11, 12,
                                  13, 13, 15, 15, 16, 16, 18, 18, 19, 19, 21, 21, 22, 22, 23, 24,
                                  24, 25, 26, 26, 27, 27, 28, 29, 29, 30, 30, 30, 31, 32, 32, 33,
                                  33, 33, 34, 34, 35, 35, 35, 36, 36, 36, 37, 37, 37, 38, 38, 63};

namespace {

// initValue per context, in the layout of enum Ctx, for initType 0 (I), 1 and 2.
// 154 marks contexts an initType never uses.
const uint8_t kInitValues[3][kNumCtx] = {
    {
        153,
        200,
        139,
        141,
        157,
        154,
        154,
        154,
        154,
        154,
        184,
        154,
        154,
        154,
        184,
        63,
        154,
        154,
        154,
        154,
        154,
        154,
        154,
        154,
        154,
        154,
        154,
        153,
        138,
        138,
        111,
        141,
        94,
        138,
        182,
        154,
        154,
        154,
        154,
        154,
        154,
        139,
        139,
        // last_sig_coeff_x_prefix, then y
        110,
        110,
        124,
        125,
        140,
        153,
        125,
        127,
        140,
        109,
        111,
        143,
        127,
        111,
        79,
        108,
        123,
        63,
        110,
        110,
        124,
        125,
        140,
        153,
        125,
        127,
        140,
        109,
        111,
        143,
        127,
        111,
        79,
        108,
        123,
        63,
        91,
        171,
        134,
        141,
        // sig_coeff_flag
        111,
        111,
        125,
        110,
        110,
        94,
        124,
        108,
        124,
        107,
        125,
        141,
        179,
        153,
        125,
        107,
        125,
        141,
        179,
        153,
        125,
        107,
        125,
        141,
        179,
        153,
        125,
        140,
        139,
        182,
        182,
        152,
        136,
        152,
        136,
        153,
        136,
        139,
        111,
        136,
        139,
        111,
        141,
        111,
        // greater1, greater2
        140,
        92,
        137,
        138,
        140,
        152,
        138,
        139,
        153,
        74,
        149,
        92,
        139,
        107,
        122,
        152,
        140,
        179,
        166,
        182,
        140,
        227,
        122,
        197,
        138,
        153,
        136,
        167,
        152,
        152,
    },
    {
        153, 185, 107, 139, 126, 154, 197, 185, 201, 149, 154, 139, 154, 154, 154, 152, 79,  110,
        122, 95,  79,  63,  31,  31,  153, 153, 168, 124, 138, 94,  153, 111, 149, 107, 167, 154,
        154, 140, 198, 154, 154, 139, 139, 125, 110, 94,  110, 95,  79,  125, 111, 110, 78,  110,
        111, 111, 95,  94,  108, 123, 108, 125, 110, 94,  110, 95,  79,  125, 111, 110, 78,  110,
        111, 111, 95,  94,  108, 123, 108, 121, 140, 61,  154, 155, 154, 139, 153, 139, 123, 123,
        63,  153, 166, 183, 140, 136, 153, 154, 166, 183, 140, 136, 153, 154, 166, 183, 140, 136,
        153, 154, 170, 153, 123, 123, 107, 121, 107, 121, 167, 151, 183, 140, 151, 183, 140, 140,
        140, 154, 196, 196, 167, 154, 152, 167, 182, 182, 134, 149, 136, 153, 121, 136, 137, 169,
        194, 166, 167, 154, 167, 137, 182, 107, 167, 91,  122, 107, 167,
    },
    {
        153, 160, 107, 139, 126, 154, 197, 185, 201, 134, 154, 139, 154, 154, 183, 152, 79,  154,
        137, 95,  79,  63,  31,  31,  153, 153, 168, 224, 167, 122, 153, 111, 149, 92,  167, 154,
        154, 169, 198, 154, 154, 139, 139, 125, 110, 124, 110, 95,  94,  125, 111, 111, 79,  125,
        126, 111, 111, 79,  108, 123, 93,  125, 110, 124, 110, 95,  94,  125, 111, 111, 79,  125,
        126, 111, 111, 79,  108, 123, 93,  121, 140, 61,  154, 170, 154, 139, 153, 139, 123, 123,
        63,  124, 166, 183, 140, 136, 153, 154, 166, 183, 140, 136, 153, 154, 166, 183, 140, 136,
        153, 154, 170, 153, 138, 138, 122, 121, 122, 121, 167, 151, 183, 140, 151, 183, 140, 140,
        140, 154, 196, 167, 167, 154, 152, 167, 182, 182, 134, 149, 136, 153, 121, 136, 122, 169,
        208, 166, 167, 154, 152, 167, 182, 107, 167, 91,  107, 107, 167,
    },
};

// State transition of 9.3.4.3.2.2, for the table behind next_state().
uint8_t next_state_of(uint8_t ctx, uint32_t bin) {
  uint8_t st = ctx >> 1, mps = ctx & 1;
  if (bin == mps) return static_cast<uint8_t>(((st < 62 ? st + 1 : st) << 1) | mps);
  if (st == 0) mps ^= 1;
  return static_cast<uint8_t>((kTransIdxLps[st] << 1) | mps);
}

struct EntropyInit {
  EntropyInit() {
    const double alpha = std::pow(0.01875 / 0.5, 1.0 / 63.0);
    for (int st = 0; st < 64; ++st) {
      double p_lps = 0.5 * std::pow(alpha, st);
      uint32_t lps = static_cast<uint32_t>(std::lround(-std::log2(p_lps) * kBitScale));
      uint32_t mps = static_cast<uint32_t>(std::lround(-std::log2(1.0 - p_lps) * kBitScale));
      for (int m = 0; m < 2; ++m) {
        kEntropyBits[(st << 1) | m][m] = mps;
        kEntropyBits[(st << 1) | m][1 - m] = lps;
      }
    }
    for (int ctx = 0; ctx < 128; ++ctx)
      for (uint32_t bin = 0; bin < 2; ++bin)
        kNextState[ctx][bin] = next_state_of(static_cast<uint8_t>(ctx), bin);
  }
};

}  // namespace

uint32_t kEntropyBits[128][2];
uint8_t kNextState[128][2];
static const EntropyInit kEntropyInit;

void ContextSet::init(SliceType type, bool cabac_init_flag, int qp) {
  int init_type = type == SliceType::I ? 0
                                       : (type == SliceType::P ? (cabac_init_flag ? 2 : 1)
                                                               : (cabac_init_flag ? 1 : 2));
  int q = clip3(0, 51, qp);
  for (int i = 0; i < kNumCtx; ++i) {
    int v = kInitValues[init_type][i];
    int m = (v >> 4) * 5 - 45, n = ((v & 15) << 3) - 16;
    int pre = clip3(1, 126, ((m * q) >> 4) + n);
    s[i] = pre <= 63 ? static_cast<uint8_t>((63 - pre) << 1)
                     : static_cast<uint8_t>(((pre - 64) << 1) | 1);
  }
}

// ---------------------------------------------------------------------------------------------
// Decoding engine. value_ holds the 9-bit offset shifted left by bits_ look-ahead bits.

void CabacReader::start(const uint8_t* data, size_t size) {
  begin_ = p_ = data;
  end_ = data + size;
  overread_ = 0;
  range_ = 510;
  value_ = 0;
  bits_ = -9;
  refill();
}

void CabacReader::refill() {
  for (int i = 0; i < 2; ++i) {
    uint32_t b = 0;
    if (p_ < end_)
      b = *p_++;
    else
      ++overread_;
    value_ = (value_ << 8) | b;
  }
  bits_ += 16;
}

uint32_t CabacReader::bin(uint8_t& ctx, uint32_t) {
  uint32_t st = ctx >> 1, mps = ctx & 1;
  uint32_t lps = kRangeTabLps[st][(range_ >> 6) & 3];
  range_ -= lps;
  uint32_t scaled = range_ << bits_;
  if (value_ < scaled) {
    ctx = static_cast<uint8_t>(((st < 62 ? st + 1 : st) << 1) | mps);
    if (range_ < 256) {
      range_ <<= 1;
      if (--bits_ < 0) refill();
    }
    return mps;
  }
  value_ -= scaled;
  int n = __builtin_clz(lps) - 23;
  range_ = lps << n;
  bits_ -= n;
  if (bits_ < 0) refill();
  uint32_t b = 1 - mps;
  if (st == 0) mps = 1 - mps;
  ctx = static_cast<uint8_t>((kTransIdxLps[st] << 1) | mps);
  return b;
}

uint32_t CabacReader::bypass(uint32_t) {
  if (--bits_ < 0) refill();
  uint32_t scaled = range_ << bits_;
  if (value_ >= scaled) {
    value_ -= scaled;
    return 1;
  }
  return 0;
}

uint32_t CabacReader::bypass_bits(uint32_t, int n) {
  uint32_t v = 0;
  for (int i = 0; i < n; ++i) v = (v << 1) | bypass();
  return v;
}

uint32_t CabacReader::terminate(uint32_t) {
  range_ -= 2;
  uint32_t scaled = range_ << bits_;
  if (value_ >= scaled) return 1;
  if (range_ < 256) {
    range_ <<= 1;
    if (--bits_ < 0) refill();
  }
  return 0;
}

size_t CabacReader::aligned_pos() const {
  size_t fetched = static_cast<size_t>(p_ - begin_) + overread_;
  size_t consumed_bits = fetched * 8 - static_cast<size_t>(bits_);
  return (consumed_bits + 7) / 8;
}

// ---------------------------------------------------------------------------------------------
// Encoding engine (H.265 9.3.5), bit-serial: it runs once per picture on the final decisions.

void CabacWriter::start() {
  low_ = 0;
  range_ = 510;
  outstanding_ = 0;
  first_ = true;
}

void CabacWriter::write_bit(uint32_t b) {
  cur_ = (cur_ << 1) | b;
  if (++nbits_ == 8) {
    out_.push_back(static_cast<uint8_t>(cur_));
    cur_ = 0;
    nbits_ = 0;
  }
}

void CabacWriter::put_bit(uint32_t b) {
  if (first_)
    first_ = false;
  else
    write_bit(b);
  while (outstanding_ > 0) {
    write_bit(1 - b);
    --outstanding_;
  }
}

void CabacWriter::renorm() {
  while (range_ < 256) {
    if (low_ < 256) {
      put_bit(0);
    } else if (low_ >= 512) {
      low_ -= 512;
      put_bit(1);
    } else {
      low_ -= 256;
      ++outstanding_;
    }
    range_ <<= 1;
    low_ <<= 1;
  }
}

uint32_t CabacWriter::bin(uint8_t& ctx, uint32_t b) {
  uint32_t st = ctx >> 1, mps = ctx & 1;
  uint32_t lps = kRangeTabLps[st][(range_ >> 6) & 3];
  range_ -= lps;
  if (b != mps) {
    low_ += range_;
    range_ = lps;
  }
  ctx = next_state(ctx, b);
  renorm();
  return b;
}

uint32_t CabacWriter::bypass(uint32_t b) {
  low_ <<= 1;
  if (b) low_ += range_;
  if (low_ >= 1024) {
    put_bit(1);
    low_ -= 1024;
  } else if (low_ < 512) {
    put_bit(0);
  } else {
    low_ -= 512;
    ++outstanding_;
  }
  return b;
}

uint32_t CabacWriter::bypass_bits(uint32_t v, int n) {
  for (int i = n - 1; i >= 0; --i) bypass((v >> i) & 1);
  return v;
}

uint32_t CabacWriter::terminate(uint32_t b) {
  range_ -= 2;
  if (b) {
    low_ += range_;
    range_ = 2;
    renorm();
    put_bit((low_ >> 9) & 1);
    write_bit((low_ >> 8) & 1);
    write_bit(1);  // rbsp_stop_one_bit / alignment_bit_equal_to_one
  } else {
    renorm();
  }
  return b;
}

void CabacWriter::finish_alignment() {
  while (nbits_ != 0) write_bit(0);
}

void CabacWriter::append_aligned(const uint8_t* p, size_t n) {
  finish_alignment();
  out_.insert(out_.end(), p, p + n);
}

}  // namespace hevc
