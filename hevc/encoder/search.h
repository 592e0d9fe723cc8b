// Mode decision for intra coding units, in the manner of the reference encoder: a full
// rate-distortion recursion over CU sizes; per prediction unit a rough decision over all 35
// luma modes by Hadamard cost plus estimated mode bits, full RD on the best few plus the most
// probable modes, then the residual quadtree for the winner; RD over the five chroma modes.
#pragma once

#include <memory>
#include <vector>

#include "../cabac.h"
#include "../ctu_syntax.h"
#include "../intra.h"
#include "config.h"
#include "cu_tree.h"
#include "enc_picture.h"

namespace hevc {

class IntraSearch {
 public:
  IntraSearch(EncPicture& pic, SliceState& st);
  ~IntraSearch();
  IntraSearch(const IntraSearch&) = delete;
  IntraSearch& operator=(const IntraSearch&) = delete;
  // Decides and reconstructs one CTU. `ctx` holds the context states at the start of the CTU's
  // coding quadtree and is advanced past it.
  void compress_ctu(int rx, int ry, ContextSet& ctx);
  // CU sizes and PartModes from `tree` instead of searched (null: searched).
  void force_tree(const CuTree* tree) { forced_ = tree; }
  // CU sizes searched near those of the previous picture's `tree` (null: all sizes), as the
  // prev_tree_* keys say; only where the luma changed little from `src` (null: everywhere).
  void hint_tree(const CuTree* tree, const Plane* src) {
    hint_ = tree;
    hint_src_ = src;
  }

 private:
  struct Area;  // saved recon / levels / block info of a square luma area
  // `parent`: the parent's split cost before this CU (`before`) and its whole CU's cost (`best`).
  double compress_cu(int x0, int y0, int log2, int depth, ContextSet& ctx, Bound parent = {});
  // Returns kInf, without coding chroma, once its luma cost makes `parent` lost.
  double intra_cu(int x0, int y0, int log2, int depth, ContextSet& ctx, int part, double budget,
                  Bound parent = {});
  // `res_bits` (luma PU, luma transform blocks): the bits of the luma residual_coding chosen.
  double luma_pu(int xp, int yp, int log2p, int log2cu, int part, ContextSet& ctx,
                 uint64_t& res_bits);
  // `parent`: as for compress_cu, for the parent transform block's split.
  double rqt_luma(int x, int y, int log2t, int depth, int mode, bool tskip_allowed, ContextSet& ctx,
                  uint64_t& res_bits, Bound parent = {});
  // Returns kInf (bits not counted) once its distortion makes `bound` lost.
  double code_luma_tb(int x, int y, int log2t, int depth, int mode, bool tskip_allowed,
                      ContextSet& ctx, uint64_t& res_bits, Bound bound = {});
  // Codes the CU's chroma blocks; sse[c - 1]: plane c's distortion over the CU (the sum of its
  // blocks', each returned by chroma_tb: it need not be measured again).
  void code_chroma(int x0, int y0, int log2cu, int part, const ContextSet& ctx, uint64_t* sse);
  // Returns the block's distortion.
  uint64_t chroma_tb(int cidx, int xc, int yc, int log2c, int mode, bool tskip_allowed,
                     const ContextSet& ctx);
  // Predicts, transforms, quantises and reconstructs one block; returns its SSE. `last`, when
  // given, receives the scan position of its last nonzero level (QuantResult::last).
  uint64_t encode_block(int cidx, int x, int y, int log2n, int mode, bool tskip,
                        const ContextSet& ctx, int cbf_ctx, int& nonzero, int* last = nullptr);
  // The rough decision: the ncand luma modes of least SATD plus estimated mode bits, using the
  // PU's reference samples (first_[0]), into `out`.
  void rough_decision(int* out, int xp, int yp, int log2t, int ncand, uint8_t prev_state,
                      const int* mpm);
  bool area_has(int x0, int y0, int size, uint8_t flags);
  // Whether the previous picture's tree is a guide here: the source changed little.
  bool hint_applies(int x0, int y0, int size) const;
  // The bound of a trial that adds to `before` against `best` (none without exact shortcuts).
  Bound trial_bound(double before, double best) const {
    return cfg_.exact_shortcuts ? Bound{before, best} : Bound{};
  }
  int preselect_chroma(int x0, int y0, int log2cu, int* cands, int keep);
  // Bits of a luma block's cbf and residual; `res_bits`: those of the residual. `last`: the scan
  // position of its last nonzero level.
  uint64_t luma_tb_bits(ContextSet& ctx, int x, int y, int log2t, int depth, int last,
                        uint64_t& res_bits);

  EncPicture& pic_;
  SliceState& st_;
  const CuTree* forced_ = nullptr;
  const CuTree* hint_ = nullptr;
  const Plane* hint_src_ = nullptr;
  const Sps& sps_;
  const Pps& pps_;
  const EncoderConfig& cfg_;
  CoeffSink sink_;
  std::vector<std::unique_ptr<Area>> cu_store_, tu_store_, chroma_store_;
  bool candidates_ = false;  // in the full-RD candidate loop of a PU
  // Reference samples of a block whose neighbours stay final while its candidates are tried (a
  // luma PU's first TU, a CU's first chroma blocks), per plane: built once, used by every trial.
  struct FirstRefs {
    IntraRefs raw, filt;
    const IntraRefs* smoothed = nullptr;  // &filt, or &raw when the size is never smoothed
    int x = -1, y = -1, log2 = 0;
    bool valid = false;
    bool holds(int bx, int by, int blog2) const {
      return valid && bx == x && by == y && blog2 == log2;
    }
    const IntraRefs& for_mode(int cidx, int mode) const {
      return intra_filter_needed(cidx, mode, log2) ? *smoothed : raw;
    }
  } first_[3];
  void set_first_refs(int cidx, int x, int y, int log2);
  // An 8x8 CU's 4x4 chroma blocks as its 2Nx2N trial coded them (regular transform), for its
  // NxN trial: their neighbours lie outside the CU, the contexts and QP are the same, so a
  // block with the same mode codes the same.
  struct ChromaKept {
    int cidx = 0, mode = 0, nonzero = 0;
    uint64_t dist = 0;
    Pel rec[16];
    int16_t coef[16];
  };
  enum class KeepChroma { kOff, kFill, kReuse } keep_chroma_ = KeepChroma::kOff;
  ChromaKept chroma_kept_[10];
  int n_chroma_kept_ = 0;
  uint64_t chroma_block(int cidx, int xc, int yc, int log2c, int mode, const ContextSet& ctx,
                        int& nonzero);
  // The best full-RD candidate's coded block, for the residual quadtree's unsplit level.
  struct Trial {
    std::unique_ptr<Area> area;
    ContextSet ctx;
    double cost = 0;
    uint64_t res_bits = 0;
    bool tried_ts = false;  // the trial also tried transform skip
    bool valid = false;
  } trial_;
};

}  // namespace hevc
