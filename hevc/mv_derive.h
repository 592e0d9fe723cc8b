// Motion vector prediction (H.265 8.5.3.2): merge candidates, AMVP candidates and temporal
// motion vector prediction, shared by the decoder and the encoder.
#pragma once

#include "dpb.h"
#include "motion.h"
#include "picture.h"

namespace hevc {

// What the derivation needs of the current slice and picture.
struct MvContext {
  const CodingInfo* info = nullptr;
  const MotionField* motion = nullptr;  // the current picture's motion so far
  const RefLists* refs = nullptr;
  bool b_slice = false;
  int cur_poc = 0;
  const DecodedPicture* col = nullptr;  // nullptr: slice_temporal_mvp_enabled_flag is 0
  int col_from_l0 = 1;
  bool no_backward_pred = false;  // NoBackwardPredFlag (8.5.3.2.9)
  int log2_par_mrg_level = 2;
  int max_merge_cand = 5;
  // Sets no_backward_pred from the lists.
  void derive_flags();
};

// A prediction block inside its coding block.
struct PbPos {
  int x_cb, y_cb, n_cb;  // coding block
  int x, y, w, h;        // prediction block
  int part_idx;
  int part_mode;  // PartMode: 0 2Nx2N, 1 2NxN, 2 Nx2N, 3 NxN, 4 2NxnU, 5 2NxnD, 6 nLx2N, 7 nRx2N
};

// Records in `m` the POC and long-term marking of the pictures its reference indices name
// (what deblocking and later pictures' TMVP compare); false if an index is outside its list.
inline bool bind_refs(MvField& m, const RefLists& refs) {
  for (int l = 0; l < 2; ++l) {
    if (!m.pred(l)) continue;
    if (m.ref_idx[l] >= refs.num[l]) return false;
    m.ref_poc[l] = refs.poc[l][m.ref_idx[l]];
    m.lt = static_cast<uint8_t>(m.lt | (refs.lt[l][m.ref_idx[l]] << l));
  }
  return true;
}

// The merge candidate `merge_idx` (8.5.3.2.2 - 8.5.3.2.5), with the 8x4/4x8 bi-prediction rule.
MvField merge_candidate(const MvContext& ctx, PbPos pb, int merge_idx);
// The two AMVP predictors of list X for reference index ref_idx (8.5.3.2.6 - 8.5.3.2.8).
void amvp_candidates(const MvContext& ctx, const PbPos& pb, int X, int ref_idx, Mv out[2]);

}  // namespace hevc
