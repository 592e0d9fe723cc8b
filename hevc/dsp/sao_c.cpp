// The C reference of the SAO kernels.
#include "dsp.h"
#include "sao_edge.h"

namespace hevc::dsp {

namespace {

void edge_apply(const Pel* src, Pel* dst, int n, ptrdiff_t oa, ptrdiff_t ob, const int offset[5]) {
  for (int i = 0; i < n; ++i) {
    const int c = src[i];
    dst[i] = static_cast<Pel>(clip_pel(c + offset[sao_edge_cat(c, src[i + oa], src[i + ob])]));
  }
}

void edge_stats(const Pel* rec, const Pel* org, int n, ptrdiff_t oa, ptrdiff_t ob, int64_t count[5],
                int64_t sum[5]) {
  for (int i = 0; i < n; ++i) {
    const int c = rec[i];
    const int cat = sao_edge_cat(c, rec[i + oa], rec[i + ob]);
    if (cat == 0) continue;
    ++count[cat];
    sum[cat] += org[i] - c;
  }
}

}  // namespace

void init_sao_c(SaoKernels& k) {
  k.edge_apply = edge_apply;
  k.edge_stats = edge_stats;
}

}  // namespace hevc::dsp
