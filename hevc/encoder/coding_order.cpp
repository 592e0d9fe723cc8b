#include "coding_order.h"

#include <algorithm>

#include "config.h"

namespace hevc {

namespace {

bool is_leading(int t) { return t >= RADL_N && t <= RASL_R; }

std::string poc_text(int poc) { return "POC " + std::to_string(poc); }

}  // namespace

std::string CodingOrder::check(const PictureDesc& pic, const EncoderConfig& cfg,
                               const Sps& sps) const {
  const int t = pic.nal_type;
  const std::string at = poc_text(pic.poc) + ": ";
  if (is_irap(t) && pic.slice_type != SliceType::I) return at + "an IRAP picture is an I picture";
  if (!(t <= RASL_R || is_idr(t) || t == CRA_NUT))
    return at + "NAL unit type " + std::to_string(t) +
           " is not one the encoder codes (TRAIL, TSA, STSA, RADL, RASL, IDR or CRA)";
  if (pic.qp < 0 || pic.qp > 51) return at + "QP must be in 0..51";
  const int max_tid = sps.max_sub_layers_minus1;
  if (pic.temporal_id < 0 || pic.temporal_id > max_tid)
    return at + "TemporalId must be in 0.." + std::to_string(max_tid) +
           " (max_temporal_layers is " + std::to_string(cfg.max_temporal_layers) + ")";
  if (is_irap(t) && pic.temporal_id != 0) return at + "an IRAP picture has TemporalId 0";
  if (t >= TSA_N && t <= STSA_R && pic.temporal_id == 0)
    return at + "a TSA or STSA picture has a TemporalId above 0";
  if (coded_ == 0 && !is_irap(t)) return at + "the first picture must be an IDR or a CRA";
  if (is_idr(t)) return pic.poc == 0 ? "" : at + "an IDR picture's POC is 0";
  const int max_lsb = 1 << sps.log2_max_poc_lsb();
  if (coded_ == 0)  // a CRA that starts the stream: its POC MSBs are 0
    return pic.poc >= 0 && pic.poc < max_lsb
               ? ""
               : at + "a CRA that starts the stream needs a POC in 0.." +
                     std::to_string(max_lsb - 1);
  if (std::find(cvs_pocs_.begin(), cvs_pocs_.end(), pic.poc) != cvs_pocs_.end())
    return at + "coded already in this sequence";
  // The decoder derives the POC's MSBs from prevTid0Pic's POC (8.3.1).
  const int d = pic.poc - prev_tid0_poc_;
  if (d <= -max_lsb / 2 || d > max_lsb / 2)
    return at + "too far from " + poc_text(prev_tid0_poc_) +
           " (the last TemporalId 0 reference picture) for POC LSBs of " +
           std::to_string(sps.log2_max_poc_lsb()) + " bits";
  if (is_irap(t) && pic.poc < cvs_max_poc_)
    return at + "an IRAP picture follows, in output order, every picture coded before it";
  if (is_leading(t)) {
    if (pic.poc > irap_poc_)
      return at + "a leading picture precedes its IRAP picture (" + poc_text(irap_poc_) +
             ") in output order";
    if (trailing_seen_)
      return at + "a leading picture is coded before every trailing picture of its IRAP";
    if (irap_type_ == IDR_N_LP) return at + "an IDR_N_LP picture has no leading pictures";
    if (is_rasl(t) && irap_type_ != CRA_NUT) return at + "RASL pictures follow a CRA only";
    if (is_rasl(t) && !before_irap_)
      return at + "the RASL pictures of a CRA that starts the stream are never decoded";
    if (!is_rasl(t) && before_irap_ && pic.poc < before_irap_max_poc_)
      return at + "a RADL picture follows, in output order, every picture before its IRAP";
  } else if (!is_irap(t) && pic.poc < irap_poc_) {
    return at + "a trailing picture follows its IRAP picture (" + poc_text(irap_poc_) +
           ") in output order";
  }
  // C.4: the coded pictures that follow it in output order; with intra pictures only (an
  // empty reference picture set) the DPB holds no others, so its size needs no check of its own.
  const int ahead = static_cast<int>(
      std::count_if(cvs_pocs_.begin(), cvs_pocs_.end(), [&](int p) { return p > pic.poc; }));
  const int reorder = static_cast<int>(sps.max_num_reorder[sps.max_sub_layers_minus1]);
  if (ahead > reorder)
    return at + "coded after " + std::to_string(ahead) +
           " pictures that follow it in output order; num_reorder_pics is " +
           std::to_string(reorder);
  return "";
}

void CodingOrder::add(const PictureDesc& pic) {
  const int t = pic.nal_type;
  if (coded_ == 0 || is_idr(t)) {
    cvs_pocs_.clear();
    cvs_max_poc_ = pic.poc;
  }
  if (is_irap(t)) {
    before_irap_ = !cvs_pocs_.empty();
    before_irap_max_poc_ = cvs_max_poc_;
    irap_poc_ = pic.poc;
    irap_type_ = t;
    trailing_seen_ = false;
  } else if (!is_leading(t)) {
    trailing_seen_ = true;
  }
  cvs_pocs_.push_back(pic.poc);
  cvs_max_poc_ = std::max(cvs_max_poc_, pic.poc);
  if (pic.temporal_id == 0 && !is_leading(t) && !is_sublayer_nonref(t)) prev_tid0_poc_ = pic.poc;
  ++coded_;
}

PictureDesc CodingOrder::next_all_intra(const EncoderConfig& cfg) const {
  PictureDesc d;
  d.qp = cfg.qp;
  if (coded_ > 0) {
    d.poc = cvs_max_poc_ + 1;
    d.nal_type = TRAIL_R;
  }
  return d;
}

}  // namespace hevc
