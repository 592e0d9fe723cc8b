#include "encoder.h"

#include <algorithm>
#include <chrono>
#include <cstring>
#include <optional>
#include <stdexcept>

#include "../dpb.h"
#include "../loop_filter.h"
#include "../nal.h"
#include "../picture_hash.h"
#include "../sao.h"
#include "../sei.h"
#include "../slice_header.h"
#include "../substreams.h"
#include "cnn_decide.h"
#include "cu_search.h"
#include "enc_picture.h"
#include "inter_search.h"
#include "intra_search.h"
#include "sao_search.h"

namespace hevc {

namespace {

// The lowest level whose picture size, sample rate and DPB size (A.4.2) allow the stream.
int level_idc_for(int64_t samples, double rate, int dpb_size, int tile_cols, int tile_rows) {
  struct L {
    int idc;
    int64_t ps;
    double sr;
    int rows, cols;  // MaxTileRows, MaxTileCols
  };
  static const L kLevels[] = {{30, 36864, 552960, 1, 1},
                              {60, 122880, 3686400, 1, 1},
                              {63, 245760, 7372800, 1, 1},
                              {90, 552960, 16588800, 2, 2},
                              {93, 983040, 33177600, 3, 3},
                              {120, 2228224, 66846720, 5, 5},
                              {123, 2228224, 133693440, 5, 5},
                              {150, 8912896, 267386880, 11, 10},
                              {153, 8912896, 534773760, 11, 10},
                              {156, 8912896, 1069547520, 11, 10},
                              {180, 35651584, 1069547520, 22, 20},
                              {183, 35651584, 2139095040, 22, 20},
                              {186, 35651584, 4278190080.0, 22, 20}};
  for (const L& l : kLevels) {
    if (tile_cols > l.cols || tile_rows > l.rows) continue;
    const int max_dpb = samples <= (l.ps >> 2)       ? 16
                        : samples <= (l.ps >> 1)     ? 12
                        : samples <= (3 * l.ps >> 2) ? 8
                                                     : 6;
    if (samples <= l.ps && samples * rate <= l.sr && dpb_size <= max_dpb) return l.idc;
  }
  return 186;
}

}  // namespace

std::string EncoderConfig::validate() const {
  auto pow2 = [](int v) { return v > 0 && (v & (v - 1)) == 0; };
  if (width <= 0 || height <= 0) return "the source width and height must be positive";
  if (width % 2 || height % 2) return "4:2:0 input needs an even width and height";
  if (static_cast<int64_t>(width) * height > kMaxLumaSamples)
    return "the picture is larger than level 6.2 allows";
  if (qp < 0 || qp > 51) return "QP must be in 0..51";
  if (!(max_cu_size == 16 || max_cu_size == 32 || max_cu_size == 64))
    return "MaxCUWidth must be 16, 32 or 64";
  if (max_partition_depth < 1 || min_cu_log2() < 3)
    return "MaxPartitionDepth gives a minimum CU below 8x8";
  if (tu_log2_min < 2 || tu_log2_max > 5 || tu_log2_min > tu_log2_max)
    return "QuadtreeTULog2MinSize/MaxSize must satisfy 2 <= min <= max <= 5";
  if (tu_log2_max > ctb_log2()) return "QuadtreeTULog2MaxSize cannot exceed the CTU size";
  if (tu_log2_min >= min_cu_log2())
    return "QuadtreeTULog2MinSize must be below the minimum CU size";
  if (tu_max_depth_intra < 1 || tu_max_depth_inter < 1)
    return "QuadtreeTUMaxDepthIntra/Inter must be at least 1";
  if (tu_max_depth_intra - 1 > ctb_log2() - tu_log2_min ||
      tu_max_depth_inter - 1 > ctb_log2() - tu_log2_min)
    return "QuadtreeTUMaxDepth is deeper than the CTU and the minimum TU size allow";
  if (intra_period == 0 || intra_period < -1) return "IntraPeriod must be -1 or at least 1";
  if (search_range < 0 || search_range > 1024) return "SearchRange must be in 0..1024";
  if (bipred_search_range < 0 || bipred_search_range > 1024)
    return "BipredSearchRange must be in 0..1024";
  if (max_merge_cand < 1 || max_merge_cand > 5) return "MaxNumMergeCand must be in 1..5";
  if (hash < 0 || hash > 3) return "SEIDecodedPictureHash must be 0..3";
  if (max_temporal_layers < 1 || max_temporal_layers > 7)
    return "max_temporal_layers must be in 1..7";
  if (max_dec_pic_buffering < 1 || max_dec_pic_buffering > 16)
    return "max_dec_pic_buffering must be in 1..16";
  if (num_reorder_pics < 0 || num_reorder_pics >= max_dec_pic_buffering)
    return "num_reorder_pics must be in 0..max_dec_pic_buffering - 1";
  if (cb_qp_offset < -12 || cb_qp_offset > 12 || cr_qp_offset < -12 || cr_qp_offset > 12)
    return "CbQpOffset/CrQpOffset must be in -12..12";
  if (beta_offset_div2 < -6 || beta_offset_div2 > 6 || tc_offset_div2 < -6 || tc_offset_div2 > 6)
    return "deblocking offsets must be in -6..6";
  if (frame_rate <= 0) return "FrameRate must be positive";
  if (!(lambda_modifier >= 0.1 && lambda_modifier <= 10))
    return "LambdaModifier0 must be in 0.1..10";
  if (rmd_candidates_4x4 < 1 || rmd_candidates_4x4 > 35 || rmd_candidates_small < 1 ||
      rmd_candidates_small > 35 || rmd_candidates_large < 1 || rmd_candidates_large > 35)
    return "the number of RD mode candidates must be in 1..35";
  if (prev_tree_up < -1 || prev_tree_up > 3 || prev_tree_down < -1 || prev_tree_down > 3)
    return "PrevTreeUp/PrevTreeDown must be in -1..3";
  if (prev_tree_max_diff < -1 || prev_tree_max_diff > 255)
    return "PrevTreeMaxDiff must be in -1..255";
  if (prev_tree_refresh < 0) return "PrevTreeRefresh must be 0 or more";
  if (pcm && (pcm_log2_min < std::min(min_cu_log2(), 5) || pcm_log2_max > std::min(ctb_log2(), 5) ||
              pcm_log2_min > pcm_log2_max))
    return "PCMLog2MinSize/MaxSize must satisfy min(minimum CU, 32) <= min <= max <= min(CTU, 32)";
  if ((slice_mode != 0 && slice_mode != 1) || (slice_segment_mode != 0 && slice_segment_mode != 1))
    return "SliceMode and SliceSegmentMode must be 0 or 1 (CTUs per slice or segment)";
  if ((slice_mode && slice_argument < 1) || (slice_segment_mode && slice_segment_argument < 1))
    return "SliceArgument and SliceSegmentArgument must be at least 1 CTU";
  if (tile_columns_minus1 < 0 || tile_columns_minus1 > 19)
    return "NumTileColumnsMinus1 must be in 0..19";
  if (tile_rows_minus1 < 0 || tile_rows_minus1 > 21) return "NumTileRowsMinus1 must be in 0..21";
  if (wpp && (tile_columns_minus1 || tile_rows_minus1))
    return "the Main profile does not allow tiles and WaveFrontSynchro together";
  (void)pow2;
  return "";
}

struct Encoder::Impl {
  EncoderConfig cfg;
  Vps vps;
  Sps sps;
  Pps pps;
  EncPicture pic;
  CodingOrder order;
  Dpb dpb;  // the reconstructed pictures kept for reference, as a decoder keeps them
  CnnProvider cnn;
  CnnSei cnn_sei;
  CuTree last_tree;
  Plane prev_luma;               // the previous picture's source luma, for PrevTreeMaxDiff
  std::optional<CuTree> forced;  // for the next picture only

