#include "decoder.h"

#include <algorithm>
#include <chrono>
#include <cstring>
#include <utility>

#include "cabac.h"
#include "ctu_syntax.h"
#include "dpb.h"
#include "inter_pred.h"
#include "intra.h"
#include "loop_filter.h"
#include "luma_prediction.h"
#include "poc.h"
#include "sao.h"
#include "substreams.h"
#include "transform.h"

namespace hevc {

namespace {

using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point t) {
  return std::chrono::duration<double>(Clock::now() - t).count();
}

char slice_type_char(SliceType t) {
  return t == SliceType::I ? 'I' : (t == SliceType::P ? 'P' : 'B');
}

// Reconstruction of transform blocks and PCM samples as the CTU syntax delivers them.
struct ReconSink {
  Frame& pic;
  const CodingInfo& info;
  const Sps& sps;
  const Pps& pps;
  const SliceState& st;
  const RefLists* refs = nullptr;
  const PredWeights* weights = nullptr;
  alignas(16) int16_t buf[32 * 32];

  void inter_pu(int x, int y, int w, int h, const MvField& m) {
    const Frame* ref[2] = {nullptr, nullptr};
    for (int l = 0; l < 2; ++l)
      if (m.pred(l)) ref[l] = refs->pic[l][m.ref_idx[l]]->frame.get();
    predict_inter(ref, m, x, y, w, h, *weights, pic);
  }

  int16_t* coeffs(const TbInfo& tb) {
    std::memset(buf, 0, sizeof(int16_t) << (2 * tb.log2n));
    return buf;
  }

  const uint8_t* scaling_factor(const TbInfo& tb) const {
    if (!sps.scaling_list_enabled || (tb.tskip && tb.log2n > 2)) return nullptr;
    const ScalingList& sl = pps.scaling_list_data_present ? pps.scaling : sps.scaling;
    const int matrix = (tb.intra ? 0 : 3) + tb.cidx;
    return sl.factor[tb.log2n - 2][matrix].data();
  }

  void tb(const TbInfo& tb) {
    Plane& p = pic.planes[tb.cidx];
    Pel* dst = &p.at(tb.x, tb.y);
    if (tb.intra) {
      IntraContext ic{&p, &info, pps.constrained_intra_pred != 0};
      intra_predict_block(ic, tb.cidx, tb.x, tb.y, tb.log2n, tb.intra_mode,
                          sps.strong_intra_smoothing != 0, dst, p.stride);
    }
    if (!tb.cbf) return;
    const int n = 1 << tb.log2n;
    if (!tb.bypass) {
      int qp = tb.qp_y;
      if (tb.cidx)
        qp = chroma_qp_y_to_c(tb.qp_y, tb.cidx == 1 ? pps.cb_qp_offset + st.cb_qp_offset
                                                    : pps.cr_qp_offset + st.cr_qp_offset);
      dequantize(tb.coeff, tb.log2n, qp, scaling_factor(tb), tb.max_x, tb.max_y);
      if (tb.tskip)
        inverse_transform_skip(tb.coeff, tb.log2n);
      else
        inverse_transform(tb.coeff, tb.log2n, tb.intra && tb.cidx == 0 && tb.log2n == 2, tb.max_x,
                          tb.max_y);
    }
    add_residual(dst, p.stride, tb.coeff, n);
  }

  void pcm(CabacReader& c, int x0, int y0, int log2) {
    const size_t pos = c.aligned_pos();
    if (pos > c.size()) fail("PCM samples start beyond the end of the slice data");
    BitReader br(c.data() + pos, c.size() - pos);
    const int n = 1 << log2;
    const int bdy = sps.pcm_bit_depth_luma_minus1 + 1, bdc = sps.pcm_bit_depth_chroma_minus1 + 1;
    Plane& Y = pic.planes[0];
    for (int y = 0; y < n; ++y)
      for (int x = 0; x < n; ++x) Y.at(x0 + x, y0 + y) = static_cast<Pel>(br.u(bdy) << (8 - bdy));
    for (int cidx = 1; cidx < 3; ++cidx) {
      Plane& C = pic.planes[cidx];
      for (int y = 0; y < n / 2; ++y)
        for (int x = 0; x < n / 2; ++x)
          C.at((x0 >> 1) + x, (y0 >> 1) + y) = static_cast<Pel>(br.u(bdc) << (8 - bdc));
    }
    c.restart(pos + br.pos() / 8);
  }
};

}  // namespace

