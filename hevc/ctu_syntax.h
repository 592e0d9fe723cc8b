// Coding tree unit syntax (H.265 7.3.8.2 - 7.3.8.12) written once for all CABAC engines.
//
// With CabacReader the functions parse the bitstream and fill CodingInfo and the coefficient
// buffers; with CabacWriter/CabacCounter they read the same structures and code them. The Sink
// receives every transform block in decoding order (the decoder reconstructs there) and owns the
// coefficient buffers.
#pragma once

#include <algorithm>
#include <cstring>
#include <type_traits>

#include "cabac.h"
#include "intra.h"
#include "mv_derive.h"
#include "params.h"
#include "picture.h"
#include "residual_ctx.h"
#include "scan.h"

namespace hevc {

struct SliceState {
  const Sps* sps = nullptr;
  const Pps* pps = nullptr;
  CodingInfo* info = nullptr;
  SliceType slice_type = SliceType::I;
  int slice_qp = 26;
  int cb_qp_offset = 0, cr_qp_offset = 0;  // slice-level offsets
  bool sao_luma = false, sao_chroma = false;
  int slice_addr_rs = 0;  // SliceAddrRs
  int ctb_addr_rs = 0;    // current CTB
  // Quantisation-group state (8.6.1).
  int qp_prev = 26, qp_pred = 26, cu_qp_delta_val = 0;
  bool cu_qp_delta_coded = false;
  int qp_y = 26;  // QpY of the current coding unit
  // P and B slices: motion vector prediction; the current picture's motion field (the
  // reader's in every slice: an intra CU writes that it has none).
  const MvContext* mvc = nullptr;
  MotionField* motion = nullptr;
  bool mvd_l1_zero = false;
  // Set by the encoder when it has decided the delta of each quantisation group.
  int log2_min_cu_qp_delta_size() const {
    return sps->ctb_log2() - static_cast<int>(pps->diff_cu_qp_delta_depth);
  }
};

struct TbInfo {
  int cidx = 0, x = 0, y = 0, log2n = 2;  // position and size in component samples
  bool cbf = false, tskip = false, bypass = false, intra = true;
  int intra_mode = 1;  // prediction mode used for this component
  int qp_y = 26;       // QpY of the coding unit
  int16_t* coeff = nullptr;
  int max_x = 0, max_y = 0;  // extent of nonzero coefficients
  // Writer and counter: the scan position of the last nonzero coefficient when the caller knows
  // it (the encoder counting a block it just quantised), else -1.
  int last = -1;
};

// The prediction syntax of one prediction unit (7.3.8.6).
struct PuSyntax {
  uint8_t merge_flag = 0, merge_idx = 0;
  uint8_t inter_pred_idc = 0;  // 0 PRED_L0, 1 PRED_L1, 2 PRED_BI
  uint8_t ref_idx[2] = {0, 0}, mvp_flag[2] = {0, 0};
  Mv mvd[2];
};

// PartMode values of inter coding units (Table 7-10).
enum PartMode : uint8_t {
  kPart2Nx2N = 0,
  kPart2NxN = 1,
  kPartNx2N = 2,
  kPartNxN = 3,
  kPart2NxnU = 4,
  kPart2NxnD = 5,
  kPartnLx2N = 6,
  kPartnRx2N = 7
};

// The prediction blocks of a coding block of size n: count, and the k-th as (x, y, w, h).
inline int prediction_blocks(int part, int n, int out[4][4]) {
  const int h = n / 2, q = n / 4;
  auto set = [&](int k, int x, int y, int w, int hh) {
    out[k][0] = x, out[k][1] = y, out[k][2] = w, out[k][3] = hh;
  };
  switch (part) {
    case kPart2NxN:
      set(0, 0, 0, n, h), set(1, 0, h, n, h);
      return 2;
    case kPartNx2N:
      set(0, 0, 0, h, n), set(1, h, 0, h, n);
      return 2;
    case kPartNxN:
      set(0, 0, 0, h, h), set(1, h, 0, h, h), set(2, 0, h, h, h), set(3, h, h, h, h);
      return 4;
    case kPart2NxnU:
      set(0, 0, 0, n, q), set(1, 0, q, n, n - q);
      return 2;
    case kPart2NxnD:
      set(0, 0, 0, n, n - q), set(1, 0, n - q, n, q);
      return 2;
    case kPartnLx2N:
      set(0, 0, 0, q, n), set(1, q, 0, n - q, n);
      return 2;
    case kPartnRx2N:
      set(0, 0, 0, n - q, n), set(1, n - q, 0, q, n);
      return 2;
    default:
      set(0, 0, 0, n, n);
      return 1;
  }
}

// QpC of a transform block from QpY and the chroma offsets (8.6.1).
inline int chroma_qp_y_to_c(int qp_y, int offset) {
  return chroma_qp_mapping(clip3(0, 57, qp_y + offset));
}

// Parts of a coding unit's syntax, for rate estimation (CtuCoder::count_parts_).
constexpr uint8_t kCountLumaSyntax = 1;    // part mode, luma modes, split and cbf_luma flags
constexpr uint8_t kCountLumaResidual = 2;  // luma residual_coding
constexpr uint8_t kCountChroma = 4;        // chroma mode, cbf_cb/cbf_cr, chroma residual_coding
constexpr uint8_t kCountAll = 7;

template <class Cabac, class Sink>
class CtuCoder {
 public:
  static constexpr bool R = Cabac::reading;
  // Rate estimation: bypass bins count, their values do not.
  static constexpr bool counts_only = std::is_same_v<Cabac, CabacCounter>;

  CtuCoder(Cabac& cabac, ContextSet& ctx, Sink& sink, SliceState& st)
      : c_(cabac), ctx_(ctx), sink_(sink), st_(st), sps_(*st.sps), pps_(*st.pps), info_(*st.info) {}

