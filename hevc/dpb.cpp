#include "dpb.h"

#include <algorithm>
#include <string>

#include "common.h"

namespace hevc {

namespace {

int highest_tid(const Sps& sps) { return sps.max_sub_layers_minus1; }

}  // namespace

void Dpb::apply_rps(const Sps& sps, const SliceHeader& hdr, int poc, bool irap_no_rasl,
                    int decode_order) {
  st_before_.clear();
  st_after_.clear();
  lt_curr_.clear();
  if (irap_no_rasl)
    for (auto& p : pics_) p->mark = RefMark::Unused;
  const ShortTermRps& rps = hdr.st_rps;
  std::vector<int> poc_st_before, poc_st_after, poc_st_foll, poc_lt_curr, poc_lt_foll;
  std::vector<bool> lt_curr_msb, lt_foll_msb;
  for (int i = 0; i < rps.num_negative; ++i)
    (rps.used_s0[i] ? poc_st_before : poc_st_foll).push_back(poc + rps.delta_poc_s0[i]);
  for (int i = 0; i < rps.num_positive; ++i)
    (rps.used_s1[i] ? poc_st_after : poc_st_foll).push_back(poc + rps.delta_poc_s1[i]);
  const int max_lsb = 1 << sps.log2_max_poc_lsb();
  const int num_lt = static_cast<int>(hdr.num_long_term_sps + hdr.num_long_term_pics);
  int msb_cycle = 0;
  for (int i = 0; i < num_lt; ++i) {
    // DeltaPocMsbCycleLt (7-52): accumulated within the SPS entries and within the slice ones.
    if (i == 0 || i == static_cast<int>(hdr.num_long_term_sps))
      msb_cycle = static_cast<int>(hdr.delta_poc_msb_cycle_lt[i]);
    else
      msb_cycle += static_cast<int>(hdr.delta_poc_msb_cycle_lt[i]);
    int p = static_cast<int>(hdr.poc_lsb_lt[i]);
    const bool msb = hdr.delta_poc_msb_present[i] != 0;
    if (msb) p += poc - msb_cycle * max_lsb - (poc & (max_lsb - 1));
    if (hdr.used_by_curr_lt[i]) {
      poc_lt_curr.push_back(p);
      lt_curr_msb.push_back(msb);
    } else {
      poc_lt_foll.push_back(p);
      lt_foll_msb.push_back(msb);
    }
  }
  auto is_ref = [](const DecodedPicture& d) { return d.mark != RefMark::Unused; };
  auto find_lt = [&](int p, bool msb) -> DecodedPicture* {
    for (auto& d : pics_)
      if (is_ref(*d) && (msb ? d->poc == p : (d->poc & (max_lsb - 1)) == p)) return d.get();
    return nullptr;
  };
  auto find_st = [&](int p) -> DecodedPicture* {
    for (auto& d : pics_)
      if (d->mark == RefMark::ShortTerm && d->poc == p) return d.get();
    return nullptr;
  };
  std::vector<DecodedPicture*> keep;
  std::vector<DecodedPicture*> lt_foll;
  std::vector<int> missing_lt;
  for (size_t i = 0; i < poc_lt_curr.size(); ++i) {
    DecodedPicture* d = find_lt(poc_lt_curr[i], lt_curr_msb[i]);
    lt_curr_.push_back(d);
    if (!d) missing_lt.push_back(static_cast<int>(i));
  }
  for (size_t i = 0; i < poc_lt_foll.size(); ++i)
    lt_foll.push_back(find_lt(poc_lt_foll[i], lt_foll_msb[i]));
  for (DecodedPicture* d : lt_curr_)
    if (d) d->mark = RefMark::LongTerm;
  for (DecodedPicture* d : lt_foll)
    if (d) d->mark = RefMark::LongTerm;
  std::vector<DecodedPicture*> st_foll;
  for (int p : poc_st_before) st_before_.push_back(find_st(p));
  for (int p : poc_st_after) st_after_.push_back(find_st(p));
  for (int p : poc_st_foll) st_foll.push_back(find_st(p));
  for (auto& d : pics_) {
    const DecodedPicture* x = d.get();
    auto in = [&](const std::vector<DecodedPicture*>& v) {
      return std::find(v.begin(), v.end(), x) != v.end();
    };
    if (!in(st_before_) && !in(st_after_) && !in(st_foll) && !in(lt_curr_) && !in(lt_foll))
      d->mark = RefMark::Unused;
  }
  // 8.3.3: a reference the current picture uses but the buffer does not hold is generated
  // (grey, intra, never output), so that a damaged or spliced stream still decodes.
  auto generate = [&](int p, RefMark mark) {
    auto d = std::make_shared<DecodedPicture>();
    d->frame = std::make_shared<Frame>();
    d->frame->alloc(static_cast<int>(sps.width), static_cast<int>(sps.height));
    for (auto& plane : d->frame->planes) std::fill(plane.buf.begin(), plane.buf.end(), Pel{128});
    d->motion = std::make_shared<MotionField>();
    d->motion->init(static_cast<int>(sps.width), static_cast<int>(sps.height));
    d->poc = p;
    d->decode_order = decode_order;
    d->mark = mark;
    d->generated = true;
    pics_.push_back(d);
    return d.get();
  };
  for (size_t i = 0; i < st_before_.size(); ++i)
    if (!st_before_[i]) st_before_[i] = generate(poc_st_before[i], RefMark::ShortTerm);
  for (size_t i = 0; i < st_after_.size(); ++i)
    if (!st_after_[i]) st_after_[i] = generate(poc_st_after[i], RefMark::ShortTerm);
  for (int i : missing_lt) lt_curr_[i] = generate(poc_lt_curr[i], RefMark::LongTerm);
  if (pics_.size() > 64)
    fail("the decoded picture buffer overflows (more references than a stream may keep)");
}

RefLists Dpb::build_lists(const SliceHeader& hdr, int width, int height) const {
  RefLists r;
  const int total = static_cast<int>(st_before_.size() + st_after_.size() + lt_curr_.size());
  if (total == 0) fail("a P or B slice with no reference picture in its RPS");
  for (int l = 0; l < (hdr.type() == SliceType::B ? 2 : 1); ++l) {
    const int n = static_cast<int>(l ? hdr.num_ref_idx_l1_minus1 : hdr.num_ref_idx_l0_minus1) + 1;
    const int num_temp = std::max(n, total);
    std::vector<DecodedPicture*> temp;
    const auto& first = l ? st_after_ : st_before_;
    const auto& second = l ? st_before_ : st_after_;
    while (static_cast<int>(temp.size()) < num_temp) {
      for (auto* d : first)
        if (static_cast<int>(temp.size()) < num_temp) temp.push_back(d);
      for (auto* d : second)
        if (static_cast<int>(temp.size()) < num_temp) temp.push_back(d);
      for (auto* d : lt_curr_)
        if (static_cast<int>(temp.size()) < num_temp) temp.push_back(d);
    }
    r.num[l] = n;
    for (int i = 0; i < n; ++i) {
      uint32_t idx = static_cast<uint32_t>(i);
      if (hdr.list_mod_flag[l]) {
        idx = hdr.list_entry[l][i];
        if (idx >= temp.size()) fail("list_entry refers beyond the reference picture set");
      }
      const DecodedPicture* d = temp[idx];
      if (d->frame->planes[0].width != width || d->frame->planes[0].height != height)
        fail("a reference picture has another size than the current picture");
      r.pic[l][i] = d;
      r.poc[l][i] = d->poc;
      r.lt[l][i] = d->mark == RefMark::LongTerm;
    }
  }
  return r;
}

void Dpb::remove_unneeded() {
  pics_.erase(std::remove_if(pics_.begin(), pics_.end(),
                             [](const std::shared_ptr<DecodedPicture>& d) {
                               return !d->needed_for_output && d->mark == RefMark::Unused;
                             }),
              pics_.end());
}

void Dpb::bump() {
  DecodedPicture* best = nullptr;
  for (auto& d : pics_)
    if (d->needed_for_output && (!best || d->poc < best->poc)) best = d.get();
  if (!best) return;
  best->needed_for_output = false;
  if (on_output) on_output(*best);
  remove_unneeded();
}

void Dpb::bump_while_due(const Sps& sps, int max_dec) {
  const int t = highest_tid(sps);
  const int reorder = static_cast<int>(sps.max_num_reorder[t]);
  const int latency_plus1 = static_cast<int>(sps.max_latency_plus1[t]);
  const int max_latency = reorder + latency_plus1 - 1;
  for (;;) {
    int waiting = 0;
    bool late = false;
    for (auto& d : pics_) {
      if (!d->needed_for_output) continue;
      ++waiting;
      late |= latency_plus1 != 0 && d->latency >= max_latency;
    }
    const bool full = max_dec > 0 && size() >= max_dec && waiting > 0;
    if (!(waiting > reorder || late || full)) break;
    bump();
  }
}

void Dpb::before_decoding(const Sps& sps, bool irap_no_rasl, bool no_output_of_prior_pics,
                          bool first_picture) {
  if (irap_no_rasl && !first_picture) {
    if (no_output_of_prior_pics) {
      pics_.clear();
    } else {
      flush();
    }
    return;
  }
  remove_unneeded();
  const int max_dec = static_cast<int>(sps.max_dec_pic_buffering_minus1[highest_tid(sps)]) + 1;
  bump_while_due(sps, max_dec);
  // The current picture needs a place: a conforming stream leaves one (C.4), so memory stays
  // within what the SPS announces whatever the stream says later.
  if (size() >= max_dec)
    fail(
        "the decoded picture buffer is full: the stream keeps more reference pictures than "
        "sps_max_dec_pic_buffering_minus1 + 1 = " +
        std::to_string(max_dec));
}

void Dpb::store(std::shared_ptr<DecodedPicture> pic, const Sps& sps, bool output) {
  // PicLatencyCount counts the pictures that precede a waiting one in output order but follow
  // it in decoding order (SpsMaxLatencyPictures' meaning): only output pictures of lower POC.
  if (output)
    for (auto& d : pics_)
      if (d->needed_for_output && d->poc > pic->poc) ++d->latency;
  pic->needed_for_output = output;
  pic->latency = 0;
  pic->mark = RefMark::ShortTerm;
  pics_.push_back(std::move(pic));
  bump_while_due(sps, 0);
}

void Dpb::flush() {
  for (;;) {
    bool any = false;
    for (auto& d : pics_) any |= d->needed_for_output;
    if (!any) break;
    bump();
  }
  pics_.clear();
}

template <class T>
std::shared_ptr<T> PictureRecycler::take(std::vector<std::shared_ptr<T>>& pool) {
  // Spares beyond a few are released: a caller that held many output pictures and let them go
  // gets the memory back.
  constexpr int kSpares = 2;
  std::shared_ptr<T> got;
  int spares = 0;
  for (auto it = pool.begin(); it != pool.end();) {
    if (it->use_count() == 1) {
      if (!got) {
        got = *it;
      } else if (++spares > kSpares) {
        it = pool.erase(it);
        continue;
      }
    }
    ++it;
  }
  if (!got) pool.push_back(got = std::make_shared<T>());
  return got;
}

std::shared_ptr<Frame> PictureRecycler::frame(int width, int height) {
  std::shared_ptr<Frame> f = take(frames_);
  if (f->planes[0].width != width || f->planes[0].height != height) f->alloc(width, height);
  return f;
}

std::shared_ptr<MotionField> PictureRecycler::motion(int width, int height) {
  std::shared_ptr<MotionField> m = take(motions_);
  m->init(width, height, /*clear=*/false);  // the decoder writes every CU's motion
  return m;
}

}  // namespace hevc