struct Decoder::Impl {
  Decoder& self;
  std::array<std::shared_ptr<Vps>, 16> vps;
  std::array<std::shared_ptr<Sps>, 16> sps;
  std::array<std::shared_ptr<Pps>, 64> pps;

  struct Current {
    bool active = false;
    std::shared_ptr<const Sps> sps;
    std::shared_ptr<const Pps> pps;
    std::shared_ptr<Frame> frame;
    std::shared_ptr<MotionField> motion;
    CodingInfo info;
    int poc = 0, nal_type = 0, decode_order = 0, slice_qp = 0, ctus = 0;
    SliceType first_type = SliceType::I;
    SliceHeader indep_hdr;
    int indep_addr = 0;
    bool has_indep = false;
    ContextSet ds_ctx, wpp_ctx;
    bool ds_valid = false;
    int last_qp = 26;
    bool has_hash = false;
    PictureHash hash;
    bool output = true;
    struct Segment {
      int ts_begin = 0, ts_end = 0;
      std::vector<uint8_t> ext;
    };
    std::vector<Segment> segments;
    std::vector<int> refs[2];        // of the first slice (the per-picture report)
    PredictionSources pred_sources;  // every slice's, for the CNN's prediction plane
    Clock::time_point t0;
    bool has_cnn_sei = false;
    CnnSei cnn_sei;  // the model set identification in force for this picture
  } cur;

  PocCounter poc_counter;
  bool no_rasl_output = true;  // of the most recent IRAP
  bool first_in_sequence = true;
  int decode_count = 0;
  Dpb dpb;
  PictureRecycler recycler;
  // A model set identification SEI applies from the next picture to start (its own access
  // unit's) up to the next such SEI or the end of the coded video sequence (docs/bitstream.md).
  CnnSei active_sei, pending_sei;
  bool have_active_sei = false, have_pending_sei = false;
  int nal_count = 0;

  explicit Impl(Decoder& d) : self(d) {
    dpb.on_output = [this](const DecodedPicture& pic) {
      if (!self.on_output) return;
      OutputPicture o;
      o.poc = pic.poc;
      o.decode_order = pic.decode_order;
      o.frame = pic.frame;
      o.crop_left = pic.crop[0];
      o.crop_right = pic.crop[1];
      o.crop_top = pic.crop[2];
      o.crop_bottom = pic.crop[3];
      self.on_output(o);
    };
  }

  void flush_output() { dpb.flush(); }

  void start_picture(const NalUnit& nal, const SliceHeader& hdr) {
    auto p = pps[hdr.pps_id];
    if (!p) fail("slice refers to PPS " + std::to_string(hdr.pps_id) + ", which was not received");
    auto s = sps[p->sps_id];
    if (!s)
      fail("PPS " + std::to_string(p->id) + " refers to SPS " + std::to_string(p->sps_id) +
           ", which was not received");
    validate_pps(*s, *p);
    const bool irap = is_irap(nal.type);
    if (irap) no_rasl_output = is_idr(nal.type) || nal.type <= BLA_N_LP || first_in_sequence;
    // The coding information's buffers are kept (CodingInfo::init clears what must be).
    CodingInfo info = std::move(cur.info);
    cur = Current{};
    cur.info = std::move(info);
    cur.active = true;
    if (irap && no_rasl_output) have_active_sei = false;
    if (have_pending_sei) {
      active_sei = pending_sei;
      have_active_sei = true;
      have_pending_sei = false;
    }
    cur.has_cnn_sei = have_active_sei;
    cur.cnn_sei = active_sei;
    cur.sps = s;
    cur.pps = p;
    cur.nal_type = nal.type;
    cur.t0 = Clock::now();
    cur.decode_order = decode_count++;
    // Picture order count (8.3.1); the lsb is read again by the full header parse.
    BitReader r(nal.rbsp.data(), nal.rbsp.size());
    SliceHeader tmp;
    read_slice_header(r, nal.type, *s, *p, tmp);
    cur.poc = poc_counter.next(nal, static_cast<int>(tmp.poc_lsb), s->log2_max_poc_lsb(),
                               irap && no_rasl_output);
    const bool irap_no_rasl = irap && no_rasl_output;
    dpb.apply_rps(*s, tmp, cur.poc, irap_no_rasl, cur.decode_order);
    dpb.before_decoding(*s, irap_no_rasl, tmp.no_output_of_prior_pics != 0, cur.decode_order == 0);
    first_in_sequence = false;
    cur.frame = recycler.frame(static_cast<int>(s->width), static_cast<int>(s->height));
    cur.motion = recycler.motion(static_cast<int>(s->width), static_cast<int>(s->height));
    cur.info.init(*s, *p, /*clear_blocks=*/false);
    cur.output = tmp.pic_output_flag != 0;
  }