  // sao(rx, ry) of 7.3.8.3; `sp` is read (writer) or filled (reader).
  void sao(int rx, int ry) {
    const PicGeometry& g = info_.geo();
    const int rs = st_.ctb_addr_rs;
    SaoParams& sp = info_.sao_[rs];
    if (R) sp = SaoParams{};
    if (rx > 0) {
      bool in_slice = rs > st_.slice_addr_rs;
      bool in_tile = g.tile_id_rs(rs) == g.tile_id_rs(rs - 1);
      if (in_slice && in_tile)
        sp.merge_left = static_cast<uint8_t>(c_.bin(ctx_.s[kCtxSaoMerge], sp.merge_left));
    }
    if (ry > 0 && !sp.merge_left) {
      bool in_slice = rs - g.w_ctb >= st_.slice_addr_rs;
      bool in_tile = g.tile_id_rs(rs) == g.tile_id_rs(rs - g.w_ctb);
      if (in_slice && in_tile)
        sp.merge_up = static_cast<uint8_t>(c_.bin(ctx_.s[kCtxSaoMerge], sp.merge_up));
    }
    if (sp.merge_left || sp.merge_up) {
      if (R) {
        SaoParams copy = info_.sao_[sp.merge_left ? rs - 1 : rs - g.w_ctb];
        copy.merge_left = sp.merge_left;
        copy.merge_up = sp.merge_up;
        sp = copy;
        apply_slice_sao_flags(sp);
      }
      return;
    }
    for (int cidx = 0; cidx < 3; ++cidx) {
      if (!(cidx == 0 ? st_.sao_luma : st_.sao_chroma)) {
        if (R) sp.type[cidx] = 0;
        continue;
      }
      if (cidx == 2) {
        sp.type[2] = sp.type[1];
        sp.eo_class[2] = sp.eo_class[1];
      } else {
        uint32_t t = sp.type[cidx];
        uint32_t b0 = c_.bin(ctx_.s[kCtxSaoType], t != 0);
        if (b0)
          t = c_.bypass(t == 2) ? 2 : 1;
        else
          t = 0;
        sp.type[cidx] = static_cast<uint8_t>(t);
      }
      if (!sp.type[cidx]) continue;
      int abs_v[4];
      for (int i = 0; i < 4; ++i) {
        abs_v[i] = R ? 0 : std::abs(sp.offset[cidx][i]);
        int v = 0;
        while (v < 7 && c_.bypass(abs_v[i] > v)) ++v;
        abs_v[i] = v;
      }
      if (sp.type[cidx] == 1) {
        for (int i = 0; i < 4; ++i) {
          int sign = sp.offset[cidx][i] < 0;
          if (abs_v[i]) sign = static_cast<int>(c_.bypass(static_cast<uint32_t>(sign)));
          if (R) sp.offset[cidx][i] = static_cast<int8_t>(sign ? -abs_v[i] : abs_v[i]);
        }
        sp.band_pos[cidx] = static_cast<uint8_t>(c_.bypass_bits(sp.band_pos[cidx], 5));
      } else {
        if (R)
          for (int i = 0; i < 4; ++i)
            sp.offset[cidx][i] = static_cast<int8_t>(i < 2 ? abs_v[i] : -abs_v[i]);
        if (cidx == 0) sp.eo_class[0] = static_cast<uint8_t>(c_.bypass_bits(sp.eo_class[0], 2));
        if (cidx == 1) sp.eo_class[1] = static_cast<uint8_t>(c_.bypass_bits(sp.eo_class[1], 2));
      }
    }
  }

  void coding_quadtree(int x0, int y0, int log2, int depth) {
    const int size = 1 << log2;
    const int W = info_.geo().width, H = info_.geo().height;
    uint32_t split;
    if (x0 + size <= W && y0 + size <= H && log2 > sps_.min_cb_log2()) {
      split = split_cu_flag(x0, y0, depth, R ? 0 : info_.blk(x0, y0).cu_log2 < log2);
    } else {
      split = log2 > sps_.min_cb_log2();
    }
    if (pps_.cu_qp_delta_enabled && log2 >= st_.log2_min_cu_qp_delta_size())
      start_quant_group(x0, y0);
    if (split) {
      const int h = size >> 1;
      coding_quadtree(x0, y0, log2 - 1, depth + 1);
      if (x0 + h < W) coding_quadtree(x0 + h, y0, log2 - 1, depth + 1);
      if (y0 + h < H) coding_quadtree(x0, y0 + h, log2 - 1, depth + 1);
      if (x0 + h < W && y0 + h < H) coding_quadtree(x0 + h, y0 + h, log2 - 1, depth + 1);
    } else {
      coding_unit(x0, y0, log2);
    }
  }

  uint32_t split_cu_flag(int x0, int y0, int depth, uint32_t value) {
    int inc = 0;
    const int ctb_log2 = sps_.ctb_log2();
    if (info_.available(x0, y0, x0 - 1, y0) && ctb_log2 - info_.blk(x0 - 1, y0).cu_log2 > depth)
      ++inc;
    if (info_.available(x0, y0, x0, y0 - 1) && ctb_log2 - info_.blk(x0, y0 - 1).cu_log2 > depth)
      ++inc;
    return c_.bin(ctx_.s[kCtxSplitCu + inc], value);
  }

  void start_quant_group(int xq, int yq) {
    st_.cu_qp_delta_val = 0;
    st_.cu_qp_delta_coded = false;
    const int prev = st_.qp_prev;
    const int ctb = st_.ctb_addr_rs;
    auto nb_qp = [&](int xn, int yn) {
      if (!info_.available(xq, yq, xn, yn) || info_.ctb_rs(xn, yn) != ctb) return prev;
      return static_cast<int>(info_.blk(xn, yn).qp);
    };
    st_.qp_pred = (nb_qp(xq - 1, yq) + nb_qp(xq, yq - 1) + 1) >> 1;
    update_qp();
  }

