// The decoded picture buffer: decoded pictures with their motion, reference marking from the
// reference picture set (8.3.2), generation of missing references (8.3.3), reference picture
// lists (8.3.4) and the output order process with bumping (C.5.2).
#pragma once

#include <functional>
#include <memory>
#include <vector>

#include "motion.h"
#include "picture.h"
#include "slice_header.h"

namespace hevc {

enum class RefMark : uint8_t { Unused, ShortTerm, LongTerm };

struct DecodedPicture {
  std::shared_ptr<Frame> frame;
  std::shared_ptr<MotionField> motion;
  int poc = 0;
  int decode_order = 0;
  RefMark mark = RefMark::Unused;
  bool needed_for_output = false;
  int latency = 0;             // PicLatencyCount
  bool generated = false;      // made by 8.3.3 for a missing reference
  int crop[4] = {0, 0, 0, 0};  // left, right, top, bottom in luma samples
};

// Frames and motion fields that nothing holds any more (not the buffer, not the output queue,
// not a caller's view of an output picture), handed out again for the next picture: a fresh
// 1080p frame costs an allocation, its page faults and its zeroing every picture. A frame
// handed out again keeps its old samples and motion, which decoding a complete picture
// overwrites (an incomplete one is an error).
class PictureRecycler {
 public:
  std::shared_ptr<Frame> frame(int width, int height);
  // A motion field whose old contents are left (decoding a picture writes all of it).
  std::shared_ptr<MotionField> motion(int width, int height);

 private:
  template <class T>
  static std::shared_ptr<T> take(std::vector<std::shared_ptr<T>>& pool);
  std::vector<std::shared_ptr<Frame>> frames_;
  std::vector<std::shared_ptr<MotionField>> motions_;
};

// The reference picture lists of a slice, with what the inter tools need of each entry.
struct RefLists {
  int num[2] = {0, 0};
  const DecodedPicture* pic[2][16] = {};
  int poc[2][16] = {};
  bool lt[2][16] = {};
};

class Dpb {
 public:
  std::function<void(const DecodedPicture&)> on_output;

  // Before the current picture: applies its RPS (marking; pictures not in it become unused),
  // creates the missing references it needs, and returns the pictures of RefPicSetStCurrBefore,
  // StCurrAfter and LtCurr (the order 8.3.4 needs) through `curr`. `irap_no_rasl`: the picture
  // is an IRAP with NoRaslOutputFlag = 1 (every picture becomes unused).
  void apply_rps(const Sps& sps, const SliceHeader& hdr, int poc, bool irap_no_rasl,
                 int decode_order);
  // The lists of a P or B slice (8.3.4) of a picture of the given size.
  RefLists build_lists(const SliceHeader& hdr, int width, int height) const;
  // C.5.2.2: output and removal before the current picture is decoded.
  void before_decoding(const Sps& sps, bool irap_no_rasl, bool no_output_of_prior_pics,
                       bool first_picture);
  // C.5.2.3: stores the decoded current picture and bumps what must be output.
  void store(std::shared_ptr<DecodedPicture> pic, const Sps& sps, bool output);
  void flush();  // end of stream: output every picture still waiting, in POC order
  int size() const { return static_cast<int>(pics_.size()); }
  // Whether the picture of this POC is held as a reference (an encoder's check of its RPS).
  bool holds_reference(int poc) const {
    for (auto& d : pics_)
      if (d->mark != RefMark::Unused && d->poc == poc) return true;
    return false;
  }

 private:
  void bump();
  // C.5.2.2/C.5.2.3: bumps while more pictures wait than sps_max_num_reorder_pics, one waits
  // longer than the latency limit, or (max_dec > 0) the buffer holds max_dec pictures.
  void bump_while_due(const Sps& sps, int max_dec);
  void remove_unneeded();
  std::vector<std::shared_ptr<DecodedPicture>> pics_;
  // RefPicSetStCurrBefore, StCurrAfter, LtCurr of the current picture.
  std::vector<DecodedPicture*> st_before_, st_after_, lt_curr_;
};

}  // namespace hevc