  explicit Impl(const EncoderConfig& c) : cfg(c) {
    const std::string err = cfg.validate();
    if (!err.empty()) throw std::invalid_argument(err);
    const int min_cu = 1 << cfg.min_cu_log2();
    const int cw = (cfg.width + min_cu - 1) / min_cu * min_cu;
    const int ch = (cfg.height + min_cu - 1) / min_cu * min_cu;
    ProfileTierLevel ptl;
    ptl.level_idc = static_cast<uint8_t>(
        level_idc_for(static_cast<int64_t>(cw) * ch, cfg.frame_rate, cfg.max_dec_pic_buffering,
                      cfg.tile_columns_minus1 + 1, cfg.tile_rows_minus1 + 1));
    vps.ptl = ptl;
    sps.ptl = ptl;
    // Every sub-layer is given the whole stream's DPB size and reordering (HM derives them per
    // sub-layer from its GOP; a decoder of the whole stream uses the highest one's). Nesting
    // only with one sub-layer, where it is required.
    const int sub_layers = cfg.max_temporal_layers;
    vps.max_sub_layers_minus1 = sps.max_sub_layers_minus1 = static_cast<uint8_t>(sub_layers - 1);
    vps.temporal_id_nesting = sps.temporal_id_nesting = sub_layers == 1;
    for (int i = 0; i < sub_layers; ++i) {
      vps.max_dec_pic_buffering_minus1[i] = sps.max_dec_pic_buffering_minus1[i] =
          static_cast<uint32_t>(cfg.max_dec_pic_buffering - 1);
      vps.max_num_reorder[i] = sps.max_num_reorder[i] = static_cast<uint32_t>(cfg.num_reorder_pics);
    }
    sps.width = static_cast<uint32_t>(cw);
    sps.height = static_cast<uint32_t>(ch);
    if (cw != cfg.width || ch != cfg.height) {
      sps.conformance_window = 1;
      sps.conf_win[1] = static_cast<uint32_t>((cw - cfg.width) / 2);
      sps.conf_win[3] = static_cast<uint32_t>((ch - cfg.height) / 2);
    }
    sps.log2_max_poc_lsb_minus4 = 4;
    sps.log2_min_cb_minus3 = static_cast<uint8_t>(cfg.min_cu_log2() - 3);
    sps.log2_diff_max_min_cb = static_cast<uint8_t>(cfg.ctb_log2() - cfg.min_cu_log2());
    sps.log2_min_tb_minus2 = static_cast<uint8_t>(cfg.tu_log2_min - 2);
    sps.log2_diff_max_min_tb = static_cast<uint8_t>(cfg.tu_log2_max - cfg.tu_log2_min);
    // HM counts RQT levels; the SPS counts splits.
    sps.max_th_depth_intra = static_cast<uint8_t>(cfg.tu_max_depth_intra - 1);
    sps.max_th_depth_inter = static_cast<uint8_t>(cfg.tu_max_depth_inter - 1);
    sps.amp = cfg.amp;
    sps.sao = cfg.sao;
    sps.pcm = cfg.pcm;
    if (cfg.pcm) {
      sps.pcm_bit_depth_luma_minus1 = sps.pcm_bit_depth_chroma_minus1 = 7;
      sps.log2_min_pcm_minus3 = static_cast<uint8_t>(cfg.pcm_log2_min - 3);
      sps.log2_diff_max_min_pcm = static_cast<uint8_t>(cfg.pcm_log2_max - cfg.pcm_log2_min);
      sps.pcm_loop_filter_disabled = cfg.pcm_filter_disable;
    }
    sps.st_rps.assign(1, ShortTermRps{});  // the empty set that intra pictures after the IDR use
    sps.temporal_mvp = cfg.tmvp && cfg.intra_period != 1;
    sps.strong_intra_smoothing = cfg.strong_intra_smoothing;
    pps.sign_data_hiding = cfg.sign_hide;
    pps.transform_skip = cfg.transform_skip;
    pps.cb_qp_offset = cfg.cb_qp_offset;
    pps.cr_qp_offset = cfg.cr_qp_offset;
    pps.entropy_coding_sync = cfg.wpp;
    set_tiles();
    pps.loop_filter_across_slices = 1;
    pps.dependent_slice_segments = cfg.slice_segment_mode != 0;
    if (cfg.loop_filter_disable || cfg.loop_filter_offset_in_pps) {
      pps.deblocking_control_present = 1;
      pps.deblocking_disabled = cfg.loop_filter_disable;
      pps.beta_offset_div2 = cfg.beta_offset_div2;
      pps.tc_offset_div2 = cfg.tc_offset_div2;
    }
    pic.sps = &sps;
    pic.pps = &pps;
    pic.cfg = &cfg;
    check_segments();
  }