  void coding_unit(int x0, int y0, int log2) {
    const int size = 1 << log2;
    BlockInfo cu = R ? BlockInfo{} : info_.blk(x0, y0);
    if (R) {
      cu.cu_log2 = cu.tu_log2 = static_cast<uint8_t>(log2);
      cu.pred_mode = static_cast<uint8_t>(PredMode::Intra);
      cu.qp = static_cast<int8_t>(st_.qp_y);
    }
    if (pps_.transquant_bypass) {
      uint32_t b = luma_bin(ctx_.s[kCtxTransquantBypass], (cu.flags & kBfBypass) != 0);
      if (R && b) cu.flags |= kBfBypass;
    }
    if (st_.slice_type != SliceType::I) {
      const bool skip =
          cu_skip_flag(x0, y0, R ? 0 : cu.pred_mode == static_cast<uint8_t>(PredMode::Skip));
      if (skip) {
        if (R) {
          cu.pred_mode = static_cast<uint8_t>(PredMode::Skip);
          cu.part_mode = kPart2Nx2N;
          info_.fill(x0, y0, size, size, cu);
        }
        prediction_unit(x0, y0, size, 0, 0, size, size, 0, kPart2Nx2N, true);
        finish_cu(x0, y0, size);
        return;
      }
      const bool intra = c_.bin(ctx_.s[kCtxPredMode],
                                R ? 0 : cu.pred_mode == static_cast<uint8_t>(PredMode::Intra));
      if (!intra) {
        inter_cu(x0, y0, log2, cu);
        return;
      }
      if (R) cu.pred_mode = static_cast<uint8_t>(PredMode::Intra);
    }
    // Intra coding unit: no motion (the reader's motion field is not cleared per picture).
    if constexpr (R)
      if (st_.motion) st_.motion->fill(x0, y0, size, size, MvField{});
    uint32_t part = 0;  // PartMode: 0 = 2Nx2N, 3 = NxN
    if (log2 == sps_.min_cb_log2()) {
      uint32_t b = luma_bin(ctx_.s[kCtxPartMode], R ? 0 : cu.part_mode == 0);
      part = b ? 0 : 3;
      if (R && part == 3 && log2 == sps_.min_tb_log2())
        fail("intra NxN partitioning of a coding unit at the minimum transform size");
    } else if (!R) {
      part = cu.part_mode;
    }
    cu.part_mode = static_cast<uint8_t>(part);
    if (R) info_.fill(x0, y0, size, size, cu);
    bool pcm = false;
    if (part == 0 && sps_.pcm && log2 >= sps_.pcm_min_log2() && log2 <= sps_.pcm_max_log2()) {
      pcm = c_.terminate(R ? 0 : (cu.flags & kBfPcm) != 0) != 0;
    }
    const bool bypass = (cu.flags & kBfBypass) != 0;
    if (pcm) {
      if (R) {
        cu.flags |= kBfPcm;
        info_.fill(x0, y0, size, size, cu);
      }
      sink_.pcm(c_, x0, y0, log2);
      finish_cu(x0, y0, size);
      return;
    }
    intra_modes(x0, y0, log2, part);
    const int max_depth = sps_.max_th_depth_intra + (part == 3 ? 1 : 0);
    transform_tree(x0, y0, x0, y0, log2, 0, 0, max_depth, part == 3, false, false, bypass);
    finish_cu(x0, y0, size);
  }

  // An inter coding unit after pred_mode_flag (7.3.8.5).
  void inter_cu(int x0, int y0, int log2, BlockInfo& cu) {
    const int size = 1 << log2;
    const int part = part_mode_inter(log2, R ? 0 : cu.part_mode);
    if (R) {
      cu.pred_mode = static_cast<uint8_t>(PredMode::Inter);
      cu.part_mode = static_cast<uint8_t>(part);
      info_.fill(x0, y0, size, size, cu);
    }
    int pbs[4][4];
    const int n = prediction_blocks(part, size, pbs);
    bool merge0 = false;
    for (int k = 0; k < n; ++k) {
      const bool merge =
          prediction_unit(x0, y0, size, pbs[k][0], pbs[k][1], pbs[k][2], pbs[k][3], k, part, false);
      if (k == 0) merge0 = merge;
    }
    uint32_t root_cbf = 1;
    if (!(part == kPart2Nx2N && merge0))
      root_cbf = c_.bin(ctx_.s[kCtxRqtRootCbf], R ? 0 : inter_cu_has_residual(x0, y0, size));
    if (root_cbf) {
      const bool bypass = (cu.flags & kBfBypass) != 0;
      const bool inter_split = sps_.max_th_depth_inter == 0 && part != kPart2Nx2N;
      transform_tree(x0, y0, x0, y0, log2, 0, 0, sps_.max_th_depth_inter, false, false, false,
                     bypass, inter_split);
    }
    finish_cu(x0, y0, size);
  }

  bool inter_cu_has_residual(int x0, int y0, int size) {
    return area_cbf(x0, y0, size, kBfCbfY | kBfCbfCb | kBfCbfCr);
  }

  uint32_t cu_skip_flag(int x0, int y0, uint32_t value) {
    int inc = 0;
    const uint8_t skip = static_cast<uint8_t>(PredMode::Skip);
    if (info_.available(x0, y0, x0 - 1, y0) && info_.blk(x0 - 1, y0).pred_mode == skip) ++inc;
    if (info_.available(x0, y0, x0, y0 - 1) && info_.blk(x0, y0 - 1).pred_mode == skip) ++inc;
    return c_.bin(ctx_.s[kCtxCuSkip + inc], value);
  }

  // part_mode of an inter coding unit (9.3.3.7; contexts 0, 1, 3 and the minimum-size bin 2).
  int part_mode_inter(int log2, int part) {
    uint8_t* ctx = &ctx_.s[kCtxPartMode];
    if (c_.bin(ctx[0], part == kPart2Nx2N)) return kPart2Nx2N;
    if (log2 == sps_.min_cb_log2()) {
      if (c_.bin(ctx[1], part == kPart2NxN)) return kPart2NxN;
      if (log2 == 3) return kPartNx2N;
      return c_.bin(ctx[2], part == kPartNx2N) ? kPartNx2N : kPartNxN;
    }
    const bool horizontal = part == kPart2NxN || part == kPart2NxnU || part == kPart2NxnD;
    if (!sps_.amp) return c_.bin(ctx[1], horizontal) ? kPart2NxN : kPartNx2N;
    if (c_.bin(ctx[1], horizontal)) {
      if (c_.bin(ctx[3], part == kPart2NxN)) return kPart2NxN;
      return c_.bypass(part == kPart2NxnD) ? kPart2NxnD : kPart2NxnU;
    }
    if (c_.bin(ctx[3], part == kPartNx2N)) return kPartNx2N;
    return c_.bypass(part == kPartnRx2N) ? kPartnRx2N : kPartnLx2N;
  }

