// Intra prediction for a whole CU, in the manner of the reference encoder: per prediction unit a
// rough decision over all 35 luma modes by Hadamard cost plus estimated mode bits, full RD on the
// best few plus the most probable modes, then the residual quadtree for the winner; RD over the
// five chroma modes; PartMode 2Nx2N against NxN at the smallest CU size.
#pragma once

#include <memory>
#include <vector>

#include "../cabac.h"
#include "../ctu_syntax.h"
#include "../intra.h"
#include "config.h"
#include "cu_search.h"
#include "enc_picture.h"
#include "search_common.h"

namespace hevc {

// Whether every reference sample has the same value: every mode then predicts that value.
inline bool flat_refs(const IntraRefs& r) {
  const int n = 2 << r.log2n;
  for (int i = 0; i <= n; ++i)
    if (r.left[i] != r.left[0] || r.top[i] != r.left[0]) return false;
  return true;
}

class IntraSearch : public CuPredictor {
 public:
  IntraSearch(EncPicture& pic, SliceState& st);
  ~IntraSearch() override;
  IntraSearch(const IntraSearch&) = delete;
  IntraSearch& operator=(const IntraSearch&) = delete;
  double code_cu(const CuSite& cu, ContextSet& ctx, double best) override;

 private:
  // The CU as PCM samples (the source, lossless at 8 bits): its cost is the bits alone.
  double pcm_cu(int x0, int y0, int log2, int depth, ContextSet& ctx);
  // Returns kInf, without coding chroma, once its luma cost makes `parent` lost.
  double intra_cu(int x0, int y0, int log2, int depth, ContextSet& ctx, int part, double budget,
                  Bound parent = {});
  // `res_bits` (luma PU, luma transform blocks): the bits of the luma residual_coding chosen.
  double luma_pu(int xp, int yp, int log2p, int log2cu, int part, ContextSet& ctx,
                 uint64_t& res_bits);
  // `parent`: the parent transform block's split cost before this block and its unsplit cost.
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
  int preselect_chroma(int x0, int y0, int log2cu, int* cands, int keep);
  // Bits of a luma block's cbf and residual; `res_bits`: those of the residual. `last`: the scan
  // position of its last nonzero level.
  uint64_t luma_tb_bits(ContextSet& ctx, int x, int y, int log2t, int depth, int last,
                        uint64_t& res_bits);

  EncPicture& pic_;
  SliceState& st_;
  const Sps& sps_;
  const Pps& pps_;
  const EncoderConfig& cfg_;
  CoeffSink sink_;
  // Per depth: the CU's 2Nx2N coding while NxN is tried; per CU depth its best chroma while the
  // next candidate is tried; per log2 size the unsplit transform block while its split is tried.
  std::vector<std::unique_ptr<SavedArea>> part_store_, chroma_store_, tu_store_;
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
    std::unique_ptr<SavedArea> area;
    ContextSet ctx;
    double cost = 0;
    uint64_t res_bits = 0;
    bool tried_ts = false;  // the trial also tried transform skip
    bool valid = false;
  } trial_;
};

}  // namespace hevc