  // Slices against tiles and wavefronts.
  void check_segments() const {
    if (!cfg.slice_mode && !cfg.slice_segment_mode) return;
    PicGeometry g;
    g.derive(sps, pps);
    auto tile_end = [&](int ts) { return ts == g.num_ctb || tile_starts(g, ts); };
    for (const Segment& seg : segments(g)) {
      // 6.3.1: a slice segment lies in one tile or holds whole tiles (and so does a slice,
      // which the segments then also satisfy).
      const bool one_tile = g.tile_id[seg.ts_begin] == g.tile_id[seg.ts_end - 1];
      if (!one_tile && !(tile_starts(g, seg.ts_begin) && tile_end(seg.ts_end)))
        throw std::invalid_argument(
            "a slice or slice segment would span part of a tile: with tiles, make SliceArgument "
            "and SliceSegmentArgument fit within a tile or cover whole tiles");
      // A slice that starts beyond a row's second CTU leaves the next row's first CTU without
      // its upper-right neighbour: HM (and this decoder) start those contexts afresh, ffmpeg
      // takes the WPP storage anyway. Such streams are not written.
      const int rx = g.ts_to_rs[seg.ts_begin] % g.w_ctb;
      if (pps.entropy_coding_sync && !seg.dependent && rx >= 2 &&
          seg.ts_end - seg.ts_begin > g.w_ctb - rx)
        throw std::invalid_argument(
            "with WaveFrontSynchro, a slice may start only at the first or second CTU of a row "
            "(SliceArgument " +
            std::to_string(cfg.slice_argument) + ", " + std::to_string(g.w_ctb) +
            " CTUs a row): decoders disagree on the next row's contexts otherwise");
    }
  }