  // prediction_unit (7.3.8.6) at (x_cb + xo, y_cb + yo); the reader derives the motion
  // (8.5.3.2) and hands the block to the sink. Returns merge_flag.
  bool prediction_unit(int x_cb, int y_cb, int n_cb, int xo, int yo, int w, int h, int part_idx,
                       int part_mode, bool skip) {
    const int x = x_cb + xo, y = y_cb + yo;
    PuSyntax s = R ? PuSyntax{} : writer_pu(x, y);
    const MvContext& mvc = *st_.mvc;
    const int max_merge = mvc.max_merge_cand;
    if (skip)
      s.merge_flag = 1;
    else
      s.merge_flag = static_cast<uint8_t>(c_.bin(ctx_.s[kCtxMergeFlag], s.merge_flag));
    if (s.merge_flag) {
      if (max_merge > 1) {
        uint32_t i = 0;
        if (c_.bin(ctx_.s[kCtxMergeIdx], s.merge_idx > 0)) {
          i = 1;
          while (static_cast<int>(i) < max_merge - 1 && c_.bypass(s.merge_idx > i)) ++i;
        }
        s.merge_idx = static_cast<uint8_t>(i);
      } else {
        s.merge_idx = 0;
      }
    } else {
      s.inter_pred_idc = mvc.b_slice ? inter_pred_idc(x_cb, y_cb, w + h, s.inter_pred_idc) : 0;
      for (int l = 0; l < 2; ++l) {
        if (s.inter_pred_idc == (l ? 0 : 1)) continue;  // PRED_L1 skips list 0 and vice versa
        const int num_ref = mvc.refs->num[l];
        if (num_ref > 1) s.ref_idx[l] = static_cast<uint8_t>(ref_idx(s.ref_idx[l], num_ref));
        if (l == 1 && st_.mvd_l1_zero && s.inter_pred_idc == 2)
          s.mvd[1] = Mv{};
        else
          mvd_coding(s.mvd[l]);
        s.mvp_flag[l] = static_cast<uint8_t>(c_.bin(ctx_.s[kCtxMvpFlag], s.mvp_flag[l]));
      }
    }
    if constexpr (R) {
      const PbPos pb{x_cb, y_cb, n_cb, x, y, w, h, part_idx, part_mode};
      MvField m;
      if (s.merge_flag) {
        m = merge_candidate(mvc, pb, s.merge_idx);
      } else {
        for (int l = 0; l < 2; ++l) {
          if (s.inter_pred_idc == (l ? 0 : 1)) continue;
          Mv cand[2];
          amvp_candidates(mvc, pb, l, s.ref_idx[l], cand);
          const Mv p = cand[s.mvp_flag[l]];
          m.ref_idx[l] = static_cast<int8_t>(s.ref_idx[l]);
          m.mv[l] = Mv{static_cast<int16_t>(static_cast<uint16_t>(p.x + s.mvd[l].x)),
                       static_cast<int16_t>(static_cast<uint16_t>(p.y + s.mvd[l].y))};
        }
      }
      if (!bind_refs(m, *mvc.refs)) fail("merge candidate with an absent reference");
      st_.motion->fill(x, y, w, h, m);
      sink_.inter_pu(x, y, w, h, m);
    }
    return s.merge_flag != 0;
  }

  uint32_t inter_pred_idc(int x_cb, int y_cb, int wh, uint32_t v) {
    if (wh != 12) {
      const int depth = sps_.ctb_log2() - info_.blk(x_cb, y_cb).cu_log2;
      if (c_.bin(ctx_.s[kCtxInterPredIdc + depth], v == 2)) return 2;
    }
    return c_.bin(ctx_.s[kCtxInterPredIdc + 4], v == 1);
  }

  uint32_t ref_idx(uint32_t v, int num_ref) {
    const uint32_t cmax = static_cast<uint32_t>(num_ref - 1);
    uint32_t i = 0;
    while (i < cmax) {
      const uint32_t b = i < 2 ? c_.bin(ctx_.s[kCtxRefIdx + i], v > i) : c_.bypass(v > i);
      if (!b) break;
      ++i;
    }
    return i;
  }

  void mvd_coding(Mv& mvd) {
    int v[2] = {mvd.x, mvd.y};
    uint32_t g0[2], g1[2] = {0, 0};
    for (int k = 0; k < 2; ++k) g0[k] = c_.bin(ctx_.s[kCtxMvdGt0], v[k] != 0);
    for (int k = 0; k < 2; ++k)
      if (g0[k]) g1[k] = c_.bin(ctx_.s[kCtxMvdGt1], std::abs(v[k]) > 1);
    for (int k = 0; k < 2; ++k) {
      if (!g0[k]) {
        v[k] = 0;
        continue;
      }
      int a = 1;
      if (g1[k]) a = 2 + static_cast<int>(exp_golomb(static_cast<uint32_t>(std::abs(v[k]) - 2), 1));
      const uint32_t sign = c_.bypass(v[k] < 0);
      if (R && a > 32768) fail("motion vector difference out of range");
      v[k] = sign ? -a : a;
      if (R && v[k] > 32767) fail("motion vector difference out of range");
    }
    mvd = Mv{static_cast<int16_t>(v[0]), static_cast<int16_t>(v[1])};
  }

  // The encoder's decision for the prediction unit at (x, y), held by its sink.
  PuSyntax writer_pu(int x, int y) {
    if constexpr (R)
      return PuSyntax{};
    else
      return sink_.pu_syntax(x, y);
  }