  void decode_slice(const NalUnit& nal) {
    if (is_rasl(nal.type) && no_rasl_output) {
      // Not decodable after this IRAP. The picture before it is complete, and the skipped
      // picture's own suffix SEI (its hash) must not be taken for that picture's.
      finish_picture();
      return;
    }
    SliceHeader peek;
    peek_slice_pps(nal.rbsp, nal.type, peek);
    if (peek.first_slice_segment_in_pic) {
      finish_picture();
      start_picture(nal, peek);
    } else if (!cur.active) {
      fail("slice segment without the first slice segment of its picture");
    }
    if (peek.pps_id != cur.pps->id) fail("slices of one picture refer to different PPSs");
    const Sps& s = *cur.sps;
    const Pps& p = *cur.pps;
    SliceHeader hdr;
    if (!peek.first_slice_segment_in_pic && cur.has_indep) hdr = cur.indep_hdr;
    BitReader r(nal.rbsp.data(), nal.rbsp.size());
    const size_t data_off = read_slice_header(r, nal.type, s, p, hdr);
    if (hdr.dependent && !cur.has_indep) fail("dependent slice segment without an independent one");
    if (!hdr.dependent) {
      cur.indep_hdr = hdr;
      cur.indep_addr = static_cast<int>(hdr.segment_address);
      cur.has_indep = true;
      SliceFilterInfo f;
      f.deblocking_disabled = hdr.deblocking_disabled;
      f.lf_across_slices = hdr.lf_across_slices;
      f.sao_luma = hdr.sao_luma;
      f.sao_chroma = hdr.sao_chroma;
      f.beta_offset_div2 = static_cast<int8_t>(hdr.beta_offset_div2);
      f.tc_offset_div2 = static_cast<int8_t>(hdr.tc_offset_div2);
      f.slice_addr = cur.indep_addr;
      cur.info.slice_filters_.push_back(f);
    }
    if (hdr.first_slice_segment_in_pic) {
      cur.first_type = hdr.type();
      cur.slice_qp = hdr.slice_qp(p);
    }
    const int ts_begin = cur.info.geo().rs_to_ts[hdr.segment_address];
    // Each segment continues where the one before ended (the CTUs of a picture are covered in
    // tile-scan order): what a CTU can predict from must not depend on later segments.
    if (ts_begin != cur.ctus)
      fail("slice segment at CTU address " + std::to_string(hdr.segment_address) +
           " does not start where the picture's previous segments end (tile-scan CTU " +
           std::to_string(cur.ctus) + ")");
    const int ctus_before = cur.ctus;
    decode_slice_data(nal, hdr, data_off);
    cur.segments.push_back({ts_begin, ts_begin + cur.ctus - ctus_before, hdr.extension});
  }