  // The PPS's tiles, checked against the picture (A.3.2: in Main, each column at least 256 luma
  // samples wide and each row 64 high).
  void set_tiles() {
    if (!cfg.tile_columns_minus1 && !cfg.tile_rows_minus1) return;
    pps.tiles = 1;
    pps.num_tile_columns_minus1 = static_cast<uint32_t>(cfg.tile_columns_minus1);
    pps.num_tile_rows_minus1 = static_cast<uint32_t>(cfg.tile_rows_minus1);
    pps.uniform_spacing = cfg.tile_uniform;
    pps.loop_filter_across_tiles = cfg.lf_across_tiles;
    const int w_ctb = static_cast<int>(sps.pic_w_ctb()), h_ctb = static_cast<int>(sps.pic_h_ctb());
    if (!cfg.tile_uniform) {
      int sw = 0, sh = 0;
      for (int i = 0; i < cfg.tile_columns_minus1; ++i) {
        if (cfg.tile_column_width[i] < 1)
          throw std::invalid_argument(
              "TileColumnWidthArray needs NumTileColumnsMinus1 widths >= 1");
        pps.column_width_minus1.push_back(static_cast<uint32_t>(cfg.tile_column_width[i] - 1));
        sw += cfg.tile_column_width[i];
      }
      for (int j = 0; j < cfg.tile_rows_minus1; ++j) {
        if (cfg.tile_row_height[j] < 1)
          throw std::invalid_argument("TileRowHeightArray needs NumTileRowsMinus1 heights >= 1");
        pps.row_height_minus1.push_back(static_cast<uint32_t>(cfg.tile_row_height[j] - 1));
        sh += cfg.tile_row_height[j];
      }
      if (sw >= w_ctb || sh >= h_ctb)
        throw std::invalid_argument("the tile widths or heights leave no CTU for the last tile (" +
                                    std::to_string(w_ctb) + "x" + std::to_string(h_ctb) + " CTUs)");
    } else if (cfg.tile_columns_minus1 >= w_ctb || cfg.tile_rows_minus1 >= h_ctb) {
      throw std::invalid_argument("more tile columns or rows than the picture has CTUs");
    }
    PicGeometry g;
    g.derive(sps, pps);
    for (size_t i = 0; i + 1 < g.col_bd.size(); ++i)
      if ((g.col_bd[i + 1] - g.col_bd[i]) << g.ctb_log2 < 256)
        throw std::invalid_argument("tile column " + std::to_string(i) +
                                    " is narrower than the 256 luma samples Main requires");
    for (size_t j = 0; j + 1 < g.row_bd.size(); ++j)
      if ((g.row_bd[j + 1] - g.row_bd[j]) << g.ctb_log2 < 64)
        throw std::invalid_argument("tile row " + std::to_string(j) +
                                    " is lower than the 64 luma samples Main requires");
  }

  // The picture's slice segments in tile scan: a slice every SliceArgument CTUs (SliceMode 1),
  // and within it a dependent segment every SliceSegmentArgument CTUs (SliceSegmentMode 1).
  struct Segment {
    int ts_begin = 0, ts_end = 0;
    bool dependent = false;
    int slice_addr_rs = 0;  // SliceAddrRs
  };
  std::vector<Segment> segments(const PicGeometry& g) const {
    std::vector<Segment> out;
    const int per_slice = cfg.slice_mode ? cfg.slice_argument : g.num_ctb;
    const int per_segment = cfg.slice_segment_mode ? cfg.slice_segment_argument : g.num_ctb;
    for (int s0 = 0; s0 < g.num_ctb; s0 += per_slice) {
      const int s1 = std::min(g.num_ctb, s0 + per_slice);
      for (int t = s0; t < s1; t += per_segment)
        out.push_back({t, std::min(s1, t + per_segment), t != s0, g.ts_to_rs[s0]});
    }
    return out;
  }

  // The contexts a CTU starts from (substreams.h), `wpp` and `seg_end` the stored ones.
  void start_contexts(ContextSet& ctx, CtxStart from, const ContextSet& wpp,
                      const ContextSet& seg_end) const {
    if (from == CtxStart::Init) ctx.init(pic.type, false, pic.qp);
    if (from == CtxStart::Wpp) ctx = wpp;
    if (from == CtxStart::Segment) ctx = seg_end;
  }

  void load_source(const Pel* y, int ys, const Pel* u, int us, const Pel* v, int vs) {
    const int W = static_cast<int>(sps.width), H = static_cast<int>(sps.height);
    pic.src.alloc(W, H);
    const Pel* src[3] = {y, u, v};
    const int strides[3] = {ys, us, vs};
    for (int c = 0; c < 3; ++c) {
      const int sh = c ? 1 : 0;
      const int w = cfg.width >> sh, h = cfg.height >> sh;
      Plane& p = pic.src.planes[c];
      for (int j = 0; j < p.height; ++j) {
        const Pel* s = src[c] + static_cast<ptrdiff_t>(std::min(j, h - 1)) * strides[c];
        Pel* d = p.row(j);
        std::memcpy(d, s, w);
        // Padding repeats the last column and row, which keeps it cheap to code.
        for (int i = w; i < p.width; ++i) d[i] = d[w - 1];
      }
    }
  }