 public:  // the pieces below are also used one by one by the encoder's rate estimation
  void finish_cu(int x0, int y0, int size) {
    if (pps_.cu_qp_delta_enabled) update_qp();
    if (R) {
      const int8_t qp = static_cast<int8_t>(st_.qp_y);
      info_.for_each(x0, y0, size, size, [&](BlockInfo& b) { b.qp = qp; });
    }
    st_.qp_prev = st_.qp_y;
  }

  void update_qp() { st_.qp_y = ((st_.qp_pred + st_.cu_qp_delta_val + 52) % 52); }

  void intra_modes(int x0, int y0, int log2, uint32_t part) {
    if (counts(kCountLumaSyntax)) luma_intra_modes(x0, y0, log2, part);
    if (counts(kCountChroma)) intra_chroma_mode(x0, y0, log2);
  }

  void luma_intra_modes(int x0, int y0, int log2, uint32_t part) {
    const int nparts = part == 3 ? 4 : 1;
    const int pb = part == 3 ? (1 << (log2 - 1)) : (1 << log2);
    int mpm[4][3];
    uint32_t prev[4], idx[4];
    int modes[4];
    for (int k = 0; k < nparts; ++k) {
      const int xp = x0 + (k & 1) * pb, yp = y0 + (k >> 1) * pb;
      if (!R) {
        modes[k] = info_.blk(xp, yp).intra_mode;
        derive_mpm(xp, yp, mpm[k]);
        prev[k] = (mpm[k][0] == modes[k] || mpm[k][1] == modes[k] || mpm[k][2] == modes[k]);
      }
      prev[k] = c_.bin(ctx_.s[kCtxPrevIntraLuma], R ? 0 : prev[k]);
    }
    for (int k = 0; k < nparts; ++k) {
      const int xp = x0 + (k & 1) * pb, yp = y0 + (k >> 1) * pb;
      if (R) {
        // Parsing does not depend on the modes; derive after each PU so the next sees it.
        if (prev[k]) {
          idx[k] = c_.bypass(0);
          if (idx[k]) idx[k] += c_.bypass(0);
        } else {
          idx[k] = c_.bypass_bits(0, 5);
        }
        derive_mpm(xp, yp, mpm[k]);
        int mode;
        if (prev[k]) {
          mode = mpm[k][idx[k]];
        } else {
          int s[3] = {mpm[k][0], mpm[k][1], mpm[k][2]};
          std::sort(s, s + 3);
          mode = static_cast<int>(idx[k]);
          for (int i = 0; i < 3; ++i)
            if (mode >= s[i]) ++mode;
        }
        const uint8_t m = static_cast<uint8_t>(mode);
        info_.for_each(xp, yp, pb, pb, [&](BlockInfo& b) { b.intra_mode = m; });
      } else if (prev[k]) {
        uint32_t i = mpm[k][0] == modes[k] ? 0 : (mpm[k][1] == modes[k] ? 1 : 2);
        c_.bypass(i > 0);
        if (i > 0) c_.bypass(i > 1);
      } else {
        int s[3] = {mpm[k][0], mpm[k][1], mpm[k][2]};
        std::sort(s, s + 3);
        int rem = modes[k];
        for (int i = 2; i >= 0; --i)
          if (modes[k] > s[i]) --rem;
        c_.bypass_bits(static_cast<uint32_t>(rem), 5);
      }
    }
  }

  void intra_chroma_mode(int x0, int y0, int log2) {
    uint32_t cs = R ? 4 : info_.blk(x0, y0).chroma_syntax;
    uint32_t b = c_.bin(ctx_.s[kCtxIntraChroma], cs != 4);
    if (b)
      cs = c_.bypass_bits(cs, 2);
    else
      cs = 4;
    if (R) {
      const uint8_t v = static_cast<uint8_t>(cs);
      const int size = 1 << log2;
      info_.for_each(x0, y0, size, size, [&](BlockInfo& bi) { bi.chroma_syntax = v; });
    }
  }

  void derive_mpm(int xp, int yp, int mpm[3]) {
    auto cand = [&](int xn, int yn, bool above) {
      if (!info_.available(xp, yp, xn, yn)) return 1;
      const BlockInfo& b = info_.blk(xn, yn);
      if (b.pred_mode != static_cast<uint8_t>(PredMode::Intra) || (b.flags & kBfPcm)) return 1;
      if (above && yn < ((yp >> sps_.ctb_log2()) << sps_.ctb_log2())) return 1;
      return static_cast<int>(b.intra_mode);
    };
    intra_mpm(cand(xp - 1, yp, false), cand(xp, yp - 1, true), mpm);
  }

  // cbf of a chroma component over a luma area, from the stored per-block flags (writer side).
  bool area_cbf(int x0, int y0, int size, uint8_t flag) {
    bool any = false;
    info_.for_each(x0, y0, size, size, [&](BlockInfo& b) { any |= (b.flags & flag) != 0; });
    return any;
  }

