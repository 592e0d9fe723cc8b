#include "header_edit.h"

#include <algorithm>
#include <iterator>
#include <map>
#include <set>
#include <stdexcept>

#include "nal.h"
#include "params.h"
#include "poc.h"
#include "slice_header.h"

namespace hevc {

namespace {

// The LongTerm edit: pictures whose POC is 4 or 7 modulo 8 (Random-Access anchors, Low-Delay
// pictures) become long-term, with a POC LSB of 4 bits, so that a picture referenced across a
// multiple of 16 has an MSB cycle of 1.
constexpr int kLtLog2Lsb = 4;
// Its SPS candidates: each such LSB used, then each unused.
constexpr uint32_t kLtLsbs[] = {4, 7, 12, 15};
constexpr int kLtSpsCandidates = 2 * 4;

bool becomes_long_term(int poc) {
  const int r = ((poc % 8) + 8) % 8;
  return r == 4 || r == 7;
}

uint32_t lt_sps_index(uint32_t lsb, bool used) {
  uint32_t i = 0;
  while (i + 1 < std::size(kLtLsbs) && kLtLsbs[i] != lsb) ++i;
  return i + (used ? 0 : kLtSpsCandidates / 2);
}

void edit_sps(Sps& s, HeaderEdit edit) {
  if (edit == HeaderEdit::FullDpb) {
    for (int i = 0; i <= s.max_sub_layers_minus1; ++i) {
      s.max_num_reorder[i] = s.max_dec_pic_buffering_minus1[i];
      s.max_latency_plus1[i] = 0;
    }
  }
  if (edit != HeaderEdit::LongTerm) return;
  if (s.long_term_refs_present) fail("the stream already uses long-term references");
  s.log2_max_poc_lsb_minus4 = kLtLog2Lsb - 4;
  s.long_term_refs_present = 1;
  s.lt_poc_lsb.clear();
  s.lt_used.clear();
  for (int i = 0; i < kLtSpsCandidates; ++i) {
    s.lt_poc_lsb.push_back(kLtLsbs[i % (kLtSpsCandidates / 2)]);
    s.lt_used.push_back(i < kLtSpsCandidates / 2 ? 1 : 0);
  }
}

void edit_pps(Pps& p, HeaderEdit edit) {
  if (edit == HeaderEdit::ListModification) p.lists_modification_present = 1;
  if (edit == HeaderEdit::PicOutput) p.output_flag_present = 1;
}

void modify_lists(SliceHeader& h) {
  const int total = h.num_pic_total_curr();
  if (h.type() == SliceType::I || total < 2) return;
  for (int l = 0; l < (h.type() == SliceType::B ? 2 : 1); ++l) {
    h.list_mod_flag[l] = 1;
    const int n = static_cast<int>(l ? h.num_ref_idx_l1_minus1 : h.num_ref_idx_l0_minus1) + 1;
    for (int i = 0; i < n; ++i)
      h.list_entry[l][i] = static_cast<uint32_t>(l ? total - 1 - i % total : (i + 1) % total);
  }
}

struct LtEntry {
  int poc;
  bool used;
};

// Moves the short-term references chosen by becomes_long_term to long-term entries, coded by SPS
// candidate or in the slice in turn, with or without their MSB cycle (which is sent wherever
// another picture of setOfPrevPocVals, `prev`, shares the LSB, as 7.4.7.1 requires).
void make_long_term(SliceHeader& h, int poc, int picture, const std::set<int>& prev) {
  const int max_lsb = 1 << kLtLog2Lsb;
  h.poc_lsb = static_cast<uint32_t>(poc & (max_lsb - 1));
  ShortTermRps& rps = h.st_rps;
  std::vector<LtEntry> lt;
  ShortTermRps kept = rps;
  kept.num_negative = 0;
  for (int i = 0; i < rps.num_negative; ++i) {
    const int ref = poc + rps.delta_poc_s0[i];
    if (becomes_long_term(ref)) {
      lt.push_back({ref, rps.used_s0[i] != 0});
    } else {
      kept.delta_poc_s0[kept.num_negative] = rps.delta_poc_s0[i];
      kept.used_s0[kept.num_negative++] = rps.used_s0[i];
    }
  }
  if (lt.empty()) return;
  rps = kept;
  h.st_rps_sps_flag = 0;
  const bool explicit_coding = picture % 2 == 1;
  bool msb = (picture / 2) % 2 == 1;
  for (const LtEntry& e : lt)
    for (int p : prev)
      if (p != e.poc && (p & (max_lsb - 1)) == (e.poc & (max_lsb - 1))) msb = true;
  // Nearest first: the MSB cycles then grow, and each is coded as a difference.
  std::sort(lt.begin(), lt.end(), [](const LtEntry& a, const LtEntry& b) { return a.poc > b.poc; });
  const int n = static_cast<int>(lt.size());
  h.num_long_term_sps = explicit_coding ? 0 : static_cast<uint32_t>(n);
  h.num_long_term_pics = explicit_coding ? static_cast<uint32_t>(n) : 0;
  int prev_cycle = 0;
  for (int i = 0; i < n; ++i) {
    const int lsb = lt[i].poc & (max_lsb - 1);
    h.poc_lsb_lt[i] = static_cast<uint32_t>(lsb);
    h.used_by_curr_lt[i] = lt[i].used ? 1 : 0;
    h.lt_idx_sps[i] = lt_sps_index(static_cast<uint32_t>(lsb), lt[i].used);
    h.delta_poc_msb_present[i] = msb ? 1 : 0;
    const int cycle = ((poc - (poc & (max_lsb - 1))) - (lt[i].poc - lsb)) / max_lsb;
    h.delta_poc_msb_cycle_lt[i] = msb ? static_cast<uint32_t>(cycle - prev_cycle) : 0;
    prev_cycle = cycle;
  }
}

void copy_nal(std::vector<uint8_t>& out, const NalSpan& s) {
  static const uint8_t kStart[4] = {0, 0, 0, 1};
  out.insert(out.end(), kStart, kStart + 4);
  out.insert(out.end(), s.data, s.data + s.size);
}

}  // namespace

HeaderEdit parse_header_edit(const std::string& name) {
  if (name == "list-modification") return HeaderEdit::ListModification;
  if (name == "long-term") return HeaderEdit::LongTerm;
  if (name == "pic-output") return HeaderEdit::PicOutput;
  if (name == "no-output-of-prior-pics") return HeaderEdit::NoOutputOfPriorPics;
  if (name == "full-dpb") return HeaderEdit::FullDpb;
  throw std::invalid_argument("unknown header edit '" + name +
                              "' (list-modification, long-term, pic-output, "
                              "no-output-of-prior-pics, full-dpb)");
}

std::vector<uint8_t> edit_headers(const uint8_t* data, size_t size, HeaderEdit edit) {
  const bool changes_pictures =
      edit == HeaderEdit::ListModification || edit == HeaderEdit::LongTerm;
  const bool discards = edit == HeaderEdit::NoOutputOfPriorPics || edit == HeaderEdit::FullDpb;
  std::map<int, Sps> sps_in, sps_out;
  std::map<int, Pps> pps_in, pps_out;
  PocCounter poc_in, poc_out;
  SliceHeader last;    // the latest independent segment's header (dependent ones continue it)
  std::set<int> prev;  // setOfPrevPocVals (8.3.1): prevTid0Pic, its RPS, the pictures since
  int picture = -1, poc = 0;
  bool first = true;
  std::vector<uint8_t> out;
  for (const NalSpan& span : split_annexb(data, size)) {
    const NalUnit nal = parse_nal(span);
    if (nal.layer_id != 0) {
      copy_nal(out, span);
      continue;
    }
    BitReader r(nal.rbsp.data(), nal.rbsp.size());
    if (nal.type == SPS_NUT) {
      Sps s;
      read_sps(r, s);
      sps_in[s.id] = s;
      edit_sps(s, edit);
      sps_out[s.id] = s;
      write_nal(out, nal.type, nal.temporal_id, write_sps(s));
      continue;
    }
    if (nal.type == PPS_NUT) {
      Pps p;
      read_pps(r, p);
      pps_in[p.id] = p;
      edit_pps(p, edit);
      pps_out[p.id] = p;
      write_nal(out, nal.type, nal.temporal_id, write_pps(p));
      continue;
    }
    if (changes_pictures && (nal.type == PREFIX_SEI_NUT || nal.type == SUFFIX_SEI_NUT)) continue;
    if (!is_vcl(nal.type) || (nal.type > RASL_R && nal.type < BLA_W_LP) || nal.type > CRA_NUT) {
      copy_nal(out, span);
      continue;
    }
    SliceHeader peek;
    peek_slice_pps(nal.rbsp, nal.type, peek);
    if (!pps_in.count(static_cast<int>(peek.pps_id))) fail("slice before its PPS");
    const Pps& pin = pps_in[static_cast<int>(peek.pps_id)];
    if (!sps_in.count(pin.sps_id)) fail("PPS before its SPS");
    const Sps& sin = sps_in[pin.sps_id];
    SliceHeader h = peek.first_slice_segment_in_pic ? SliceHeader{} : last;
    const size_t offset = read_slice_header(r, nal.type, sin, pin, h);
    if (h.first_slice_segment_in_pic) {
      ++picture;
      const bool irap = is_irap(nal.type);
      const bool no_rasl = irap && (is_idr(nal.type) || nal.type <= BLA_N_LP || first);
      first = false;
      if (no_rasl) prev.clear();
      const ShortTermRps rps_in = h.st_rps;
      poc = poc_in.next(nal, static_cast<int>(h.poc_lsb), sin.log2_max_poc_lsb(), no_rasl);
      if (!h.dependent) {
        if (edit == HeaderEdit::ListModification) modify_lists(h);
        if (edit == HeaderEdit::LongTerm && !is_idr(nal.type))
          make_long_term(h, poc, picture, prev);
        if (edit == HeaderEdit::PicOutput) h.pic_output_flag = ((poc % 3) + 3) % 3 == 1 ? 0 : 1;
      }
      if (discards && irap && picture > 0) h.no_output_of_prior_pics = 1;
      const Sps& sout = sps_out[pin.sps_id];
      const int lsb = is_idr(nal.type) ? 0 : static_cast<int>(h.poc_lsb);
      if (poc_out.next(nal, lsb, sout.log2_max_poc_lsb(), no_rasl) != poc)
        fail("POC " + std::to_string(poc) + " cannot be derived from the shorter POC LSB");
      if (nal.temporal_id == 0 && !(nal.type >= RADL_N && nal.type <= RASL_R) &&
          !is_sublayer_nonref(nal.type)) {
        prev.clear();
        for (int i = 0; i < rps_in.num_negative; ++i) prev.insert(poc + rps_in.delta_poc_s0[i]);
        for (int i = 0; i < rps_in.num_positive; ++i) prev.insert(poc + rps_in.delta_poc_s1[i]);
      }
      prev.insert(poc);
    } else if (!h.dependent) {
      // Later slices of the picture repeat the first one's edits.
      h.poc_lsb = last.poc_lsb;
      h.st_rps_sps_flag = last.st_rps_sps_flag;
      h.st_rps = last.st_rps;
      h.num_long_term_sps = last.num_long_term_sps;
      h.num_long_term_pics = last.num_long_term_pics;
      h.lt_idx_sps = last.lt_idx_sps;
      h.poc_lsb_lt = last.poc_lsb_lt;
      h.used_by_curr_lt = last.used_by_curr_lt;
      h.delta_poc_msb_present = last.delta_poc_msb_present;
      h.delta_poc_msb_cycle_lt = last.delta_poc_msb_cycle_lt;
      h.pic_output_flag = last.pic_output_flag;
      if (edit == HeaderEdit::ListModification) modify_lists(h);
    }
    if (discards && !h.first_slice_segment_in_pic)
      h.no_output_of_prior_pics = last.no_output_of_prior_pics;
    BitWriter w;
    write_slice_header(w, nal.type, sps_out[pin.sps_id], pps_out[pin.id], h);
    w.append_bytes(nal.rbsp.data() + offset, nal.rbsp.size() - offset);
    write_nal(out, nal.type, nal.temporal_id, w.take());
    if (!h.dependent || h.first_slice_segment_in_pic) last = h;
  }
  return out;
}

}  // namespace hevc