  // One slice segment's NAL unit payload; `ctx`, `wpp` carry the contexts across segments.
  std::vector<uint8_t> write_segment(int nal_type, SliceHeader& hdr, SliceState& st,
                                     const Segment& seg, ContextSet& ctx, ContextSet& wpp) {
    CodingInfo& info = pic.info;
    const PicGeometry& g = info.geo();
    CabacWriter cw;
    cw.start();
    const ContextSet seg_end = ctx;
    CoeffSink sink{pic, {}};
    CtuCoder<CabacWriter, CoeffSink> coder(cw, ctx, sink, st);
    std::vector<size_t> substream_end;
    hdr.first_slice_segment_in_pic = seg.ts_begin == 0;
    hdr.dependent = seg.dependent;
    hdr.segment_address = static_cast<uint32_t>(g.ts_to_rs[seg.ts_begin]);
    st.slice_addr_rs = seg.slice_addr_rs;
    for (int ts = seg.ts_begin; ts < seg.ts_end; ++ts) {
      const int rs = g.ts_to_rs[ts];
      const int rx = rs % g.w_ctb, ry = rs / g.w_ctb;
      start_contexts(ctx, ctx_start(info, pps, ts, ts == seg.ts_begin, seg.dependent), wpp,
                     seg_end);
      st.ctb_addr_rs = rs;
      st.qp_prev = st.qp_y = pic.qp;
      if (hdr.sao_luma || hdr.sao_chroma) coder.sao(rx, ry);
      coder.coding_quadtree(rx << g.ctb_log2, ry << g.ctb_log2, g.ctb_log2, 0);
      const bool last = ts == seg.ts_end - 1;
      cw.terminate(last ? 1 : 0);
      if (wpp_stores(g, pps, rs)) wpp = ctx;
      if (!last && substream_starts(g, pps, ts + 1)) {
        cw.terminate(1);  // end_of_subset_one_bit
        cw.finish_alignment();
        substream_end.push_back(cw.out().size());
        cw.start();
      }
    }
    cw.finish_alignment();
    std::vector<uint8_t> data = std::move(cw.out());
    // Entry points count the emulation prevention bytes each substream will carry.
    hdr.entry_point_offset_minus1.clear();
    size_t begin = 0;
    uint32_t max_off = 0;
    for (size_t end : substream_end) {
      int zeros = 0;
      uint32_t epb = 0;
      for (size_t i = begin; i < end; ++i) {
        if (zeros >= 2 && data[i] <= 3) {
          ++epb;
          zeros = 0;
        }
        zeros = data[i] == 0 ? zeros + 1 : 0;
      }
      const uint32_t off = static_cast<uint32_t>(end - begin) + epb;
      hdr.entry_point_offset_minus1.push_back(off - 1);
      max_off = std::max(max_off, off - 1);
      begin = end;
    }
    hdr.offset_len_minus1 = static_cast<uint32_t>(std::max(1, ceil_log2(max_off + 1)) - 1);
    BitWriter w;
    write_slice_header(w, nal_type, sps, pps, hdr);
    std::vector<uint8_t> rbsp = w.take();
    rbsp.insert(rbsp.end(), data.begin(), data.end());
    return rbsp;
  }

  // The picture's reference picture set in `hdr` (the DPB marked by it) and, for P and B, its
  // lists and what motion prediction needs; the reason when `desc` cannot be coded.
  std::string set_references(const PictureDesc& desc, int index, SliceHeader& hdr, SliceState& st) {
    const std::string at = "POC " + std::to_string(desc.poc) + ": ";
    const bool intra = desc.slice_type == SliceType::I;
    if (!desc.ref_used.empty() && desc.ref_used.size() != desc.ref_deltas.size())
      return at + "ref_used must give one flag per reference";
    std::vector<std::pair<int, bool>> neg, pos;
    for (size_t i = 0; i < desc.ref_deltas.size(); ++i) {
      const int dlt = desc.ref_deltas[i];
      const bool used = !intra && (desc.ref_used.empty() || desc.ref_used[i]);
      if (dlt == 0) return at + "a reference picture set cannot hold the picture itself";
      if (!dpb.holds_reference(desc.poc + dlt))
        return at + "references POC " + std::to_string(desc.poc + dlt) +
               ", which is not held for reference";
      (dlt < 0 ? neg : pos).push_back({dlt, used});
    }
    if (is_idr(desc.nal_type) && !(neg.empty() && pos.empty()))
      return at + "an IDR picture has no reference pictures";
    if (neg.size() + pos.size() > 16) return at + "more than 16 reference pictures";
    std::sort(neg.begin(), neg.end(), [](auto& a, auto& b) { return a.first > b.first; });
    std::sort(pos.begin(), pos.end(), [](auto& a, auto& b) { return a.first < b.first; });
    ShortTermRps& rps = hdr.st_rps;
    rps = ShortTermRps{};
    rps.num_negative = static_cast<int>(neg.size());
    rps.num_positive = static_cast<int>(pos.size());
    for (size_t i = 0; i < neg.size(); ++i) {
      rps.delta_poc_s0[i] = neg[i].first;
      rps.used_s0[i] = neg[i].second;
    }
    for (size_t i = 0; i < pos.size(); ++i) {
      rps.delta_poc_s1[i] = pos[i].first;
      rps.used_s1[i] = pos[i].second;
    }
    // An empty set is the SPS's (All-Intra streams code no RPS of their own).
    hdr.st_rps_sps_flag = rps.num_delta_pocs() == 0;
    hdr.st_rps_idx = 0;
    const bool no_rasl = is_idr(desc.nal_type) || (is_irap(desc.nal_type) && index == 0);
    if (!intra) {
      const int used = hdr.num_pic_total_curr();
      if (used == 0) return at + "a P or B picture needs at least one used reference";
      const bool b = desc.slice_type == SliceType::B;
      for (int l = 0; l < (b ? 2 : 1); ++l)
        if (desc.num_ref_active[l] < 1 || desc.num_ref_active[l] > 15)
          return at + "num_ref_active must be in 1..15 for each list the slice uses";
      hdr.num_ref_idx_override = 1;
      hdr.num_ref_idx_l0_minus1 = static_cast<uint32_t>(desc.num_ref_active[0] - 1);
      hdr.num_ref_idx_l1_minus1 = b ? static_cast<uint32_t>(desc.num_ref_active[1] - 1) : 0;
      hdr.temporal_mvp = sps.temporal_mvp;
      hdr.collocated_from_l0 = b ? 0 : 1;
      hdr.collocated_ref_idx = 0;
      hdr.five_minus_max_merge_cand = static_cast<uint32_t>(5 - cfg.max_merge_cand);
    }
    dpb.apply_rps(sps, hdr, desc.poc, no_rasl, index);
    pic.refs = RefLists{};
    if (intra) return "";
    const int W = static_cast<int>(sps.width), H = static_cast<int>(sps.height);
    pic.refs = dpb.build_lists(hdr, W, H);
    MvContext& m = pic.mvc;
    m = MvContext{};
    m.info = &pic.info;
    m.motion = &pic.motion;
    m.refs = &pic.refs;
    m.b_slice = desc.slice_type == SliceType::B;
    m.cur_poc = desc.poc;
    if (hdr.temporal_mvp) m.col = pic.refs.pic[hdr.collocated_from_l0 ? 0 : 1][0];
    m.col_from_l0 = hdr.collocated_from_l0;
    m.log2_par_mrg_level = static_cast<int>(pps.log2_parallel_merge_level_minus2) + 2;
    m.max_merge_cand = cfg.max_merge_cand;
    m.derive_flags();
    st.mvc = &pic.mvc;
    st.motion = &pic.motion;
    st.mvd_l1_zero = false;
    return "";
  }

