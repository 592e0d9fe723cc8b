// Picture order count (8.3.1).
#pragma once

#include "nal.h"

namespace hevc {

class PocCounter {
 public:
  // The POC of a picture from its slice_pic_order_cnt_lsb. `irap_no_rasl`: an IRAP picture with
  // NoRaslOutputFlag = 1, which starts the MSB afresh.
  int next(const NalUnit& nal, int poc_lsb, int log2_max_lsb, bool irap_no_rasl) {
    const int max_lsb = 1 << log2_max_lsb;
    int msb = 0;
    if (!irap_no_rasl) {
      const int prev_lsb = prev_tid0_poc_ & (max_lsb - 1);
      const int prev_msb = prev_tid0_poc_ - prev_lsb;
      if (poc_lsb < prev_lsb && prev_lsb - poc_lsb >= max_lsb / 2)
        msb = prev_msb + max_lsb;
      else if (poc_lsb > prev_lsb && poc_lsb - prev_lsb > max_lsb / 2)
        msb = prev_msb - max_lsb;
      else
        msb = prev_msb;
    }
    const int poc = msb + poc_lsb;
    // prevTid0Pic: TemporalId 0 and not a RASL, RADL or sub-layer non-reference picture.
    if (nal.temporal_id == 0 && !(nal.type >= RADL_N && nal.type <= RASL_R) &&
        !is_sublayer_nonref(nal.type))
      prev_tid0_poc_ = poc;
    return poc;
  }

 private:
  int prev_tid0_poc_ = 0;
};

}  // namespace hevc
