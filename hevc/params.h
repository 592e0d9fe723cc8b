// Parameter sets (VPS, SPS, PPS) with the structures they carry. Each syntax structure is
// written once as a template over ReadIO/WriteIO (see bitstream.h).
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <vector>

#include "bitstream.h"

namespace hevc {

struct ProfileTierLevel {
  uint8_t profile_space = 0, tier_flag = 0, profile_idc = 1;
  uint32_t compatibility_flags = 0x60000000;  // Main and Main 10 compatible
  uint8_t progressive_source = 1, interlaced_source = 0, non_packed_constraint = 0,
          frame_only_constraint = 1;
  uint64_t constraint_bits = 0;  // the 43 reserved/constraint bits + 1 inbld bit
  uint8_t level_idc = 93;        // level 3.1
  std::array<uint8_t, 8> sub_profile_present{}, sub_level_present{};
};

struct ShortTermRps {
  int num_negative = 0, num_positive = 0;
  std::array<int32_t, 16> delta_poc_s0{}, delta_poc_s1{};
  std::array<uint8_t, 16> used_s0{}, used_s1{};
  int num_delta_pocs() const { return num_negative + num_positive; }
};

struct ScalingList {
  // ScalingFactor per sizeId (4..32) and matrixId (0..5), stored row-major (y * n + x).
  std::array<std::array<std::vector<uint8_t>, 6>, 4> factor;
  // Coded form, kept so the list can be rewritten.
  std::array<std::array<std::array<uint8_t, 64>, 6>, 4> list{};
  std::array<std::array<uint8_t, 6>, 4> dc{};
  void set_default();
  void derive_factors();
};

struct Vui {
  uint8_t aspect_ratio_info_present = 0, aspect_ratio_idc = 0;
  uint16_t sar_width = 0, sar_height = 0;
  uint8_t overscan_info_present = 0, overscan_appropriate = 0;
  uint8_t video_signal_type_present = 0, video_format = 5, full_range = 0,
          colour_description_present = 0, colour_primaries = 2, transfer = 2, matrix = 2;
  uint8_t chroma_loc_present = 0;
  uint32_t chroma_loc_top = 0, chroma_loc_bottom = 0;
  uint8_t neutral_chroma = 0, field_seq = 0, frame_field_info_present = 0;
  uint8_t default_display_window = 0;
  uint32_t def_disp_win[4] = {0, 0, 0, 0};
  uint8_t timing_info_present = 0;
  uint32_t num_units_in_tick = 0, time_scale = 0;
  uint8_t poc_proportional = 0;
  uint32_t num_ticks_poc_diff_one_minus1 = 0;
  uint8_t hrd_present = 0;
  uint8_t bitstream_restriction = 0, tiles_fixed = 0, mv_over_pic_boundaries = 0,
          restricted_ref_lists = 0;
  uint32_t min_spatial_segmentation = 0, max_bytes_per_pic_denom = 0, max_bits_per_min_cu_denom = 0,
           log2_max_mv_len_h = 0, log2_max_mv_len_v = 0;
};

struct Vps {
  uint8_t id = 0;
  uint8_t max_sub_layers_minus1 = 0, temporal_id_nesting = 1;
  ProfileTierLevel ptl;
  uint8_t sub_layer_ordering_info_present = 1;
  std::array<uint32_t, 8> max_dec_pic_buffering_minus1{}, max_num_reorder{}, max_latency_plus1{};
  uint8_t max_layer_id = 0;
  uint32_t num_layer_sets_minus1 = 0;
  uint8_t timing_info_present = 0;
  uint32_t num_units_in_tick = 0, time_scale = 0;
};

struct Sps {
  uint8_t vps_id = 0, max_sub_layers_minus1 = 0, temporal_id_nesting = 1;
  ProfileTierLevel ptl;
  uint8_t id = 0;
  uint8_t chroma_format_idc = 1, separate_colour_plane = 0;
  uint32_t width = 0, height = 0;  // pic_width/height_in_luma_samples
  uint8_t conformance_window = 0;
  uint32_t conf_win[4] = {0, 0, 0, 0};  // left, right, top, bottom in chroma units
  uint8_t bit_depth_luma_minus8 = 0, bit_depth_chroma_minus8 = 0;
  uint8_t log2_max_poc_lsb_minus4 = 4;
  uint8_t sub_layer_ordering_info_present = 1;
  std::array<uint32_t, 8> max_dec_pic_buffering_minus1{}, max_num_reorder{}, max_latency_plus1{};
  uint8_t log2_min_cb_minus3 = 0, log2_diff_max_min_cb = 3;
  uint8_t log2_min_tb_minus2 = 0, log2_diff_max_min_tb = 3;
  uint8_t max_th_depth_inter = 3, max_th_depth_intra = 3;
  uint8_t scaling_list_enabled = 0, scaling_list_data_present = 0;
  ScalingList scaling;
  uint8_t amp = 1, sao = 1;
  uint8_t pcm = 0, pcm_bit_depth_luma_minus1 = 7, pcm_bit_depth_chroma_minus1 = 7;
  uint8_t log2_min_pcm_minus3 = 0, log2_diff_max_min_pcm = 0, pcm_loop_filter_disabled = 0;
  std::vector<ShortTermRps> st_rps;
  uint8_t long_term_refs_present = 0;
  std::vector<uint32_t> lt_poc_lsb;
  std::vector<uint8_t> lt_used;
  uint8_t temporal_mvp = 0, strong_intra_smoothing = 1;
  uint8_t vui_present = 0;
  Vui vui;
  uint8_t extension_present = 0;