  EncodedFrame encode(const PictureDesc& desc, const Pel* y, int ys, const Pel* u, int us,
                      const Pel* v, int vs) {
    const std::string err = order.check(desc, cfg, sps);
    if (!err.empty()) throw std::invalid_argument(err);
    auto t0 = std::chrono::steady_clock::now();
    EncodedFrame out;
    const int poc = desc.poc, nal_type = desc.nal_type, tid = desc.temporal_id;
    const int index = order.coded();  // in coding order
    load_source(y, ys, u, us, v, vs);
    pic.type = desc.slice_type;
    pic.qp = desc.qp;
    pic.qp_c[0] = pic.qp;
    pic.qp_c[1] = chroma_qp_y_to_c(pic.qp, cfg.cb_qp_offset);
    pic.qp_c[2] = chroma_qp_y_to_c(pic.qp, cfg.cr_qp_offset);
    const double factor = desc.lambda_factor > 0 ? desc.lambda_factor : 0.57;
    pic.rd = RdParams::for_qp(pic.qp, pic.qp_c[1], pic.qp_c[2], factor * cfg.lambda_modifier);
    const int W = static_cast<int>(sps.width), H = static_cast<int>(sps.height);
    pic.rec.alloc(W, H);
    pic.info.init(sps, pps);
    for (int c = 0; c < 3; ++c)
      pic.coef[c].assign(static_cast<size_t>(pic.rec.planes[c].width) * pic.rec.planes[c].height,
                         0);
    pic.motion.init(W, H);
    pic.pu_w4 = W / 4;
    pic.pu.assign(static_cast<size_t>(W / 4) * (H / 4), PuSyntax{});
    CodingInfo& info = pic.info;
    SliceFilterInfo sf;
    sf.deblocking_disabled = pps.deblocking_disabled;
    sf.lf_across_slices = cfg.lf_across_slices;
    sf.sao_luma = sf.sao_chroma = sps.sao;
    sf.beta_offset_div2 = static_cast<int8_t>(pps.beta_offset_div2);
    sf.tc_offset_div2 = static_cast<int8_t>(pps.tc_offset_div2);
    info.slice_filters_.assign(1, sf);
    // Every CTU's slice is known before any is coded (availability, 6.4.1, compares them).
    const std::vector<Segment> segs = segments(info.geo());
    for (const Segment& seg : segs)
      for (int ts = seg.ts_begin; ts < seg.ts_end; ++ts)
        info.ctb_slice_[info.geo().ts_to_rs[ts]] = seg.slice_addr_rs;
    SliceState st;
    st.sps = &sps;
    st.pps = &pps;
    st.info = &info;
    st.slice_type = pic.type;
    st.slice_qp = st.qp_prev = st.qp_y = st.qp_pred = pic.qp;
    st.sao_luma = st.sao_chroma = sps.sao;
    st.slice_addr_rs = 0;

    SliceHeader hdr;
    hdr.slice_type = static_cast<uint32_t>(pic.type);
    const std::string ref_err = set_references(desc, index, hdr, st);
    if (!ref_err.empty()) throw std::invalid_argument(ref_err);

    // Mode decision and reconstruction, CTU by CTU.
    const PicGeometry& g = info.geo();
    IntraSearch intra(pic, st);
    std::optional<InterSearch> inter;
    std::vector<CuPredictor*> predictors;
    if (pic.type != SliceType::I) {
      inter.emplace(pic, st);
      predictors.push_back(&*inter);
    }
    predictors.push_back(&intra);
    CuSearch search(pic, st, predictors);
    if (forced) search.force_tree(&*forced);
    const int refresh = cfg.prev_tree_refresh;
    if (cfg.prev_tree_on() && index > 0 && (refresh <= 0 || index % refresh))
      search.hint_tree(&last_tree, cfg.prev_tree_max_diff >= 0 ? &prev_luma : nullptr);
    ContextSet ctx, wpp;
    for (const Segment& seg : segs) {
      const ContextSet seg_end = ctx;
      st.slice_addr_rs = seg.slice_addr_rs;
      for (int ts = seg.ts_begin; ts < seg.ts_end; ++ts) {
        const int rs = g.ts_to_rs[ts];
        start_contexts(ctx, ctx_start(info, pps, ts, ts == seg.ts_begin, seg.dependent), wpp,
                       seg_end);
        st.ctb_addr_rs = rs;
        search.compress_ctu(rs % g.w_ctb, rs / g.w_ctb, ctx);
        if (wpp_stores(g, pps, rs)) wpp = ctx;
      }
    }
    last_tree = cu_tree_of(info);
    forced.reset();
    if (cfg.prev_tree_on() && cfg.prev_tree_max_diff >= 0) prev_luma = pic.src.planes[0];

    // In-loop filters.
    std::unique_ptr<Frame> pre;
    CnnSliceExt cnn_ext;
    if (cnn) pre = std::make_unique<Frame>(pic.rec);
    if (!pps.deblocking_disabled)
      deblock_stage(sps, pps, info, pic.type != SliceType::I ? &pic.motion : nullptr, pic.rec);
    hdr.poc_lsb = static_cast<uint32_t>(poc) & ((1u << sps.log2_max_poc_lsb()) - 1);
    hdr.qp_delta = pic.qp - 26 - pps.init_qp_minus26;
    hdr.deblocking_disabled = pps.deblocking_disabled;
    hdr.lf_across_slices = cfg.lf_across_slices;
    if (cnn) {
      const auto tc = std::chrono::steady_clock::now();
      CnnRequest req;
      req.input = pre.get();
      req.qp = pic.qp;
      req.slice_type = pic.type;
      req.poc = poc;
      req.chroma = true;
      Frame cnn_out;
      PredictionSources sources;
      if (pic.type != SliceType::I) sources.add_slice(-1, pic.refs, pic.weights);
      const bool chroma_model =
          cnn_stage(cnn, req, sps, pps, info, pic.type != SliceType::I ? &pic.motion : nullptr,
                    &sources, cnn_out);
      out.cnn_seconds =
          std::chrono::duration<double>(std::chrono::steady_clock::now() - tc).count();
      const Frame deblocked = pic.rec;
      const CnnChoice choice =
          decide_cnn(pic, deblocked, cnn_out, chroma_model,
                     static_cast<CnnEncodeMode>(cfg.cnn_mode), cfg.cnn_force_off, st);
      hdr.sao_luma = st.sao_luma;
      hdr.sao_chroma = st.sao_chroma;
      cnn_ext = choice.ext;
      out.cnn_mode = static_cast<int>(choice.ext.mode);
      for (uint8_t f : choice.flags.luma) out.cnn_ctus += f;
    } else if (sps.sao) {
      Frame deblocked = pic.rec;
      auto used = sao_decide(pic, deblocked, st);
      hdr.sao_luma = used.first;
      hdr.sao_chroma = used.second;
      info.slice_filters_[0].sao_luma = hdr.sao_luma;
      info.slice_filters_[0].sao_chroma = hdr.sao_chroma;
      st.sao_luma = hdr.sao_luma;
      st.sao_chroma = hdr.sao_chroma;
      if (!hdr.sao_luma || !hdr.sao_chroma) {
        for (auto& sp : info.sao_) {
          if (!hdr.sao_luma) sp.type[0] = 0;
          if (!hdr.sao_chroma) sp.type[1] = sp.type[2] = 0;
        }
      }
      sao_and_cnn_stage(sps, pps, info, nullptr, nullptr, pic.rec);
    }

    // The access unit.
    std::vector<uint8_t>& au = out.bytes;
    if (is_irap(nal_type)) {
      write_nal(au, VPS_NUT, 0, write_vps(vps));
      write_nal(au, SPS_NUT, 0, write_sps(sps));
      write_nal(au, PPS_NUT, 0, write_pps(pps));
      if (cnn) {
        UserDataUnregistered ud;
        ud.uuid = kCnnSeiUuid;
        ud.payload = write_cnn_sei_payload(cnn_sei);
        write_nal(au, PREFIX_SEI_NUT, 0, write_user_data_sei(ud));
      }
    }
    ctx = ContextSet{};
    wpp = ContextSet{};
    for (const Segment& seg : segs) {
      if (cnn) {
        // The segment's own CTUs' flags (the picture's are in tile scan).
        CnnSliceExt e = cnn_ext;
        if (!e.luma.empty())
          e.luma.assign(cnn_ext.luma.begin() + seg.ts_begin, cnn_ext.luma.begin() + seg.ts_end);
        if (!e.chroma_flags.empty())
          e.chroma_flags.assign(cnn_ext.chroma_flags.begin() + seg.ts_begin,
                                cnn_ext.chroma_flags.begin() + seg.ts_end);
        hdr.extension = write_cnn_ext(e);
        out.cnn_flag_bits += hdr.extension.size() * 8;
      }
      write_nal(au, static_cast<uint8_t>(nal_type), static_cast<uint8_t>(tid),
                write_segment(nal_type, hdr, st, seg, ctx, wpp));
    }
    if (cfg.hash) {
      const HashType ht =
          cfg.hash == 1 ? HashType::MD5 : (cfg.hash == 2 ? HashType::CRC : HashType::Checksum);
      write_nal(au, SUFFIX_SEI_NUT, static_cast<uint8_t>(tid),
                write_hash_sei(frame_hash(ht, pic.rec)));
    }
    order.add(desc);
    // The picture as later pictures reference it.
    auto d = std::make_shared<DecodedPicture>();
    d->frame = std::make_shared<Frame>(pic.rec);
    d->motion = std::make_shared<MotionField>(pic.motion);
    d->poc = poc;
    d->decode_order = index;
    dpb.store(std::move(d), sps, false);
    for (int l = 0; l < 2; ++l)
      out.refs[l].assign(pic.refs.poc[l], pic.refs.poc[l] + pic.refs.num[l]);
    out.poc = poc;
    out.nal_type = nal_type;
    out.temporal_id = tid;
    out.ctus = g.num_ctb;
    out.slice_type = "BPI"[static_cast<int>(pic.type)];
    out.qp = pic.qp;
    out.bits = au.size() * 8;
    for (int c = 0; c < 3; ++c) {
      const int sh = c ? 1 : 0;
      const Plane& a = pic.src.planes[c];
      const Plane& b = pic.rec.planes[c];
      out.sse[c] = sse_block(a.buf.data(), a.stride, b.buf.data(), b.stride, cfg.width >> sh,
                             cfg.height >> sh);
    }
    out.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    return out;
  }
};

Encoder::Encoder(const EncoderConfig& cfg) : impl_(std::make_unique<Impl>(cfg)) {}
Encoder::~Encoder() = default;
EncodedFrame Encoder::encode(const PictureDesc& desc, const Pel* y, int ys, const Pel* u, int us,
                             const Pel* v, int vs) {
  return impl_->encode(desc, y, ys, u, us, v, vs);
}
EncodedFrame Encoder::encode(const Pel* y, int ys, const Pel* u, int us, const Pel* v, int vs) {
  return impl_->encode(next_all_intra(), y, ys, u, us, v, vs);
}
PictureDesc Encoder::next_all_intra() const { return impl_->order.next_all_intra(impl_->cfg); }
void Encoder::record_coded_elsewhere(const PictureDesc& desc) {
  if (desc.slice_type != SliceType::I || !desc.ref_deltas.empty())
    throw std::invalid_argument(
        "only an I picture without references can be coded by another encoder");
  if (impl_->cfg.prev_tree_on())
    throw std::invalid_argument(
        "the PrevTree keys guide each picture by the previous one, which another encoder coded");
  const std::string err = impl_->order.check(desc, impl_->cfg, impl_->sps);
  if (!err.empty()) throw std::invalid_argument(err);
  impl_->order.add(desc);
}
const Frame& Encoder::recon() const { return impl_->pic.rec; }
const CuTree& Encoder::cu_tree() const { return impl_->last_tree; }
void Encoder::force_cu_tree(CuTree tree) {
  const std::string err = check_cu_tree(tree, impl_->sps);
  if (!err.empty()) throw std::invalid_argument(err);
  impl_->forced = std::move(tree);
}
const Sps& Encoder::sps() const { return impl_->sps; }
const Pps& Encoder::pps() const { return impl_->pps; }

void Encoder::set_cnn(CnnProvider provider, const CnnSei& sei) {
  if (impl_->order.coded() > 0)
    throw std::logic_error("set_cnn must be called before the first picture");
  impl_->cnn = std::move(provider);
  impl_->cnn_sei = sei;
  impl_->pps.slice_header_extension_present = impl_->cnn ? 1 : 0;
}

}  // namespace hevc
