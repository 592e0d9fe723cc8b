// Motion data of a picture (H.265 8.5.3.2): per 4x4 luma block, the motion vectors, reference
// indices and, for later pictures that use it as collocated picture, the POC and long-term
// marking of each referenced picture.
#pragma once

#include <cstdint>
#include <cstdlib>
#include <type_traits>
#include <vector>

namespace hevc {

struct Mv {
  int16_t x = 0, y = 0;
  bool operator==(const Mv& o) const { return x == o.x && y == o.y; }
  bool operator!=(const Mv& o) const { return !(*this == o); }
};

struct MvField {
  Mv mv[2];
  int8_t ref_idx[2] = {-1, -1};  // -1: the list is not used (predFlagLX = 0)
  uint8_t lt = 0;                // bit X: RefPicListX[ref_idx[X]] was a long-term picture
  uint8_t unused = 0;            // names the padding byte so that memcmp of two fields is defined
  int32_t ref_poc[2] = {0, 0};   // POC of RefPicListX[ref_idx[X]]
  bool pred(int l) const { return ref_idx[l] >= 0; }
  bool is_inter() const { return ref_idx[0] >= 0 || ref_idx[1] >= 0; }
  // Same motion (8.5.3.2.3 "have the same motion vectors and the same reference indices").
  bool same_motion(const MvField& o) const {
    for (int l = 0; l < 2; ++l) {
      if (ref_idx[l] != o.ref_idx[l]) return false;
      if (ref_idx[l] >= 0 && mv[l] != o.mv[l]) return false;
    }
    return true;
  }
};

// Deblocking compares two fields with memcmp, which must not see padding.
static_assert(std::has_unique_object_representations_v<MvField>);

class MotionField {
 public:
  // clear = false: only allocates, for a caller that writes every block before reading it.
  void init(int width, int height, bool clear = true) {
    w4_ = (width + 3) >> 2;
    h4_ = (height + 3) >> 2;
    const size_t n = static_cast<size_t>(w4_) * h4_;
    if (clear || f_.size() != n) f_.assign(n, MvField{});
  }
  MvField& at(int x, int y) { return f_[static_cast<size_t>(y >> 2) * w4_ + (x >> 2)]; }
  const MvField& at(int x, int y) const { return f_[static_cast<size_t>(y >> 2) * w4_ + (x >> 2)]; }
  void fill(int x, int y, int w, int h, const MvField& m) {
    for (int j = y >> 2; j < (y + h) >> 2; ++j)
      for (int i = x >> 2; i < (x + w) >> 2; ++i) f_[static_cast<size_t>(j) * w4_ + i] = m;
  }

 private:
  int w4_ = 0, h4_ = 0;
  std::vector<MvField> f_;
};

}  // namespace hevc