  void decode_slice_data(const NalUnit& nal, const SliceHeader& hdr, size_t data_off) {
    const Sps& s = *cur.sps;
    const Pps& p = *cur.pps;
    CodingInfo& info = cur.info;
    const PicGeometry& g = info.geo();
    SliceState st;
    st.sps = &s;
    st.pps = &p;
    st.info = &info;
    st.slice_type = hdr.type();
    st.slice_qp = hdr.slice_qp(p);
    st.cb_qp_offset = hdr.cb_qp_offset;
    st.cr_qp_offset = hdr.cr_qp_offset;
    st.sao_luma = hdr.sao_luma;
    st.sao_chroma = hdr.sao_chroma;
    st.slice_addr_rs = cur.indep_addr;
    st.qp_prev = st.qp_y = st.qp_pred = st.slice_qp;
    const int filter_idx = static_cast<int>(info.slice_filters_.size()) - 1;
    RefLists refs;
    MvContext mvc;
    PredWeights weights;
    if (hdr.type() != SliceType::I) {
      refs = dpb.build_lists(hdr, static_cast<int>(s.width), static_cast<int>(s.height));
      if (hdr.first_slice_segment_in_pic)
        for (int l = 0; l < 2; ++l) cur.refs[l].assign(refs.poc[l], refs.poc[l] + refs.num[l]);
      mvc.info = &info;
      mvc.motion = cur.motion.get();
      mvc.refs = &refs;
      mvc.b_slice = hdr.type() == SliceType::B;
      mvc.cur_poc = cur.poc;
      if (hdr.temporal_mvp) {
        const int l = mvc.b_slice && !hdr.collocated_from_l0 ? 1 : 0;
        if (static_cast<int>(hdr.collocated_ref_idx) >= refs.num[l])
          fail("collocated_ref_idx outside the reference picture list");
        mvc.col = refs.pic[l][hdr.collocated_ref_idx];
      }
      mvc.col_from_l0 = hdr.collocated_from_l0;
      mvc.log2_par_mrg_level = static_cast<int>(p.log2_parallel_merge_level_minus2) + 2;
      mvc.max_merge_cand = 5 - static_cast<int>(hdr.five_minus_max_merge_cand);
      mvc.derive_flags();
      weights = PredWeights::from_slice(
          hdr, hdr.type() == SliceType::P ? p.weighted_pred != 0 : p.weighted_bipred != 0);
      st.mvc = &mvc;
      st.mvd_l1_zero = hdr.mvd_l1_zero != 0;
      // Only a CNN can ask for the prediction plane: without one, keep no references alive.
      if (self.cnn_provider && !self.ignore_cnn)
        cur.pred_sources.add_slice(st.slice_addr_rs, refs, weights);
    }
    st.motion = cur.motion.get();

    if (data_off >= nal.rbsp.size()) fail("slice segment has no slice data");
    const uint8_t* data = nal.rbsp.data() + data_off;
    const size_t size = nal.rbsp.size() - data_off;
    CabacReader cabac;
    cabac.start(data, size);
    size_t base = 0;  // offset of the current substream within the slice data
    ContextSet ctx;
    ReconSink sink{*cur.frame, info, s, p, st, &refs, &weights, {}};
    CtuCoder<CabacReader, ReconSink> coder(cabac, ctx, sink, st);

    int ts = g.rs_to_ts[hdr.segment_address];
    bool first = true;
    for (;;) {
      if (ts >= g.num_ctb) fail("slice data runs past the end of the picture");
      const int rs = g.ts_to_rs[ts];
      if (info.ctb_slice_[rs] >= 0) fail("two slice segments cover the same CTU");
      info.ctb_slice_[rs] = st.slice_addr_rs;
      info.ctb_filter_idx_[rs] = filter_idx;
      st.ctb_addr_rs = rs;
      const int rx = rs % g.w_ctb, ry = rs / g.w_ctb;
      const int x0 = rx << g.ctb_log2, y0 = ry << g.ctb_log2;
      const bool tile_start = tile_starts(g, ts);
      const bool row_start = wpp_row_starts(g, p, rs);
      const CtxStart from = ctx_start(info, p, ts, first, hdr.dependent);
      if (from != CtxStart::Continue) {
        if (from == CtxStart::Wpp) {
          ctx = cur.wpp_ctx;
        } else if (from == CtxStart::Segment) {
          if (!cur.ds_valid) fail("dependent slice segment without a preceding slice segment");
          ctx = cur.ds_ctx;
        } else {
          ctx.init(hdr.type(), hdr.cabac_init_flag, st.slice_qp);
        }
        // qPY_PREV restarts at a slice, a tile and (with WPP) a CTB row in a tile.
        if (tile_start || row_start || !hdr.dependent)
          st.qp_prev = st.slice_qp;
        else
          st.qp_prev = cur.last_qp;
        st.qp_y = st.slice_qp;
      }
      first = false;
      if (hdr.sao_luma || hdr.sao_chroma) coder.sao(rx, ry);
      coder.coding_quadtree(x0, y0, g.ctb_log2, 0);
      ++cur.ctus;
      if (cabac.overread() > 64)
        fail("slice data ends in the middle of a CTU (truncated or corrupt)");
      const uint32_t end = cabac.terminate();
      if (wpp_stores(g, p, rs)) cur.wpp_ctx = ctx;
      if (end) {
        cur.ds_ctx = ctx;
        cur.ds_valid = true;
        cur.last_qp = st.qp_prev;
        break;
      }
      ++ts;
      if (ts >= g.num_ctb) fail("slice data runs past the end of the picture");
      if (substream_starts(g, p, ts)) {
        if (!cabac.terminate()) fail("end_of_subset_one_bit is not 1");
        const size_t next = base + cabac.aligned_pos();
        if (next >= size) fail("slice data ends before its last substream");
        base = next;
        cabac.start(data + base, size - base);
      }
    }
  }