  void transform_tree(int x0, int y0, int xb, int yb, int log2, int depth, int blk, int max_depth,
                      bool intra_split, bool parent_cb, bool parent_cr, bool bypass,
                      bool inter_split = false) {
    uint32_t split;
    if (log2 <= sps_.max_tb_log2() && log2 > sps_.min_tb_log2() && depth < max_depth &&
        !(intra_split && depth == 0)) {
      split =
          luma_bin(ctx_.s[kCtxSplitTransform + 5 - log2], R ? 0 : info_.blk(x0, y0).tu_log2 < log2);
    } else {
      // interSplitFlag (7.4.9.8); never below the smallest transform size, even when a corrupt
      // stream asks for it.
      split = log2 > sps_.max_tb_log2() || (intra_split && depth == 0) ||
              (inter_split && depth == 0 && log2 > sps_.min_tb_log2());
    }
    const int size = 1 << log2;
    bool cb = parent_cb, cr = parent_cr;
    if (log2 > 2 && counts(kCountChroma)) {
      cb = cr = false;
      if (depth == 0 || parent_cb)
        cb = c_.bin(ctx_.s[kCtxCbfChroma + depth], R ? 0 : area_cbf(x0, y0, size, kBfCbfCb));
      if (depth == 0 || parent_cr)
        cr = c_.bin(ctx_.s[kCtxCbfChroma + depth], R ? 0 : area_cbf(x0, y0, size, kBfCbfCr));
    }
    if (split) {
      const int h = size >> 1;
      transform_tree(x0, y0, x0, y0, log2 - 1, depth + 1, 0, max_depth, intra_split, cb, cr,
                     bypass);
      transform_tree(x0 + h, y0, x0, y0, log2 - 1, depth + 1, 1, max_depth, intra_split, cb, cr,
                     bypass);
      transform_tree(x0, y0 + h, x0, y0, log2 - 1, depth + 1, 2, max_depth, intra_split, cb, cr,
                     bypass);
      transform_tree(x0 + h, y0 + h, x0, y0, log2 - 1, depth + 1, 3, max_depth, intra_split, cb, cr,
                     bypass);
      return;
    }
    uint32_t cbf_luma = 1;
    // Intra CUs always code cbf_luma; an inter CU infers it at depth 0 without chroma cbf.
    const bool intra = info_.blk(x0, y0).pred_mode == static_cast<uint8_t>(PredMode::Intra);
    if (counts(kCountLumaSyntax | kCountLumaResidual) && (intra || depth != 0 || cb || cr))
      cbf_luma = luma_bin(ctx_.s[kCtxCbfLuma + (depth == 0 ? 1 : 0)],
                          R ? 0 : (info_.blk(x0, y0).flags & kBfCbfY) != 0);
    transform_unit(x0, y0, xb, yb, log2, blk, cbf_luma != 0, cb, cr, bypass);
  }

  void transform_unit(int x0, int y0, int xb, int yb, int log2, int blk, bool cbf_luma, bool cb,
                      bool cr, bool bypass) {
    const int size = 1 << log2;
    if (R) {
      const uint8_t l = static_cast<uint8_t>(log2);
      const uint8_t f = static_cast<uint8_t>((cbf_luma ? kBfCbfY : 0) | (cb ? kBfCbfCb : 0) |
                                             (cr ? kBfCbfCr : 0));
      info_.for_each(x0, y0, size, size, [&](BlockInfo& b) {
        b.tu_log2 = l;
        b.flags = static_cast<uint8_t>((b.flags & ~(kBfCbfY | kBfCbfCb | kBfCbfCr)) | f);
      });
    }
    if ((cbf_luma || cb || cr) && pps_.cu_qp_delta_enabled && !st_.cu_qp_delta_coded) {
      cu_qp_delta();
    }
    const BlockInfo& bi = info_.blk(x0, y0);
    const bool intra = bi.pred_mode == static_cast<uint8_t>(PredMode::Intra);
    TbInfo tb;
    tb.bypass = bypass;
    tb.intra = intra;
    tb.qp_y = st_.qp_y;
    tb.cidx = 0;
    tb.x = x0;
    tb.y = y0;
    tb.log2n = log2;
    tb.intra_mode = intra ? bi.intra_mode : 0;  // 0: inter blocks use the diagonal scan
    tb.cbf = cbf_luma;
    if (cbf_luma && counts(kCountLumaResidual)) residual_coding(tb);
    sink_.tb(tb);
    const int luma_mode = info_.blk(log2 > 2 ? x0 : xb, log2 > 2 ? y0 : yb).intra_mode;
    const int cmode = intra ? chroma_mode_from_syntax(bi.chroma_syntax, luma_mode) : 0;
    if ((log2 > 2 || blk == 3) && counts(kCountChroma)) {
      const int xc = (log2 > 2 ? x0 : xb) >> 1, yc = (log2 > 2 ? y0 : yb) >> 1;
      const int log2c = log2 > 2 ? log2 - 1 : 2;
      for (int c = 1; c < 3; ++c) {
        TbInfo t = tb;
        t.cidx = c;
        t.x = xc;
        t.y = yc;
        t.log2n = log2c;
        t.intra_mode = cmode;
        t.cbf = c == 1 ? cb : cr;
        t.tskip = false;
        if (t.cbf) residual_coding(t);
        sink_.tb(t);
      }
    }
  }

  void cu_qp_delta() {
    int v = R ? 0 : st_.cu_qp_delta_val;
    const int a = std::abs(v);
    int prefix = 0;
    while (prefix < 5 && c_.bin(ctx_.s[kCtxCuQpDelta + (prefix ? 1 : 0)], a > prefix)) ++prefix;
    int abs_v = prefix;
    if (prefix == 5) abs_v += static_cast<int>(exp_golomb(static_cast<uint32_t>(a - 5), 0));
    if (abs_v) {
      uint32_t s = c_.bypass(v < 0);
      v = s ? -abs_v : abs_v;
    } else {
      v = 0;
    }
    if (R && (v < -26 || v > 25)) fail("cu_qp_delta out of range");
    st_.cu_qp_delta_val = v;
    st_.cu_qp_delta_coded = true;
    update_qp();
  }

  uint32_t exp_golomb(uint32_t v, int k) {
    if (R) {
      uint32_t val = 0;
      while (c_.bypass(0)) {
        val += 1u << k;
        if (++k > 30) fail("Exp-Golomb code too long in slice data");
      }
      return val + c_.bypass_bits(0, k);
    }
    while (v >= (1u << k)) {
      c_.bypass(1);
      v -= 1u << k;
      ++k;
    }
    c_.bypass(0);
    c_.bypass_bits(v, k);
    return v;
  }

  void last_prefix_suffix(uint32_t& vx, uint32_t& vy, int log2, int cidx) {
    const int cmax = (log2 << 1) - 1;
    int offs, shift;
    last_ctx(log2, cidx, offs, shift);
    int px = R ? 0 : last_prefix(vx), py = R ? 0 : last_prefix(vy);
    auto code_prefix = [&](int p, int base) {
      int v = 0;
      while (v < cmax && c_.bin(ctx_.s[base + offs + (v >> shift)], p > v)) ++v;
      return v;
    };
    px = code_prefix(px, kCtxLastX);
    py = code_prefix(py, kCtxLastY);
    auto code_suffix = [&](int p, uint32_t v) -> uint32_t {
      if (p <= 3) return static_cast<uint32_t>(p);
      const uint32_t base = last_prefix_base(p);
      return base + c_.bypass_bits(v - base, (p >> 1) - 1);
    };
    vx = code_suffix(px, vx);
    vy = code_suffix(py, vy);
  }

