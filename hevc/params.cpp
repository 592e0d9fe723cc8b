#include "params.h"

#include <algorithm>

#include "scan.h"

namespace hevc {

namespace {

const uint8_t kDefaultIntra8x8[64] = {
    16, 16, 16, 16, 16, 16, 16, 16, 16, 16, 17, 16, 17, 16, 17, 18, 17, 18, 18, 17, 18, 21,
    19, 20, 21, 20, 19, 21, 24, 22, 22, 24, 24, 22, 22, 24, 25, 25, 27, 30, 27, 25, 25, 29,
    31, 35, 35, 31, 29, 36, 41, 44, 41, 36, 47, 54, 54, 47, 65, 70, 65, 88, 88, 115};
const uint8_t kDefaultInter8x8[64] = {
    16, 16, 16, 16, 16, 16, 16, 16, 16, 16, 17, 17, 17, 17, 17, 18, 18, 18, 18, 18, 18, 20,
    20, 20, 20, 20, 20, 20, 24, 24, 24, 24, 24, 24, 24, 24, 25, 25, 25, 25, 25, 25, 25, 28,
    28, 28, 28, 28, 28, 33, 33, 33, 33, 33, 41, 41, 41, 41, 54, 54, 54, 71, 71, 91};

void default_list(int size_id, int matrix_id, std::array<uint8_t, 64>& list, uint8_t& dc) {
  if (size_id == 0) {
    list.fill(16);
  } else {
    const uint8_t* src = matrix_id < 3 ? kDefaultIntra8x8 : kDefaultInter8x8;
    std::copy(src, src + 64, list.begin());
  }
  dc = 16;
}

template <class IO>
void profile_tier_level(IO& io, ProfileTierLevel& p, int max_sub_layers_minus1) {
  io.u(p.profile_space, 2);
  io.flag(p.tier_flag);
  io.u(p.profile_idc, 5);
  io.u(p.compatibility_flags, 32);
  io.flag(p.progressive_source);
  io.flag(p.interlaced_source);
  io.flag(p.non_packed_constraint);
  io.flag(p.frame_only_constraint);
  uint32_t hi = static_cast<uint32_t>(p.constraint_bits >> 32),
           lo = static_cast<uint32_t>(p.constraint_bits);
  io.u(hi, 12);
  io.u(lo, 32);
  p.constraint_bits = (uint64_t{hi} << 32) | lo;
  io.u(p.level_idc, 8);
  for (int i = 0; i < max_sub_layers_minus1; ++i) {
    io.flag(p.sub_profile_present[i]);
    io.flag(p.sub_level_present[i]);
  }
  if (max_sub_layers_minus1 > 0) {
    for (int i = max_sub_layers_minus1; i < 8; ++i) {
      uint32_t zero = 0;
      io.u(zero, 2);
    }
  }
  for (int i = 0; i < max_sub_layers_minus1; ++i) {
    // Sub-layer profiles and levels are not used for decoding; they are skipped on read and
    // never signalled by the encoder (the presence flags are zero there).
    uint32_t skip = 0;
    if (p.sub_profile_present[i]) {
      io.u(skip, 8);
      io.u(skip, 32);
      io.u(skip, 32);
      io.u(skip, 16);
    }
    if (p.sub_level_present[i]) io.u(skip, 8);
  }
}

template <class IO>
void sub_layer_hrd(IO& io, uint32_t cpb_cnt_minus1, uint8_t sub_pic) {
  for (uint32_t j = 0; j <= cpb_cnt_minus1; ++j) {
    uint32_t v = 0;
    uint8_t f = 0;
    io.ue(v, 0xFFFFFFFE);
    io.ue(v, 0xFFFFFFFE);
    if (sub_pic) {
      io.ue(v, 0xFFFFFFFE);
      io.ue(v, 0xFFFFFFFE);
    }
    io.flag(f);
  }
}

// HRD parameters carry nothing the decoder uses; they are parsed to stay in sync.
template <class IO>
void hrd_parameters(IO& io, bool common_inf, int max_sub_layers_minus1) {
  uint8_t nal = 0, vcl = 0, sub_pic = 0;
  uint32_t tmp = 0;
  if (common_inf) {
    io.flag(nal);
    io.flag(vcl);
    if (nal || vcl) {
      io.flag(sub_pic);
      if (sub_pic) {
        io.u(tmp, 8);
        io.u(tmp, 5);
        io.u(tmp, 1);
        io.u(tmp, 5);
      }
      io.u(tmp, 4);
      io.u(tmp, 4);
      if (sub_pic) io.u(tmp, 4);
      io.u(tmp, 5);
      io.u(tmp, 5);
      io.u(tmp, 5);
    }
  }
  for (int i = 0; i <= max_sub_layers_minus1; ++i) {
    uint8_t fixed_general = 0, fixed_cvs = 1, low_delay = 0;
    uint32_t cpb_cnt_minus1 = 0;
    io.flag(fixed_general);
    if (!fixed_general) io.flag(fixed_cvs);
    if (fixed_cvs)
      io.ue(tmp, 2047);
    else
      io.flag(low_delay);
    if (!low_delay) io.ue(cpb_cnt_minus1, 31);
    if (nal) sub_layer_hrd(io, cpb_cnt_minus1, sub_pic);
    if (vcl) sub_layer_hrd(io, cpb_cnt_minus1, sub_pic);
  }
}

template <class IO>
void scaling_list_data(IO& io, ScalingList& sl) {
  for (int size_id = 0; size_id < 4; ++size_id) {
    int coef_num = std::min(64, 1 << (4 + (size_id << 1)));
    for (int m = 0; m < 6; m += (size_id == 3) ? 3 : 1) {
      // The writer always codes lists explicitly (pred_mode_flag = 1).
      uint8_t pred_mode = 1;
      io.flag(pred_mode);
      if (!pred_mode) {
        uint32_t delta = 0;
        io.ue(delta, static_cast<uint32_t>(m / (size_id == 3 ? 3 : 1)));
        if (delta == 0) {
          default_list(size_id, m, sl.list[size_id][m], sl.dc[size_id][m]);
        } else {
          int ref = m - static_cast<int>(delta) * (size_id == 3 ? 3 : 1);
          sl.list[size_id][m] = sl.list[size_id][ref];
          sl.dc[size_id][m] = sl.dc[size_id][ref];
        }
        continue;
      }
      int next = 8;
      if (size_id > 1) {
        int32_t dc_minus8 = sl.dc[size_id][m] - 8;
        io.se(dc_minus8, -7, 247);
        next = dc_minus8 + 8;
        sl.dc[size_id][m] = static_cast<uint8_t>(next);
      }
      for (int i = 0; i < coef_num; ++i) {
        int32_t delta = 0;
        if (!IO::reading) {
          delta = static_cast<int>(sl.list[size_id][m][i]) - next;
          if (delta > 127) delta -= 256;
          if (delta < -128) delta += 256;
        }
        io.se(delta, -128, 127);
        next = (next + delta + 256) % 256;
        if (IO::reading && next == 0) fail("scaling list entry is zero");
        sl.list[size_id][m][i] = static_cast<uint8_t>(next);
      }
      if (size_id <= 1) sl.dc[size_id][m] = sl.list[size_id][m][0];
    }
  }
  // 32x32 chroma lists (ChromaArrayType 3 only) are copied from the 16x16 ones.
  for (int m : {1, 2, 4, 5}) {
    sl.list[3][m] = sl.list[2][m];
    sl.dc[3][m] = sl.dc[2][m];
  }
}

template <class IO>
void vui_parameters(IO& io, Vui& v, int max_sub_layers_minus1) {
  io.flag(v.aspect_ratio_info_present);
  if (v.aspect_ratio_info_present) {
    io.u(v.aspect_ratio_idc, 8);
    if (v.aspect_ratio_idc == 255) {
      io.u(v.sar_width, 16);
      io.u(v.sar_height, 16);
    }
  }
  io.flag(v.overscan_info_present);
  if (v.overscan_info_present) io.flag(v.overscan_appropriate);
  io.flag(v.video_signal_type_present);
  if (v.video_signal_type_present) {
    io.u(v.video_format, 3);
    io.flag(v.full_range);
    io.flag(v.colour_description_present);
    if (v.colour_description_present) {
      io.u(v.colour_primaries, 8);
      io.u(v.transfer, 8);
      io.u(v.matrix, 8);
    }
  }
  io.flag(v.chroma_loc_present);
  if (v.chroma_loc_present) {
    io.ue(v.chroma_loc_top, 5);
    io.ue(v.chroma_loc_bottom, 5);
  }
  io.flag(v.neutral_chroma);
  io.flag(v.field_seq);
  io.flag(v.frame_field_info_present);
  io.flag(v.default_display_window);
  if (v.default_display_window)
    for (auto& x : v.def_disp_win) io.ue(x, 0xFFFFFFFE);
  io.flag(v.timing_info_present);
  if (v.timing_info_present) {
    io.u(v.num_units_in_tick, 32);
    io.u(v.time_scale, 32);
    io.flag(v.poc_proportional);
    if (v.poc_proportional) io.ue(v.num_ticks_poc_diff_one_minus1, 0xFFFFFFFE);
    io.flag(v.hrd_present);
    if (v.hrd_present) hrd_parameters(io, true, max_sub_layers_minus1);
  }
  io.flag(v.bitstream_restriction);
  if (v.bitstream_restriction) {
    io.flag(v.tiles_fixed);
    io.flag(v.mv_over_pic_boundaries);
    io.flag(v.restricted_ref_lists);
    io.ue(v.min_spatial_segmentation, 4095);
    io.ue(v.max_bytes_per_pic_denom, 16);
    io.ue(v.max_bits_per_min_cu_denom, 16);
    io.ue(v.log2_max_mv_len_h, 16);
    io.ue(v.log2_max_mv_len_v, 16);
  }
}

template <class IO>
void st_rps_syntax(IO& io, int idx, int num_sets, const std::vector<ShortTermRps>& sets,
                   ShortTermRps& rps) {
  uint8_t inter = 0;
  if (idx != 0) io.flag(inter);
  if (inter) {
    // Only reached when reading: the encoder codes every set explicitly.
    uint32_t delta_idx_minus1 = 0, abs_minus1 = 0;
    uint8_t sign = 0;
    if (idx == num_sets) io.ue(delta_idx_minus1, static_cast<uint32_t>(idx - 1));
    io.flag(sign);
    io.ue(abs_minus1, 32767);
    int ref_idx = idx - static_cast<int>(delta_idx_minus1 + 1);
    const ShortTermRps& ref = sets[ref_idx];
    int delta_rps = (1 - 2 * sign) * static_cast<int>(abs_minus1 + 1);
    int n = ref.num_delta_pocs();
    uint8_t used[33] = {}, use_delta[33];
    for (int j = 0; j <= n; ++j) {
      io.flag(used[j]);
      use_delta[j] = 1;
      if (!used[j]) io.flag(use_delta[j]);
    }
    int i = 0;
    for (int j = ref.num_positive - 1; j >= 0; --j) {
      int d = ref.delta_poc_s1[j] + delta_rps;
      if (d < 0 && use_delta[ref.num_negative + j]) {
        if (i >= 16) fail("short-term RPS has too many pictures");
        rps.delta_poc_s0[i] = d;
        rps.used_s0[i++] = used[ref.num_negative + j];
      }
    }
    if (delta_rps < 0 && use_delta[n]) {
      if (i >= 16) fail("short-term RPS has too many pictures");
      rps.delta_poc_s0[i] = delta_rps;
      rps.used_s0[i++] = used[n];
    }
    for (int j = 0; j < ref.num_negative; ++j) {
      int d = ref.delta_poc_s0[j] + delta_rps;
      if (d < 0 && use_delta[j]) {
        if (i >= 16) fail("short-term RPS has too many pictures");
        rps.delta_poc_s0[i] = d;
        rps.used_s0[i++] = used[j];
      }
    }
    rps.num_negative = i;
    i = 0;
    for (int j = ref.num_negative - 1; j >= 0; --j) {
      int d = ref.delta_poc_s0[j] + delta_rps;
      if (d > 0 && use_delta[j]) {
        if (i >= 16) fail("short-term RPS has too many pictures");
        rps.delta_poc_s1[i] = d;
        rps.used_s1[i++] = used[j];
      }
    }
    if (delta_rps > 0 && use_delta[n]) {
      if (i >= 16) fail("short-term RPS has too many pictures");
      rps.delta_poc_s1[i] = delta_rps;
      rps.used_s1[i++] = used[n];
    }
    for (int j = 0; j < ref.num_positive; ++j) {
      int d = ref.delta_poc_s1[j] + delta_rps;
      if (d > 0 && use_delta[ref.num_negative + j]) {
        if (i >= 16) fail("short-term RPS has too many pictures");
        rps.delta_poc_s1[i] = d;
        rps.used_s1[i++] = used[ref.num_negative + j];
      }
    }
    rps.num_positive = i;
    if (rps.num_negative + rps.num_positive > 16) fail("short-term RPS has too many pictures");
    return;
  }
  io.ue(rps.num_negative, 16);
  io.ue(rps.num_positive, 16 - rps.num_negative);
  int prev = 0;
  for (int i = 0; i < rps.num_negative; ++i) {
    uint32_t minus1 = static_cast<uint32_t>(prev - rps.delta_poc_s0[i] - 1);
    io.ue(minus1, 32767);
    prev -= static_cast<int>(minus1) + 1;
    rps.delta_poc_s0[i] = prev;
    io.flag(rps.used_s0[i]);
  }
  prev = 0;
  for (int i = 0; i < rps.num_positive; ++i) {
    uint32_t minus1 = static_cast<uint32_t>(rps.delta_poc_s1[i] - prev - 1);
    io.ue(minus1, 32767);
    prev += static_cast<int>(minus1) + 1;
    rps.delta_poc_s1[i] = prev;
    io.flag(rps.used_s1[i]);
  }
}

template <class IO>
void vps_syntax(IO& io, Vps& v) {
  io.u(v.id, 4);
  uint32_t base_internal = 1, base_available = 1, max_layers_minus1 = 0, reserved16 = 0xFFFF;
  io.u(base_internal, 1);
  io.u(base_available, 1);
  io.u(max_layers_minus1, 6);
  io.u(v.max_sub_layers_minus1, 3);
  if (IO::reading && v.max_sub_layers_minus1 > 6) fail("vps_max_sub_layers_minus1 out of range");
  io.flag(v.temporal_id_nesting);
  io.u(reserved16, 16);
  profile_tier_level(io, v.ptl, v.max_sub_layers_minus1);
  io.flag(v.sub_layer_ordering_info_present);
  for (int i = v.sub_layer_ordering_info_present ? 0 : v.max_sub_layers_minus1;
       i <= v.max_sub_layers_minus1; ++i) {
    io.ue(v.max_dec_pic_buffering_minus1[i], 15);
    io.ue(v.max_num_reorder[i], v.max_dec_pic_buffering_minus1[i]);
    io.ue(v.max_latency_plus1[i], 0xFFFFFFFE);
  }
  io.u(v.max_layer_id, 6);
  io.ue(v.num_layer_sets_minus1, 1023);
  for (uint32_t i = 1; i <= v.num_layer_sets_minus1; ++i) {
    for (int j = 0; j <= v.max_layer_id; ++j) {
      uint8_t inc = 0;
      io.flag(inc);
    }
  }
  io.flag(v.timing_info_present);
  if (v.timing_info_present) {
    io.u(v.num_units_in_tick, 32);
    io.u(v.time_scale, 32);
    uint8_t poc_prop = 0;
    io.flag(poc_prop);
    uint32_t tmp = 0;
    if (poc_prop) io.ue(tmp, 0xFFFFFFFE);
    uint32_t num_hrd = 0;
    io.ue(num_hrd, 1024);
    for (uint32_t i = 0; i < num_hrd; ++i) {
      io.ue(tmp, 1023);
      uint8_t cprms = 1;
      if (i > 0) io.flag(cprms);
      hrd_parameters(io, cprms, v.max_sub_layers_minus1);
    }
  }
  // vps_extension_flag and any extension data are ignored.
}

template <class IO>
void sps_syntax(IO& io, Sps& s) {
  io.u(s.vps_id, 4);
  io.u(s.max_sub_layers_minus1, 3);
  if (IO::reading && s.max_sub_layers_minus1 > 6) fail("sps_max_sub_layers_minus1 out of range");
  io.flag(s.temporal_id_nesting);
  profile_tier_level(io, s.ptl, s.max_sub_layers_minus1);
  io.ue(s.id, 15);
  io.ue(s.chroma_format_idc, 3);
  if (IO::reading && s.chroma_format_idc != 1)
    throw UnsupportedError(
        "only 4:2:0 chroma is supported (Main profile); this stream uses chroma_format_idc " +
        std::to_string(s.chroma_format_idc));
  io.ue(s.width, kMaxPicWidth);
  io.ue(s.height, kMaxPicHeight);
  io.flag(s.conformance_window);
  if (s.conformance_window)
    for (auto& x : s.conf_win) io.ue(x, kMaxPicWidth);
  io.ue(s.bit_depth_luma_minus8, 8);
  io.ue(s.bit_depth_chroma_minus8, 8);
  if (IO::reading && (s.bit_depth_luma_minus8 != 0 || s.bit_depth_chroma_minus8 != 0))
    throw UnsupportedError("only 8-bit video is supported (Main profile); this stream is " +
                           std::to_string(8 + s.bit_depth_luma_minus8) + "-bit");
  io.ue(s.log2_max_poc_lsb_minus4, 12);
  io.flag(s.sub_layer_ordering_info_present);
  for (int i = s.sub_layer_ordering_info_present ? 0 : s.max_sub_layers_minus1;
       i <= s.max_sub_layers_minus1; ++i) {
    io.ue(s.max_dec_pic_buffering_minus1[i], 15);
    io.ue(s.max_num_reorder[i], s.max_dec_pic_buffering_minus1[i]);
    io.ue(s.max_latency_plus1[i], 0xFFFFFFFE);
  }
  if (IO::reading && !s.sub_layer_ordering_info_present) {
    for (int i = 0; i < s.max_sub_layers_minus1; ++i) {
      s.max_dec_pic_buffering_minus1[i] = s.max_dec_pic_buffering_minus1[s.max_sub_layers_minus1];
      s.max_num_reorder[i] = s.max_num_reorder[s.max_sub_layers_minus1];
      s.max_latency_plus1[i] = s.max_latency_plus1[s.max_sub_layers_minus1];
    }
  }
  io.ue(s.log2_min_cb_minus3, 3);
  io.ue(s.log2_diff_max_min_cb, 3);
  io.ue(s.log2_min_tb_minus2, 3);
  io.ue(s.log2_diff_max_min_tb, 3);
  if (IO::reading) {
    if (s.ctb_log2() < 4 || s.ctb_log2() > 6) fail("CTB size must be 16, 32 or 64");
    if (s.min_tb_log2() >= s.min_cb_log2())
      fail("minimum transform size must be below the minimum CU size");
    if (s.max_tb_log2() > std::min(s.ctb_log2(), 5)) fail("maximum transform size out of range");
    if (s.width == 0 || s.height == 0 || s.width % (1u << s.min_cb_log2()) ||
        s.height % (1u << s.min_cb_log2()))
      fail("picture size is zero or not a multiple of the minimum CU size");
    if (static_cast<int64_t>(s.width) * s.height > kMaxLumaSamples)
      fail("picture size exceeds the decoder limit (level 6.2 luma sample count)");
  }
  io.ue(s.max_th_depth_inter, s.ctb_log2() - s.min_tb_log2());
  io.ue(s.max_th_depth_intra, s.ctb_log2() - s.min_tb_log2());
  io.flag(s.scaling_list_enabled);
  if (s.scaling_list_enabled) {
    if (IO::reading) s.scaling.set_default();
    io.flag(s.scaling_list_data_present);
    if (s.scaling_list_data_present) scaling_list_data(io, s.scaling);
    if (IO::reading) s.scaling.derive_factors();
  }
  io.flag(s.amp);
  io.flag(s.sao);
  io.flag(s.pcm);
  if (s.pcm) {
    io.u(s.pcm_bit_depth_luma_minus1, 4);
    io.u(s.pcm_bit_depth_chroma_minus1, 4);
    io.ue(s.log2_min_pcm_minus3, 2);
    io.ue(s.log2_diff_max_min_pcm, 2);
    io.flag(s.pcm_loop_filter_disabled);
    if (IO::reading && (s.pcm_bit_depth_luma_minus1 > 7 || s.pcm_bit_depth_chroma_minus1 > 7 ||
                        s.pcm_max_log2() > std::min(s.ctb_log2(), 5)))
      fail("PCM parameters out of range");
  }
  uint32_t num_sets = static_cast<uint32_t>(s.st_rps.size());
  io.ue(num_sets, 64);
  if (IO::reading) s.st_rps.assign(num_sets, ShortTermRps{});
  for (uint32_t i = 0; i < num_sets; ++i) st_rps_syntax(io, i, num_sets, s.st_rps, s.st_rps[i]);
  io.flag(s.long_term_refs_present);
  if (s.long_term_refs_present) {
    uint32_t n = static_cast<uint32_t>(s.lt_poc_lsb.size());
    io.ue(n, 32);
    if (IO::reading) {
      s.lt_poc_lsb.assign(n, 0);
      s.lt_used.assign(n, 0);
    }
    for (uint32_t i = 0; i < n; ++i) {
      io.u(s.lt_poc_lsb[i], s.log2_max_poc_lsb());
      io.flag(s.lt_used[i]);
    }
  }
  io.flag(s.temporal_mvp);
  io.flag(s.strong_intra_smoothing);
  io.flag(s.vui_present);
  if (s.vui_present) vui_parameters(io, s.vui, s.max_sub_layers_minus1);
  io.flag(s.extension_present);
  if (s.extension_present) {
    uint8_t range = 0, rest = 0;
    io.flag(range);
    io.u(rest, 7);
    if (range) {
      uint32_t flags = 0;
      io.u(flags, 9);
      if (IO::reading && flags)
        throw UnsupportedError("SPS range extension tools are not supported (Main profile only)");
    }
    // Other extensions are ignored (their data is not needed by a Main decoder).
  }
}

template <class IO>
void pps_syntax(IO& io, Pps& p) {
  io.ue(p.id, 63);
  io.ue(p.sps_id, 15);
  io.flag(p.dependent_slice_segments);
  io.flag(p.output_flag_present);
  io.u(p.num_extra_slice_header_bits, 3);
  io.flag(p.sign_data_hiding);
  io.flag(p.cabac_init_present);
  io.ue(p.num_ref_idx_l0_default_minus1, 14);
  io.ue(p.num_ref_idx_l1_default_minus1, 14);
  io.se(p.init_qp_minus26, -26, 25);
  io.flag(p.constrained_intra_pred);
  io.flag(p.transform_skip);
  io.flag(p.cu_qp_delta_enabled);
  if (p.cu_qp_delta_enabled) io.ue(p.diff_cu_qp_delta_depth, 3);
  io.se(p.cb_qp_offset, -12, 12);
  io.se(p.cr_qp_offset, -12, 12);
  io.flag(p.slice_chroma_qp_offsets_present);
  io.flag(p.weighted_pred);
  io.flag(p.weighted_bipred);
  io.flag(p.transquant_bypass);
  io.flag(p.tiles);
  io.flag(p.entropy_coding_sync);
  if (p.tiles) {
    io.ue(p.num_tile_columns_minus1, 1055);
    io.ue(p.num_tile_rows_minus1, 1055);
    io.flag(p.uniform_spacing);
    if (!p.uniform_spacing) {
      if (IO::reading) {
        p.column_width_minus1.assign(p.num_tile_columns_minus1, 0);
        p.row_height_minus1.assign(p.num_tile_rows_minus1, 0);
      }
      for (auto& c : p.column_width_minus1) io.ue(c, 1055);
      for (auto& r : p.row_height_minus1) io.ue(r, 1055);
    }
    io.flag(p.loop_filter_across_tiles);
  }
  io.flag(p.loop_filter_across_slices);
  io.flag(p.deblocking_control_present);
  if (p.deblocking_control_present) {
    io.flag(p.deblocking_override_enabled);
    io.flag(p.deblocking_disabled);
    if (!p.deblocking_disabled) {
      io.se(p.beta_offset_div2, -6, 6);
      io.se(p.tc_offset_div2, -6, 6);
    }
  }
  io.flag(p.scaling_list_data_present);
  if (p.scaling_list_data_present) {
    if (IO::reading) p.scaling.set_default();
    scaling_list_data(io, p.scaling);
    if (IO::reading) p.scaling.derive_factors();
  }
  io.flag(p.lists_modification_present);
  io.ue(p.log2_parallel_merge_level_minus2, 4);
  io.flag(p.slice_header_extension_present);
  io.flag(p.extension_present);
  if (p.extension_present) {
    uint8_t range = 0, rest = 0;
    io.flag(range);
    io.u(rest, 7);
    if (range) {
      uint32_t v = 0;
      uint8_t f = 0;
      if (p.transform_skip) io.ue(v, 3);
      if (IO::reading && v != 0)
        throw UnsupportedError("PPS range extension (larger transform skip) is not supported");
      io.flag(f);
      uint8_t f2 = 0;
      io.flag(f2);
      if (IO::reading && (f || f2))
        throw UnsupportedError("PPS range extension tools are not supported (Main profile only)");
      uint32_t s1 = 0, s2 = 0;
      io.ue(s1, 6);
      io.ue(s2, 6);
      if (IO::reading && (s1 || s2))
        throw UnsupportedError("PPS SAO offset scaling is not supported (Main profile only)");
    }
  }
}

template <class Fn>
std::vector<uint8_t> write_with(Fn fn) {
  BitWriter w;
  WriteIO io{w};
  fn(io);
  w.rbsp_trailing_bits();
  return w.take();
}

}  // namespace

void ScalingList::set_default() {
  for (int s = 0; s < 4; ++s)
    for (int m = 0; m < 6; ++m) default_list(s, m, list[s][m], dc[s][m]);
}

void ScalingList::derive_factors() {
  for (int size_id = 0; size_id < 4; ++size_id) {
    int n = 4 << size_id;
    for (int m = 0; m < 6; ++m) {
      auto& f = factor[size_id][m];
      f.assign(n * n, 16);
      if (size_id == 0) {
        const auto& sc = scan_order(2, 0);
        for (int i = 0; i < 16; ++i) f[sc[i].y * 4 + sc[i].x] = list[0][m][i];
        continue;
      }
      const auto& sc = scan_order(3, 0);
      int rep = n / 8;
      for (int i = 0; i < 64; ++i)
        for (int j = 0; j < rep; ++j)
          for (int k = 0; k < rep; ++k)
            f[(sc[i].y * rep + j) * n + sc[i].x * rep + k] = list[size_id][m][i];
      if (size_id >= 2) f[0] = dc[size_id][m];
    }
  }
}

void PicGeometry::derive(const Sps& sps, const Pps& pps) {
  width = static_cast<int>(sps.width);
  height = static_cast<int>(sps.height);
  ctb_log2 = sps.ctb_log2();
  ctb_size = 1 << ctb_log2;
  w_ctb = sps.pic_w_ctb();
  h_ctb = sps.pic_h_ctb();
  num_ctb = w_ctb * h_ctb;
  int cols = pps.tiles ? static_cast<int>(pps.num_tile_columns_minus1) + 1 : 1;
  int rows = pps.tiles ? static_cast<int>(pps.num_tile_rows_minus1) + 1 : 1;
  col_bd.assign(cols + 1, 0);
  row_bd.assign(rows + 1, 0);
  for (int i = 0; i < cols; ++i) {
    int wdt = (pps.tiles && !pps.uniform_spacing)
                  ? (i < cols - 1 ? static_cast<int>(pps.column_width_minus1[i]) + 1 : -1)
                  : ((i + 1) * w_ctb) / cols - (i * w_ctb) / cols;
    if (wdt < 0) wdt = w_ctb - col_bd[i];
    col_bd[i + 1] = col_bd[i] + wdt;
  }
  for (int j = 0; j < rows; ++j) {
    int hgt = (pps.tiles && !pps.uniform_spacing)
                  ? (j < rows - 1 ? static_cast<int>(pps.row_height_minus1[j]) + 1 : -1)
                  : ((j + 1) * h_ctb) / rows - (j * h_ctb) / rows;
    if (hgt < 0) hgt = h_ctb - row_bd[j];
    row_bd[j + 1] = row_bd[j] + hgt;
  }
  col_of_ctb_x.assign(w_ctb, 0);
  row_of_ctb_y.assign(h_ctb, 0);
  for (int i = 0; i < cols; ++i)
    for (int x = col_bd[i]; x < col_bd[i + 1]; ++x) col_of_ctb_x[x] = i;
  for (int j = 0; j < rows; ++j)
    for (int y = row_bd[j]; y < row_bd[j + 1]; ++y) row_of_ctb_y[y] = j;
  rs_to_ts.assign(num_ctb, 0);
  ts_to_rs.assign(num_ctb, 0);
  tile_id.assign(num_ctb, 0);
  for (int rs = 0; rs < num_ctb; ++rs) {
    int tbx = rs % w_ctb, tby = rs / w_ctb;
    int tx = col_of_ctb_x[tbx], ty = row_of_ctb_y[tby];
    int v = 0;
    for (int i = 0; i < tx; ++i) v += (row_bd[ty + 1] - row_bd[ty]) * (col_bd[i + 1] - col_bd[i]);
    for (int j = 0; j < ty; ++j) v += w_ctb * (row_bd[j + 1] - row_bd[j]);
    v += (tby - row_bd[ty]) * (col_bd[tx + 1] - col_bd[tx]) + tbx - col_bd[tx];
    rs_to_ts[rs] = v;
    ts_to_rs[v] = rs;
  }
  for (int ts = 0; ts < num_ctb; ++ts) {
    int rs = ts_to_rs[ts];
    tile_id[ts] = row_of_ctb_y[rs / w_ctb] * cols + col_of_ctb_x[rs % w_ctb];
  }
}

void validate_pps(const Sps& sps, const Pps& pps) {
  if (pps.diff_cu_qp_delta_depth > sps.log2_diff_max_min_cb)
    fail("diff_cu_qp_delta_depth out of range");
  if (pps.log2_parallel_merge_level_minus2 + 2 > static_cast<uint32_t>(sps.ctb_log2()))
    fail("log2_parallel_merge_level out of range");
  if (pps.tiles) {
    uint32_t wc = sps.pic_w_ctb(), hc = sps.pic_h_ctb();
    if (pps.num_tile_columns_minus1 >= wc || pps.num_tile_rows_minus1 >= hc)
      fail("more tile columns or rows than CTBs");
    if (!pps.uniform_spacing) {
      uint64_t sw = 0, sh = 0;
      for (auto c : pps.column_width_minus1) sw += c + 1;
      for (auto r : pps.row_height_minus1) sh += r + 1;
      if (sw >= wc || sh >= hc) fail("explicit tile sizes exceed the picture");
    }
  }
}

void read_vps(BitReader& r, Vps& vps) {
  ReadIO io{r};
  vps_syntax(io, vps);
}
void read_sps(BitReader& r, Sps& sps) {
  ReadIO io{r};
  sps_syntax(io, sps);
}
void read_pps(BitReader& r, Pps& pps) {
  ReadIO io{r};
  pps_syntax(io, pps);
}
std::vector<uint8_t> write_vps(const Vps& vps) {
  Vps v = vps;
  return write_with([&](WriteIO& io) {
    vps_syntax(io, v);
    uint8_t ext = 0;
    io.flag(ext);
  });
}
std::vector<uint8_t> write_sps(const Sps& sps) {
  Sps s = sps;
  return write_with([&](WriteIO& io) { sps_syntax(io, s); });
}
std::vector<uint8_t> write_pps(const Pps& pps) {
  Pps p = pps;
  return write_with([&](WriteIO& io) { pps_syntax(io, p); });
}

void read_st_rps(BitReader& r, int idx, int num_sets, const std::vector<ShortTermRps>& sets,
                 ShortTermRps& out) {
  ReadIO io{r};
  st_rps_syntax(io, idx, num_sets, sets, out);
}
void write_st_rps(BitWriter& w, int idx, const ShortTermRps& rps) {
  WriteIO io{w};
  ShortTermRps copy = rps;
  std::vector<ShortTermRps> none;
  st_rps_syntax(io, idx, idx, none, copy);
}

}  // namespace hevc
