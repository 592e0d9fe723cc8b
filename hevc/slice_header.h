// Slice segment header (H.265 7.3.6), read and written by one syntax description.
#pragma once

#include <array>
#include <cstdint>
#include <vector>

#include "bitstream.h"
#include "params.h"

namespace hevc {

struct PredWeightTable {
  uint32_t luma_log2_denom = 0;
  int32_t delta_chroma_log2_denom = 0;
  // [list][ref]
  std::array<std::array<uint8_t, 16>, 2> luma_flag{}, chroma_flag{};
  std::array<std::array<int32_t, 16>, 2> luma_weight{}, luma_offset{};
  std::array<std::array<std::array<int32_t, 2>, 16>, 2> chroma_weight{}, chroma_offset{};
};

struct SliceHeader {
  uint8_t first_slice_segment_in_pic = 1, no_output_of_prior_pics = 0;
  uint32_t pps_id = 0;
  uint8_t dependent = 0;
  uint32_t segment_address = 0;
  uint32_t slice_type = 2;  // 0 B, 1 P, 2 I
  uint8_t pic_output_flag = 1;
  uint32_t poc_lsb = 0;
  uint8_t st_rps_sps_flag = 0;
  uint32_t st_rps_idx = 0;
  ShortTermRps st_rps;  // the RPS in use (coded in the slice or copied from the SPS)
  uint32_t num_long_term_sps = 0, num_long_term_pics = 0;
  std::array<uint32_t, 32> lt_idx_sps{}, poc_lsb_lt{}, delta_poc_msb_cycle_lt{};
  std::array<uint8_t, 32> used_by_curr_lt{}, delta_poc_msb_present{};
  uint8_t temporal_mvp = 0, sao_luma = 0, sao_chroma = 0;
  uint8_t num_ref_idx_override = 0;
  uint32_t num_ref_idx_l0_minus1 = 0, num_ref_idx_l1_minus1 = 0;
  uint8_t list_mod_flag[2] = {0, 0};
  std::array<std::array<uint32_t, 16>, 2> list_entry{};
  uint8_t mvd_l1_zero = 0, cabac_init_flag = 0, collocated_from_l0 = 1;
  uint32_t collocated_ref_idx = 0;
  PredWeightTable pwt;
  uint32_t five_minus_max_merge_cand = 0;
  int32_t qp_delta = 0, cb_qp_offset = 0, cr_qp_offset = 0;
  uint8_t deblocking_override = 0, deblocking_disabled = 0;
  int32_t beta_offset_div2 = 0, tc_offset_div2 = 0;
  uint8_t lf_across_slices = 0;
  uint32_t offset_len_minus1 = 0;
  std::vector<uint32_t> entry_point_offset_minus1;
  std::vector<uint8_t> extension;  // slice_segment_header_extension_data_byte

  SliceType type() const { return static_cast<SliceType>(slice_type); }
  int slice_qp(const Pps& pps) const { return 26 + pps.init_qp_minus26 + qp_delta; }
  int num_pic_total_curr() const;
};

// Reads a slice segment header. For a dependent slice segment `hdr` must already hold the
// preceding independent segment's header; only the segment-specific fields are replaced.
// Returns the byte offset of the slice data in the RBSP.
size_t read_slice_header(BitReader& r, int nal_type, const Sps& sps, const Pps& pps,
                         SliceHeader& hdr);

// Reads only the fields needed to find the PPS (first_slice_segment_in_pic_flag and pps id).
void peek_slice_pps(const std::vector<uint8_t>& rbsp, int nal_type, SliceHeader& hdr);

void write_slice_header(BitWriter& w, int nal_type, const Sps& sps, const Pps& pps,
                        const SliceHeader& hdr);

}  // namespace hevc
