// A picture as the caller has it coded, and the rules a sequence of them in coding order must
// follow for the stream to decode with every picture output in POC order.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "../nal.h"
#include "../params.h"

namespace hevc {

struct EncoderConfig;

// How one picture is coded. Pictures are handed to the encoder in coding order; their output
// order is that of their POCs within a coded video sequence (from one IDR to the next).
struct PictureDesc {
  int poc = 0;                          // PicOrderCntVal; an IDR's is 0
  SliceType slice_type = SliceType::I;  // I, P or B
  int qp = 32;                          // the slice QP (any offset of its GOP level included)
  uint8_t nal_type = IDR_W_RADL;        // IRAP, IDR, leading or trailing follow from it
  int temporal_id = 0;
  // The short-term reference picture set as POC deltas (each a picture coded before this one
  // and still kept), with whether this picture uses it (the others are only kept for later
  // pictures). A P or B picture's lists are built from the used ones (8.3.4) and hold
  // num_ref_active[X] entries.
  std::vector<int> ref_deltas;
  std::vector<uint8_t> ref_used;  // empty: every reference is used
  int num_ref_active[2] = {0, 0};
  // Lambda = lambda_factor * 2^((QP - 12) / 3) (0: the I-slice factor 0.57), times
  // LambdaModifier0.
  double lambda_factor = 0;
};

// The pictures coded so far, as far as the rules on the next one need them.
class CodingOrder {
 public:
  // Why `pic` cannot be the next picture (empty if it can). Each rule is H.265's: 7.4.2.2
  // (TemporalId), 7.4.3.3 (the POC LSBs' range), 8.3.1 (an IDR's POC), 7.4.2.2 and C.4 (leading
  // and trailing pictures, sps_max_num_reorder_pics).
  std::string check(const PictureDesc& pic, const EncoderConfig& cfg, const Sps& sps) const;
  // Records `pic` (checked) as coded.
  void add(const PictureDesc& pic);
  // The next picture as All-Intra codes it: an IDR first, then trailing pictures (TRAIL_R) at
  // one past the greatest POC of the sequence, at the configured QP.
  PictureDesc next_all_intra(const EncoderConfig& cfg) const;
  int coded() const { return coded_; }

 private:
  int coded_ = 0;
  std::vector<int> cvs_pocs_;  // the POCs of the coded video sequence so far
  int cvs_max_poc_ = 0;
  int irap_poc_ = 0;  // the last IRAP picture's POC and NAL unit type
  int irap_type_ = 0;
  bool before_irap_ = false;      // pictures of the sequence precede it in coding order
  int before_irap_max_poc_ = 0;   // (their greatest POC)
  bool irap_starts_cvs_ = false;  // (its RASL pictures are then never decoded)
  bool trailing_seen_ = false;    // a trailing picture of that IRAP has been coded
  int prev_tid0_poc_ = 0;         // prevTid0Pic's POC (8.3.1)
};

}  // namespace hevc