  uint32_t abs_remaining(uint32_t v, int rice) {
    if (R) {
      int prefix = 0;
      while (c_.bypass(0)) {
        if (++prefix > 32) fail("coeff_abs_level_remaining prefix too long");
      }
      if (prefix <= 3) return (static_cast<uint32_t>(prefix) << rice) + c_.bypass_bits(0, rice);
      const int nb = prefix - 3 + rice;
      if (nb > 31) fail("coeff_abs_level_remaining too large");
      return (((1u << (prefix - 3)) + 2u) << rice) + c_.bypass_bits(0, nb);
    }
    const uint32_t q = v >> rice;
    if (q < 4) {
      for (uint32_t i = 0; i < q; ++i) c_.bypass(1);
      c_.bypass(0);
      c_.bypass_bits(v & ((1u << rice) - 1), rice);
      return v;
    }
    // Escape: EG(rice + 1) of v - (4 << rice) after four 1s.
    uint32_t rest = v - (4u << rice);
    int k = rice + 1, u = 0;
    while (rest >= ((1u << (u + 1)) - 1) << k) ++u;
    for (int i = 0; i < 4 + u; ++i) c_.bypass(1);
    c_.bypass(0);
    c_.bypass_bits(rest - (((1u << u) - 1) << k), k + u);
    return v;
  }

 public:
  // residual_coding (7.3.8.11). Fills tb.coeff (reader) or codes it (writer).
  void residual_coding(TbInfo& tb) {
    const int log2 = tb.log2n, cidx = tb.cidx, n = 1 << log2;
    tb.coeff = sink_.coeffs(tb);
    int16_t* coef = tb.coeff;
    if (pps_.transform_skip && !tb.bypass && log2 == 2) {
      bool ts = R ? false : tb_tskip(tb);
      ts = c_.bin(ctx_.s[kCtxTransformSkip + (cidx ? 1 : 0)], ts) != 0;
      tb.tskip = ts;
      if (R) set_tb_tskip(tb, ts);
    }
    const int scan_idx = scan_idx_for(log2, cidx, tb.intra_mode);
    const auto& sc4 = scan_order(2, scan_idx);
    const auto& scs = scan_order(log2 - 2, scan_idx);
    // Last significant position.
    uint32_t lx = 0, ly = 0;
    int last_sb = 0, last_pos = 0;
    if (!R) {
      const int last = tb.last >= 0 ? tb.last : std::max(0, last_nonzero(coef, log2, scan_idx));
      last_sb = last >> 4;
      last_pos = last & 15;
      lx = static_cast<uint32_t>((scs[last_sb].x << 2) + sc4[last_pos].x);
      ly = static_cast<uint32_t>((scs[last_sb].y << 2) + sc4[last_pos].y);
      if (scan_idx == 2) std::swap(lx, ly);
    }
    last_prefix_suffix(lx, ly, log2, cidx);
    if (scan_idx == 2) std::swap(lx, ly);
    if (R) {
      if (lx >= static_cast<uint32_t>(n) || ly >= static_cast<uint32_t>(n))
        fail("last significant coefficient outside the block");
      // Locate the last position in scan order.
      const int sbx = static_cast<int>(lx) >> 2, sby = static_cast<int>(ly) >> 2;
      for (last_sb = 0; scs[last_sb].x != sbx || scs[last_sb].y != sby; ++last_sb) {
      }
      const int px = static_cast<int>(lx) & 3, py = static_cast<int>(ly) & 3;
      for (last_pos = 0; sc4[last_pos].x != px || sc4[last_pos].y != py; ++last_pos) {
      }
    }
    const int nsb = 1 << (log2 - 2);
    uint8_t csbf[8][8];
    std::memset(csbf, 0, sizeof(csbf));
    const bool sdh = pps_.sign_data_hiding && !tb.bypass;
    int greater1_state = 1;  // c1 carried between sub-blocks
    bool first_sb = true;
    int max_x = 0, max_y = 0;
    const int sig_base = kCtxSig + (cidx ? 27 : 0);
    const SigCtxBlock& sig_ctx_blk = sig_ctx_block(log2, cidx, scan_idx);
    const uint16_t* const block_scan = coeff_scan(log2, scan_idx);
    for (int i = last_sb; i >= 0; --i) {
      const int xs = scs[i].x, ys = scs[i].y;
      const uint16_t* scan = block_scan + 16 * i;  // raster index of each position of the sub-block
      // Coded sub-block flag.
      uint32_t coded = 1;
      bool infer_dc = false;
      if (i < last_sb && i > 0) {
        int cs = 0;
        if (xs < nsb - 1) cs += csbf[xs + 1][ys];
        if (ys < nsb - 1) cs += csbf[xs][ys + 1];
        bool any = false;
        if (!R)
          for (int p = 0; p < 16 && !any; ++p) any = coef[scan[p]] != 0;
        coded = c_.bin(ctx_.s[kCtxCsbf + std::min(cs, 1) + (cidx ? 2 : 0)], any);
        infer_dc = true;
      }
      csbf[xs][ys] = static_cast<uint8_t>(coded);
      if (!coded) continue;
      // Significance.
      int prev_csbf = 0;
      if (xs < nsb - 1) prev_csbf |= csbf[xs + 1][ys];
      if (ys < nsb - 1) prev_csbf |= csbf[xs][ys + 1] << 1;
      const uint8_t* sig_ctx_of = sig_ctx_blk[prev_csbf][i == 0 ? 1 : 0];
      // The significant positions and (writer, counter) their absolute levels, gathered as the
      // flags are coded.
      int sig_pos[16], nsig = 0;
      int absl[16];
      const int start = (i == last_sb) ? last_pos - 1 : 15;
      if (i == last_sb) {
        absl[nsig] = R ? 1 : std::abs(coef[scan[last_pos]]);
        sig_pos[nsig++] = last_pos;
      }
      // Locals: the contexts' stores (bytes) could alias the members.
      Cabac& cabac = c_;
      uint8_t* const sig_ctx = &ctx_.s[sig_base];
      for (int p = start; p >= 0; --p) {
        const int v = R ? 0 : coef[scan[p]];
        uint32_t sig;
        if (p > 0 || !infer_dc) {
          sig = cabac.bin(sig_ctx[sig_ctx_of[p]], v != 0);
          if (sig) infer_dc = false;
        } else {
          sig = 1;  // inferred DC of a coded sub-block with no other significant coefficient
        }
        if (sig) {
          absl[nsig] = R ? 1 : std::abs(v);
          sig_pos[nsig++] = p;
        }
      }
      if (nsig == 0) continue;  // the DC sub-block may carry no coefficient at all
      // Levels: greater1 for the first eight, greater2 for the first greater1.
      int ctx_set = (i == 0 || cidx > 0) ? 0 : 2;
      if (!first_sb && greater1_state == 0) ++ctx_set;
      first_sb = false;
      greater1_state = 1;
      int g1_first = -1;
      const int n_g1 = std::min(nsig, 8);
      uint8_t g1[16] = {0}, g2 = 0;
      uint8_t* const gt1_ctx = &ctx_.s[kCtxGt1 + ctx_set * 4 + (cidx ? 16 : 0)];
      for (int k = 0; k < n_g1; ++k) {
        g1[k] = static_cast<uint8_t>(cabac.bin(gt1_ctx[std::min(3, greater1_state)], absl[k] > 1));
        if (g1[k]) {
          greater1_state = 0;
          if (g1_first < 0) g1_first = k;
        } else if (greater1_state > 0) {
          ++greater1_state;
        }
      }
      if (g1_first >= 0)
        g2 = static_cast<uint8_t>(
            c_.bin(ctx_.s[kCtxGt2 + ctx_set + (cidx ? 4 : 0)], absl[g1_first] > 2));
      // Signs.
      const bool hidden = sdh && (sig_pos[0] - sig_pos[nsig - 1] > 3);
      uint32_t signs = 0;  // bit k = sign of k-th significant coefficient
      if constexpr (counts_only) {
        c_.bypass_bits(0, nsig - (hidden ? 1 : 0));
      } else {
        for (int k = 0; k < nsig; ++k) {
          if (hidden && k == nsig - 1) continue;
          const int p = sig_pos[k];
          uint32_t s = R ? 0 : coef[scan[p]] < 0;
          s = c_.bypass(s);
          signs |= s << k;
        }
      }
      // Remaining levels.
      int rice = 0, sum_abs = 0;
      for (int k = 0; k < nsig; ++k) {
        int base = 1 + (k < 8 ? g1[k] : 0) + (k == g1_first ? g2 : 0);
        const int thr = (k < 8) ? ((k == g1_first) ? 3 : 2) : 1;
        int level = base;
        if (base == thr) {
          uint32_t rem = abs_remaining(R ? 0 : static_cast<uint32_t>(absl[k] - base), rice);
          level = base + static_cast<int>(rem);
          if (level > 3 * (1 << rice)) rice = std::min(rice + 1, 4);
        }
        sum_abs += level;
        if (R) {
          const int rs = scan[sig_pos[k]];
          if (level > 32768) fail("coefficient level out of range");
          int v = ((signs >> k) & 1) ? -level : level;
          if (hidden && k == nsig - 1 && (sum_abs & 1)) v = -v;
          coef[rs] = static_cast<int16_t>(std::max(-32768, std::min(32767, v)));
          max_x = std::max(max_x, rs & (n - 1));
          max_y = std::max(max_y, rs >> log2);
        }
      }
    }
    if (R) {
      tb.max_x = max_x;
      tb.max_y = max_y;
    } else {
      tb.max_x = tb.max_y = n - 1;
    }
  }