  void finish_picture() {
    if (!cur.active) return;
    cur.active = false;
    const Sps& s = *cur.sps;
    const Pps& p = *cur.pps;
    CodingInfo& info = cur.info;
    const int missing = info.geo().num_ctb - cur.ctus;
    if (missing > 0)
      fail("picture POC " + std::to_string(cur.poc) + " is incomplete: " + std::to_string(missing) +
           " of " + std::to_string(info.geo().num_ctb) + " CTUs are missing");
    Frame& f = *cur.frame;
    // The CNN signalling of the picture's slice segments.
    CnnPictureFlags cnn_flags;
    bool cnn_chroma = false;
    const PicGeometry& geo = info.geo();
    for (const auto& seg : cur.segments) {
      CnnSliceExt ext;
      if (seg.ext.empty() || !read_cnn_ext(seg.ext, seg.ts_end - seg.ts_begin, ext)) continue;
      if (ext.mode == CnnMode::Off) continue;
      if (cnn_flags.luma.empty()) {
        cnn_flags.luma.assign(geo.num_ctb, 0);
        cnn_flags.chroma.assign(geo.num_ctb, 0);
      }
      for (int ts = seg.ts_begin; ts < seg.ts_end; ++ts) {
        const int rs = geo.ts_to_rs[ts], k = ts - seg.ts_begin;
        const bool all = ext.mode == CnnMode::All;
        cnn_flags.luma[rs] = all ? 1 : ext.luma[k];
        if (ext.chroma) cnn_flags.chroma[rs] = all ? 1 : ext.chroma_flags[k];
      }
      cnn_chroma |= ext.chroma;
    }
    const bool use_cnn = cnn_flags.any();
    std::unique_ptr<Frame> pre;
    if (use_cnn && !self.ignore_cnn) {
      if (!self.cnn_provider)
        fail("picture POC " + std::to_string(cur.poc) +
             " uses the in-loop CNN filter: give the decoder a model set (or ignore the CNN)");
      if (!cur.has_cnn_sei)
        fail("picture POC " + std::to_string(cur.poc) +
             " uses the in-loop CNN, but no model set identification SEI precedes it in its "
             "coded video sequence");
      pre = std::make_unique<Frame>(f);
    }
    deblock_stage(s, p, info, cur.motion.get(), f);
    double cnn_s = 0;
    int cnn_ctus = 0;
    Frame cnn;
    if (pre) {
      auto t = Clock::now();
      CnnRequest req;
      req.input = pre.get();
      req.qp = cur.slice_qp;
      req.slice_type = cur.first_type;
      req.poc = cur.poc;
      req.chroma = cnn_chroma;
      req.sei = &cur.cnn_sei;
      req.need = &cnn_flags;
      const bool chroma_done =
          cnn_stage(self.cnn_provider, req, s, p, info, cur.motion.get(), &cur.pred_sources, cnn);
      cur.pred_sources = PredictionSources{};  // the references are no longer needed
      if (cnn_chroma && !chroma_done)
        fail("the stream applies the CNN to chroma but the model set has no chroma model");
      cnn_s = seconds_since(t);
    }
    sao_and_cnn_stage(s, p, info, pre ? &cnn : nullptr, &cnn_flags, f);
    for (uint8_t v : cnn_flags.luma) cnn_ctus += v;
    PictureReport rep;
    rep.poc = cur.poc;
    rep.decode_order = cur.decode_order;
    rep.nal_type = cur.nal_type;
    rep.slice_type = slice_type_char(cur.first_type);
    rep.qp = cur.slice_qp;
    rep.refs[0] = cur.refs[0];
    rep.refs[1] = cur.refs[1];
    rep.width = static_cast<int>(s.width);
    rep.height = static_cast<int>(s.height);
    if (cur.has_hash) {
      rep.expected = hash_hex(cur.hash);
      rep.hash = HashStatus::NotChecked;
      if (self.verify_hash) {
        PictureHash got = frame_hash(cur.hash.type, f);
        rep.hash = hashes_equal(got, cur.hash) ? HashStatus::Ok : HashStatus::Mismatch;
        rep.computed = hash_hex(got);
      }
    }
    rep.seconds = seconds_since(cur.t0);
    rep.cnn_seconds = cnn_s;
    rep.cnn_ctus = cnn_ctus;
    rep.ctus = geo.num_ctb;
    rep.cnn_ignored = use_cnn && self.ignore_cnn;
    set_timing(s, rep);
    if (self.on_decoded) self.on_decoded(rep);
    auto d = std::make_shared<DecodedPicture>();
    d->frame = cur.frame;
    d->motion = cur.motion;
    d->poc = cur.poc;
    d->decode_order = cur.decode_order;
    if (s.conformance_window) {
      d->crop[0] = static_cast<int>(s.conf_win[0]) * 2;
      d->crop[1] = static_cast<int>(s.conf_win[1]) * 2;
      d->crop[2] = static_cast<int>(s.conf_win[2]) * 2;
      d->crop[3] = static_cast<int>(s.conf_win[3]) * 2;
      if (d->crop[0] + d->crop[1] >= static_cast<int>(s.width) ||
          d->crop[2] + d->crop[3] >= static_cast<int>(s.height))
        fail("conformance window is larger than the picture");
    }
    dpb.store(std::move(d), s, cur.output);
    cur.frame.reset();
  }

