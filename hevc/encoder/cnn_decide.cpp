#include "cnn_decide.h"

#include <limits>
#include <stdexcept>

#include "../loop_filter.h"
#include "rdcost.h"
#include "sao_search.h"

namespace hevc {

namespace {

struct Outcome {
  std::vector<SaoParams> sao;
  bool sao_luma = false, sao_chroma = false;
  Frame final_frame;
  double dist = 0;      // chroma-weighted SSE against the source
  double sao_bits = 0;  // bits of the SAO syntax
};

double weighted_sse(const EncPicture& pic, const Frame& f) {
  double d = 0;
  for (int c = 0; c < 3; ++c) {
    const Plane& a = pic.src.planes[c];
    const Plane& b = f.planes[c];
    d += pic.rd.chroma_weight[c] *
         static_cast<double>(
             sse_block(a.buf.data(), a.stride, b.buf.data(), b.stride, a.width, a.height));
  }
  return d;
}

uint64_t ctb_sse(const Plane& a, const Plane& b, int x0, int y0, int size) {
  const int w = std::min(size, a.width - x0), h = std::min(size, a.height - y0);
  return sse_block(a.row(y0) + x0, a.stride, b.row(y0) + x0, b.stride, w, h);
}

// SAO decided with `flags` marking the replaced components, applied, then the CNN CTUs copied in.
Outcome evaluate(EncPicture& pic, const Frame& deblocked, const Frame& cnn,
                 const CnnPictureFlags& flags, SliceState& st) {
  Outcome o;
  const Sps& sps = *pic.sps;
  o.final_frame = deblocked;
  if (sps.sao) {
    st.sao_luma = st.sao_chroma = true;
    for (auto& sf : pic.info.slice_filters_) sf.sao_luma = sf.sao_chroma = 1;
    const bool any = flags.any();
    const auto used = sao_decide(pic, deblocked, st, any ? &flags : nullptr);
    o.sao_luma = used.first;
    o.sao_chroma = used.second;
    for (auto& sp : pic.info.sao_) {
      if (!o.sao_luma) sp.type[0] = 0;
      if (!o.sao_chroma) sp.type[1] = sp.type[2] = 0;
    }
    st.sao_luma = o.sao_luma;
    st.sao_chroma = o.sao_chroma;
    for (auto& sf : pic.info.slice_filters_) {
      sf.sao_luma = o.sao_luma;
      sf.sao_chroma = o.sao_chroma;
    }
    if (o.sao_luma || o.sao_chroma) o.sao_bits = static_cast<double>(sao_bits(pic, st)) / kBitScale;
    o.sao = pic.info.sao_;
  }
  sao_and_cnn_stage(sps, *pic.pps, pic.info, &cnn, &flags, o.final_frame);
  o.dist = weighted_sse(pic, o.final_frame);
  return o;
}

// Extension bits (slice_segment_header_extension_length and its bytes).
double ext_bits(const CnnSliceExt& e) {
  const size_t n = write_cnn_ext(e).size();
  int len_bits = 1;
  while ((n + 1) >> (len_bits / 2 + 1)) len_bits += 2;  // ue(v) length of n
  return static_cast<double>(8 * n + len_bits);
}

CnnSliceExt to_ext(const CodingInfo& info, const CnnPictureFlags& f, CnnMode mode, bool chroma) {
  CnnSliceExt e;
  e.mode = mode;
  e.chroma = chroma;
  if (mode == CnnMode::PerCtu) {
    const PicGeometry& g = info.geo();
    for (int ts = 0; ts < g.num_ctb; ++ts) {
      const int rs = g.ts_to_rs[ts];
      e.luma.push_back(f.luma[rs]);
      if (chroma) e.chroma_flags.push_back(f.chroma[rs]);
    }
  }
  return e;
}

}  // namespace

CnnChoice decide_cnn(EncPicture& pic, const Frame& deblocked, const Frame& cnn, bool chroma_model,
                     CnnEncodeMode mode, bool force_off, SliceState& st) {
  const PicGeometry& g = pic.info.geo();
  const double lambda = pic.rd.lambda;
  CnnPictureFlags none;
  none.luma.assign(g.num_ctb, 0);
  none.chroma.assign(g.num_ctb, 0);

  // Off: the standard filters alone (the anchor's decisions).
  Outcome off = evaluate(pic, deblocked, cnn, none, st);
  CnnChoice choice;
  choice.flags = none;
  choice.ext = to_ext(pic.info, none, CnnMode::Off, false);
  const double j_off = off.dist + lambda * (off.sao_bits + ext_bits(choice.ext));
  choice.cost[0] = j_off;
  Outcome* best = &off;
  double best_j = j_off;
  Outcome all, ctu;
  if (!force_off && mode != CnnEncodeMode::Off) {
    CnnPictureFlags every;
    every.luma.assign(g.num_ctb, 1);
    every.chroma.assign(g.num_ctb, chroma_model ? 1 : 0);
    all = evaluate(pic, deblocked, cnn, every, st);
    const CnnSliceExt ext_all = to_ext(pic.info, every, CnnMode::All, chroma_model);
    const double j_all = all.dist + lambda * (all.sao_bits + ext_bits(ext_all));
    choice.cost[1] = j_all;
    if (j_all < best_j || mode == CnnEncodeMode::All) {
      best = &all;
      best_j = j_all;
      choice.flags = every;
      choice.ext = ext_all;
    }
    if (mode == CnnEncodeMode::Ctu) {
      // Per CTU and component: the CNN where SSE + flag bits beat the standard result plus the
      // bits of the SAO parameters the CTU would no longer need.
      CnnPictureFlags f = none;
      for (int rs = 0; rs < g.num_ctb; ++rs) {
        const int x0 = (rs % g.w_ctb) << g.ctb_log2, y0 = (rs / g.w_ctb) << g.ctb_log2;
        for (int comp = 0; comp < (chroma_model ? 3 : 1); comp += comp ? 2 : 1) {
          double d_std = 0, d_cnn = 0;
          for (int c = comp; c < (comp ? 3 : 1); ++c) {
            const int sh = c ? 1 : 0;
            const double w = pic.rd.chroma_weight[c];
            d_std += w * static_cast<double>(ctb_sse(pic.src.planes[c], off.final_frame.planes[c],
                                                     x0 >> sh, y0 >> sh, g.ctb_size >> sh));
            d_cnn += w * static_cast<double>(ctb_sse(pic.src.planes[c], cnn.planes[c], x0 >> sh,
                                                     y0 >> sh, g.ctb_size >> sh));
          }
          const SaoParams& sp = off.sao[rs];
          const bool sao_used = !sp.merge_left && !sp.merge_up && sp.type[comp] != 0;
          const double sao_saved = sao_used ? (comp ? 8.0 : 10.0) : 0.0;  // typical parameter bits
          const bool on = d_cnn + lambda < d_std + lambda * sao_saved;
          (comp ? f.chroma : f.luma)[rs] = on;
        }
      }
      if (f.any()) {
        ctu = evaluate(pic, deblocked, cnn, f, st);
        try {
          const CnnSliceExt ext_ctu = to_ext(pic.info, f, CnnMode::PerCtu, chroma_model);
          const double j_ctu = ctu.dist + lambda * (ctu.sao_bits + ext_bits(ext_ctu));
          choice.cost[2] = j_ctu;
          if (j_ctu < best_j) {
            best = &ctu;
            best_j = j_ctu;
            choice.flags = f;
            choice.ext = ext_ctu;
          }
        } catch (const std::length_error&) {
          // More flags than the extension can carry: the picture-level choice stands.
        }
      }
    }
  }
  // Leave the chosen outcome in the picture.
  pic.info.sao_ = best->sao;
  st.sao_luma = best->sao_luma;
  st.sao_chroma = best->sao_chroma;
  for (auto& sf : pic.info.slice_filters_) {
    sf.sao_luma = best->sao_luma;
    sf.sao_chroma = best->sao_chroma;
  }
  pic.rec = best->final_frame;
  return choice;
}

}  // namespace hevc
