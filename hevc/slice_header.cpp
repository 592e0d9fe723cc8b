#include "slice_header.h"

#include <cstdlib>

#include "nal.h"

namespace hevc {

namespace {

template <class IO>
void pred_weight_table(IO& io, PredWeightTable& t, const SliceHeader& h) {
  io.ue(t.luma_log2_denom, 7);
  io.se(t.delta_chroma_log2_denom, -7, 7);
  if (IO::reading) {
    int c = static_cast<int>(t.luma_log2_denom) + t.delta_chroma_log2_denom;
    if (c < 0 || c > 7) fail("chroma weight denominator out of range");
  }
  const int lists = h.type() == SliceType::B ? 2 : 1;
  for (int l = 0; l < lists; ++l) {
    const int n = static_cast<int>(l ? h.num_ref_idx_l1_minus1 : h.num_ref_idx_l0_minus1) + 1;
    for (int i = 0; i < n; ++i) io.flag(t.luma_flag[l][i]);
    for (int i = 0; i < n; ++i) io.flag(t.chroma_flag[l][i]);
    for (int i = 0; i < n; ++i) {
      if (t.luma_flag[l][i]) {
        io.se(t.luma_weight[l][i], -128, 127);
        io.se(t.luma_offset[l][i], -128, 127);
      }
      if (t.chroma_flag[l][i]) {
        for (int j = 0; j < 2; ++j) {
          io.se(t.chroma_weight[l][i][j], -128, 127);
          io.se(t.chroma_offset[l][i][j], -512, 511);
        }
      }
    }
  }
}

template <class IO>
void slice_header_syntax(IO& io, int nal_type, const Sps& sps, const Pps& pps, SliceHeader& h,
                         BitReader* reader, BitWriter* writer) {
  io.flag(h.first_slice_segment_in_pic);
  if (nal_type >= BLA_W_LP && nal_type <= 23) io.flag(h.no_output_of_prior_pics);
  io.ue(h.pps_id, 63);
  const int ctbs = sps.pic_w_ctb() * sps.pic_h_ctb();
  if (!h.first_slice_segment_in_pic) {
    if (pps.dependent_slice_segments) io.flag(h.dependent);
    io.u(h.segment_address, ceil_log2(static_cast<uint32_t>(ctbs)));
    if (IO::reading && h.segment_address >= static_cast<uint32_t>(ctbs))
      fail("slice_segment_address outside the picture");
  } else {
    h.dependent = 0;
    h.segment_address = 0;
  }
  if (!h.dependent) {
    for (int i = 0; i < pps.num_extra_slice_header_bits; ++i) {
      uint8_t reserved = 0;
      io.flag(reserved);
    }
    io.ue(h.slice_type, 2);
    if (pps.output_flag_present)
      io.flag(h.pic_output_flag);
    else
      h.pic_output_flag = 1;
    if (!is_idr(nal_type)) {
      io.u(h.poc_lsb, sps.log2_max_poc_lsb());
      io.flag(h.st_rps_sps_flag);
      if (!h.st_rps_sps_flag) {
        const int n = static_cast<int>(sps.st_rps.size());
        if (reader)
          read_st_rps(*reader, n, n, sps.st_rps, h.st_rps);
        else
          write_st_rps(*writer, n, h.st_rps);
      } else {
        if (IO::reading && sps.st_rps.empty())
          fail("slice refers to an SPS short-term RPS but the SPS has none");
        if (sps.st_rps.size() > 1)
          io.u(h.st_rps_idx, ceil_log2(static_cast<uint32_t>(sps.st_rps.size())));
        else
          h.st_rps_idx = 0;
        if (IO::reading) {
          if (h.st_rps_idx >= sps.st_rps.size()) fail("short_term_ref_pic_set_idx out of range");
          h.st_rps = sps.st_rps[h.st_rps_idx];
        }
      }
      if (sps.long_term_refs_present) {
        if (!sps.lt_poc_lsb.empty())
          io.ue(h.num_long_term_sps, static_cast<uint32_t>(sps.lt_poc_lsb.size()));
        else
          h.num_long_term_sps = 0;
        io.ue(h.num_long_term_pics, 32 - h.num_long_term_sps);
        const uint32_t n = h.num_long_term_sps + h.num_long_term_pics;
        for (uint32_t i = 0; i < n; ++i) {
          if (i < h.num_long_term_sps) {
            if (sps.lt_poc_lsb.size() > 1)
              io.u(h.lt_idx_sps[i], ceil_log2(static_cast<uint32_t>(sps.lt_poc_lsb.size())));
            if (IO::reading) {
              if (h.lt_idx_sps[i] >= sps.lt_poc_lsb.size()) fail("lt_idx_sps out of range");
              h.poc_lsb_lt[i] = sps.lt_poc_lsb[h.lt_idx_sps[i]];
              h.used_by_curr_lt[i] = sps.lt_used[h.lt_idx_sps[i]];
            }
          } else {
            io.u(h.poc_lsb_lt[i], sps.log2_max_poc_lsb());
            io.flag(h.used_by_curr_lt[i]);
          }
          io.flag(h.delta_poc_msb_present[i]);
          if (h.delta_poc_msb_present[i]) io.ue(h.delta_poc_msb_cycle_lt[i], 1u << 24);
        }
      } else {
        h.num_long_term_sps = h.num_long_term_pics = 0;
      }
      if (sps.temporal_mvp)
        io.flag(h.temporal_mvp);
      else
        h.temporal_mvp = 0;
    } else {
      h.poc_lsb = 0;
      h.st_rps = ShortTermRps{};
      h.num_long_term_sps = h.num_long_term_pics = 0;
      h.temporal_mvp = 0;
    }
    if (sps.sao) {
      io.flag(h.sao_luma);
      io.flag(h.sao_chroma);
    } else {
      h.sao_luma = h.sao_chroma = 0;
    }
    if (h.type() != SliceType::I) {
      io.flag(h.num_ref_idx_override);
      if (h.num_ref_idx_override) {
        io.ue(h.num_ref_idx_l0_minus1, 14);
        if (h.type() == SliceType::B) io.ue(h.num_ref_idx_l1_minus1, 14);
      } else if (IO::reading) {
        h.num_ref_idx_l0_minus1 = pps.num_ref_idx_l0_default_minus1;
        h.num_ref_idx_l1_minus1 = pps.num_ref_idx_l1_default_minus1;
      }
      const int total = h.num_pic_total_curr();
      if (IO::reading && total == 0) fail("inter slice without reference pictures");
      if (pps.lists_modification_present && total > 1) {
        const int bits = ceil_log2(static_cast<uint32_t>(total));
        for (int l = 0; l < (h.type() == SliceType::B ? 2 : 1); ++l) {
          io.flag(h.list_mod_flag[l]);
          if (h.list_mod_flag[l]) {
            const uint32_t n = (l ? h.num_ref_idx_l1_minus1 : h.num_ref_idx_l0_minus1) + 1;
            for (uint32_t i = 0; i < n; ++i) {
              io.u(h.list_entry[l][i], bits);
              if (IO::reading && h.list_entry[l][i] >= static_cast<uint32_t>(total))
                fail("list_entry out of range");
            }
          }
        }
      } else {
        h.list_mod_flag[0] = h.list_mod_flag[1] = 0;
      }
      if (h.type() == SliceType::B) io.flag(h.mvd_l1_zero);
      if (pps.cabac_init_present)
        io.flag(h.cabac_init_flag);
      else
        h.cabac_init_flag = 0;
      if (h.temporal_mvp) {
        if (h.type() == SliceType::B)
          io.flag(h.collocated_from_l0);
        else
          h.collocated_from_l0 = 1;
        const uint32_t n = h.collocated_from_l0 ? h.num_ref_idx_l0_minus1 : h.num_ref_idx_l1_minus1;
        if (n > 0)
          io.ue(h.collocated_ref_idx, n);
        else
          h.collocated_ref_idx = 0;
      }
      if ((pps.weighted_pred && h.type() == SliceType::P) ||
          (pps.weighted_bipred && h.type() == SliceType::B))
        pred_weight_table(io, h.pwt, h);
      io.ue(h.five_minus_max_merge_cand, 4);
    }
    io.se(h.qp_delta, -(26 + pps.init_qp_minus26), 25 - pps.init_qp_minus26);
    if (pps.slice_chroma_qp_offsets_present) {
      io.se(h.cb_qp_offset, -12, 12);
      io.se(h.cr_qp_offset, -12, 12);
      if (IO::reading && (std::abs(pps.cb_qp_offset + h.cb_qp_offset) > 12 ||
                          std::abs(pps.cr_qp_offset + h.cr_qp_offset) > 12))
        fail("chroma QP offsets out of range");
    } else {
      h.cb_qp_offset = h.cr_qp_offset = 0;
    }
    if (pps.deblocking_override_enabled)
      io.flag(h.deblocking_override);
    else
      h.deblocking_override = 0;
    if (h.deblocking_override) {
      io.flag(h.deblocking_disabled);
      if (!h.deblocking_disabled) {
        io.se(h.beta_offset_div2, -6, 6);
        io.se(h.tc_offset_div2, -6, 6);
      }
    } else if (IO::reading) {
      h.deblocking_disabled = pps.deblocking_disabled;
      h.beta_offset_div2 = pps.beta_offset_div2;
      h.tc_offset_div2 = pps.tc_offset_div2;
    }
    if (pps.loop_filter_across_slices && (h.sao_luma || h.sao_chroma || !h.deblocking_disabled))
      io.flag(h.lf_across_slices);
    else if (IO::reading)
      h.lf_across_slices = pps.loop_filter_across_slices;
  }
  if (pps.tiles || pps.entropy_coding_sync) {
    uint32_t n = static_cast<uint32_t>(h.entry_point_offset_minus1.size());
    io.ue(n, static_cast<uint32_t>(ctbs));
    if (IO::reading) h.entry_point_offset_minus1.assign(n, 0);
    if (n > 0) {
      io.ue(h.offset_len_minus1, 31);
      for (auto& e : h.entry_point_offset_minus1)
        io.u(e, static_cast<int>(h.offset_len_minus1) + 1);
    }
  }
  if (pps.slice_header_extension_present) {
    uint32_t len = static_cast<uint32_t>(h.extension.size());
    io.ue(len, 256);
    if (IO::reading) h.extension.assign(len, 0);
    for (auto& b : h.extension) io.u(b, 8);
  }
}

}  // namespace

int SliceHeader::num_pic_total_curr() const {
  int n = 0;
  for (int i = 0; i < st_rps.num_negative; ++i) n += st_rps.used_s0[i];
  for (int i = 0; i < st_rps.num_positive; ++i) n += st_rps.used_s1[i];
  for (uint32_t i = 0; i < num_long_term_sps + num_long_term_pics; ++i) n += used_by_curr_lt[i];
  return n;
}

size_t read_slice_header(BitReader& r, int nal_type, const Sps& sps, const Pps& pps,
                         SliceHeader& h) {
  ReadIO io{r};
  slice_header_syntax(io, nal_type, sps, pps, h, &r, nullptr);
  // byte_alignment(): a one bit, then zeros.
  if (r.u(1) != 1) fail("slice header byte alignment bit is not 1");
  while (!r.byte_aligned()) {
    if (r.u(1) != 0) fail("slice header alignment bits are not zero");
  }
  return r.pos() / 8;
}

void peek_slice_pps(const std::vector<uint8_t>& rbsp, int nal_type, SliceHeader& h) {
  BitReader r(rbsp.data(), rbsp.size());
  h.first_slice_segment_in_pic = static_cast<uint8_t>(r.u(1));
  if (nal_type >= BLA_W_LP && nal_type <= 23)
    h.no_output_of_prior_pics = static_cast<uint8_t>(r.u(1));
  h.pps_id = r.ue();
  if (h.pps_id > 63) fail("slice_pic_parameter_set_id out of range");
}

void write_slice_header(BitWriter& w, int nal_type, const Sps& sps, const Pps& pps,
                        const SliceHeader& hdr) {
  WriteIO io{w};
  SliceHeader h = hdr;
  slice_header_syntax(io, nal_type, sps, pps, h, nullptr, &w);
  w.u(1, 1);
  w.align_zero();
}

}  // namespace hevc