  // The picture rate the SPS VUI (else the VPS) signals, if any.
  void set_timing(const Sps& s, PictureReport& rep) const {
    uint32_t tick = 0, scale = 0;
    if (s.vui_present && s.vui.timing_info_present) {
      tick = s.vui.num_units_in_tick;
      scale = s.vui.time_scale;
    } else if (vps[s.vps_id] && vps[s.vps_id]->timing_info_present) {
      tick = vps[s.vps_id]->num_units_in_tick;
      scale = vps[s.vps_id]->time_scale;
    }
    if (tick && scale) {
      rep.num_units_in_tick = tick;
      rep.time_scale = scale;
    }
  }

  void handle(const NalSpan& span) {
    ++nal_count;
    NalUnit nal = parse_nal(span);
    if (nal.layer_id != 0) return;  // other layers are not part of a Main decode
    switch (nal.type) {
      case VPS_NUT: {
        BitReader r(nal.rbsp.data(), nal.rbsp.size());
        auto v = std::make_shared<Vps>();
        read_vps(r, *v);
        vps[v->id] = v;
        break;
      }
      case SPS_NUT: {
        BitReader r(nal.rbsp.data(), nal.rbsp.size());
        auto s = std::make_shared<Sps>();
        read_sps(r, *s);
        sps[s->id] = s;
        break;
      }
      case PPS_NUT: {
        BitReader r(nal.rbsp.data(), nal.rbsp.size());
        auto p = std::make_shared<Pps>();
        read_pps(r, *p);
        pps[p->id] = p;
        break;
      }
      case PREFIX_SEI_NUT: {
        SeiMessages m = read_sei(nal.rbsp);
        for (const auto& u : m.user_data) {
          CnnSei sei;
          if (u.uuid == kCnnSeiUuid && read_cnn_sei_payload(u.payload, sei)) {
            pending_sei = sei;
            have_pending_sei = true;
          }
        }
        break;
      }
      case SUFFIX_SEI_NUT: {
        SeiMessages m = read_sei(nal.rbsp);
        if (m.has_hash && cur.active) {
          cur.has_hash = true;
          cur.hash = m.hash;
        }
        break;
      }
      case EOS_NUT:
        // The next picture starts a new coded video sequence: what waits is output now.
        finish_picture();
        flush_output();
        first_in_sequence = true;
        break;
      case AUD_NUT:
      case EOB_NUT:
      case FD_NUT:
        break;
      default:
        if (nal.type <= CRA_NUT && (nal.type <= RASL_R || nal.type >= BLA_W_LP)) {
          decode_slice(nal);
        }
        // Reserved and unspecified types are ignored, as the standard asks.
        break;
    }
  }
};

Decoder::Decoder() : impl_(std::make_unique<Impl>(*this)) {}
Decoder::~Decoder() = default;

void Decoder::decode_nal(const NalSpan& span) { impl_->handle(span); }

void Decoder::decode(const uint8_t* data, size_t size) {
  for (const NalSpan& s : split_annexb(data, size)) impl_->handle(s);
}

void Decoder::finish() {
  impl_->finish_picture();
  if (impl_->decode_count == 0) {
    if (impl_->nal_count == 0)
      fail("no HEVC NAL unit found: the input is empty or not an Annex B byte stream");
    fail("no coded picture in the stream (" + std::to_string(impl_->nal_count) +
         " NAL unit(s), none a slice of a picture)");
  }
  impl_->flush_output();
}

}  // namespace hevc