  // Derived values.
  int min_cb_log2() const { return log2_min_cb_minus3 + 3; }
  int ctb_log2() const { return min_cb_log2() + log2_diff_max_min_cb; }
  int ctb_size() const { return 1 << ctb_log2(); }
  int min_tb_log2() const { return log2_min_tb_minus2 + 2; }
  int max_tb_log2() const { return min_tb_log2() + log2_diff_max_min_tb; }
  int pic_w_ctb() const { return (width + ctb_size() - 1) >> ctb_log2(); }
  int pic_h_ctb() const { return (height + ctb_size() - 1) >> ctb_log2(); }
  int log2_max_poc_lsb() const { return log2_max_poc_lsb_minus4 + 4; }
  int pcm_min_log2() const { return log2_min_pcm_minus3 + 3; }
  int pcm_max_log2() const { return pcm_min_log2() + log2_diff_max_min_pcm; }
};

struct Pps {
  uint8_t id = 0, sps_id = 0;
  uint8_t dependent_slice_segments = 0, output_flag_present = 0, num_extra_slice_header_bits = 0;
  uint8_t sign_data_hiding = 1, cabac_init_present = 0;
  uint32_t num_ref_idx_l0_default_minus1 = 0, num_ref_idx_l1_default_minus1 = 0;
  int32_t init_qp_minus26 = 0;
  uint8_t constrained_intra_pred = 0, transform_skip = 1, cu_qp_delta_enabled = 0;
  uint32_t diff_cu_qp_delta_depth = 0;
  int32_t cb_qp_offset = 0, cr_qp_offset = 0;
  uint8_t slice_chroma_qp_offsets_present = 0, weighted_pred = 0, weighted_bipred = 0;
  uint8_t transquant_bypass = 0, tiles = 0, entropy_coding_sync = 0;
  uint32_t num_tile_columns_minus1 = 0, num_tile_rows_minus1 = 0;
  uint8_t uniform_spacing = 1;
  std::vector<uint32_t> column_width_minus1, row_height_minus1;
  uint8_t loop_filter_across_tiles = 1, loop_filter_across_slices = 1;
  uint8_t deblocking_control_present = 0, deblocking_override_enabled = 0, deblocking_disabled = 0;
  int32_t beta_offset_div2 = 0, tc_offset_div2 = 0;
  uint8_t scaling_list_data_present = 0;
  ScalingList scaling;
  uint8_t lists_modification_present = 0;
  uint32_t log2_parallel_merge_level_minus2 = 0;
  uint8_t slice_header_extension_present = 0, extension_present = 0;
};

// Picture-level geometry derived from an SPS/PPS pair: tiles and CTB address conversions.
struct PicGeometry {
  int width = 0, height = 0, ctb_log2 = 6, ctb_size = 64, w_ctb = 0, h_ctb = 0, num_ctb = 0;
  std::vector<int> col_bd, row_bd;               // tile boundaries in CTBs (size cols+1, rows+1)
  std::vector<int> rs_to_ts, ts_to_rs, tile_id;  // tile_id indexed by TS address
  std::vector<int> col_of_ctb_x, row_of_ctb_y;   // tile column/row index per CTB column/row
  void derive(const Sps& sps, const Pps& pps);
  int tile_id_rs(int rs) const { return tile_id[rs_to_ts[rs]]; }
};

// Parses into the given object (validating ranges) or writes it.
void read_vps(BitReader& r, Vps& vps);
void read_sps(BitReader& r, Sps& sps);
void read_pps(BitReader& r, Pps& pps);
// Checks a PPS against the SPS it refers to; throws BitstreamError when they do not fit.
void validate_pps(const Sps& sps, const Pps& pps);
std::vector<uint8_t> write_vps(const Vps& vps);
std::vector<uint8_t> write_sps(const Sps& sps);
std::vector<uint8_t> write_pps(const Pps& pps);

// Short-term RPS syntax, shared with the slice header (idx == num_sets means "in a slice").
void read_st_rps(BitReader& r, int idx, int num_sets, const std::vector<ShortTermRps>& sets,
                 ShortTermRps& out);
void write_st_rps(BitWriter& w, int idx, const ShortTermRps& rps);

}  // namespace hevc