 private:
  bool tb_tskip(const TbInfo& tb) {
    if (tb.cidx == 0) return (info_.blk(tb.x, tb.y).flags & kBfTskipY) != 0;
    return (info_.blk(tb.x << 1, tb.y << 1).tskip_c >> (tb.cidx - 1)) & 1;
  }
  void set_tb_tskip(const TbInfo& tb, bool ts) {
    if (tb.cidx == 0) {
      BlockInfo& b = info_.blk(tb.x, tb.y);
      b.flags = static_cast<uint8_t>(ts ? (b.flags | kBfTskipY) : (b.flags & ~kBfTskipY));
    } else {
      // Chroma 4x4 covers an 8x8 luma area.
      const uint8_t bit = static_cast<uint8_t>(1 << (tb.cidx - 1));
      info_.for_each(tb.x << 1, tb.y << 1, 8, 8, [&](BlockInfo& b) {
        b.tskip_c = static_cast<uint8_t>(ts ? (b.tskip_c | bit) : (b.tskip_c & ~bit));
      });
    }
  }

  void apply_slice_sao_flags(SaoParams& sp) {
    if (!st_.sao_luma) sp.type[0] = 0;
    if (!st_.sao_chroma) sp.type[1] = sp.type[2] = 0;
  }

  Cabac& c_;
  ContextSet& ctx_;
  Sink& sink_;
  SliceState& st_;
  const Sps& sps_;
  const Pps& pps_;
  CodingInfo& info_;

 public:
  // Rate estimation only: the parts of a coding unit's syntax to count. The three parts share
  // no context, so their counts add up to the whole. Coding units with cu_qp_delta or PCM are
  // counted whole (their presence depends on more than one part).
  uint8_t count_parts_ = kCountAll;

 private:
  bool counts(uint8_t parts) const { return R || (count_parts_ & parts) != 0; }
  uint32_t luma_bin(uint8_t& ctx, uint32_t b) {
    return counts(kCountLumaSyntax) ? c_.bin(ctx, b) : b;
  }
};

}  // namespace hevc
