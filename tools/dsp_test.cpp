// Unit test of the SIMD kernels (hevc/dsp): every kernel of every level the CPU supports against
// the C reference, on random inputs and on extremes, output compared byte for byte.
//
//   hevc-dsp-test                 test all supported levels: a line per level and kernel
//                                 ("avx2 intra.planar: 1200 cases, 0 mismatches"); exit 0 if
//                                 all match, 1 if not
//   hevc-dsp-test --list          print the supported levels and the one in use, then exit
//   hevc-dsp-test --corrupt NAME  alter the output of kernel NAME (e.g. intra.planar, or "all")
//                                 at every level but C before comparing: the test must fail
//   hevc-dsp-test --quick         a tenth of the cases
#include "dsp/dsp.h"

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

namespace {

using hevc::Pel;
using hevc::dsp::InterKernels;
using hevc::dsp::Kernels;
using hevc::dsp::SimdLevel;

// xorshift64*: the same cases on every run.
struct Rng {
  uint64_t s = 0x9e3779b97f4a7c15ull;
  uint32_t next() {
    s ^= s >> 12;
    s ^= s << 25;
    s ^= s >> 27;
    return static_cast<uint32_t>((s * 0x2545f4914f6cdd1dull) >> 32);
  }
  int range(int lo, int hi) { return lo + static_cast<int>(next() % (hi - lo + 1)); }
  // Samples: uniform, or (one case in four) from a narrow range or the extremes, where
  // rounding, saturation and ties show.
  void samples(Pel* p, size_t n) {
    const int kind = range(0, 7);
    const int base = range(0, 255);
    for (size_t i = 0; i < n; ++i) {
      if (kind == 0)
        p[i] = static_cast<Pel>(range(0, 1) * 255);
      else if (kind == 1)
        p[i] = static_cast<Pel>(std::min(255, std::max(0, base + range(-2, 2))));
      else
        p[i] = static_cast<Pel>(range(0, 255));
    }
  }
  // Coefficients: sparse small levels, or any 16-bit value (extremes included).
  int16_t coeff(int kind) {
    if (kind == 0) return static_cast<int16_t>(range(0, 3) ? 0 : range(-40, 40));
    if (kind == 1) return static_cast<int16_t>(range(0, 1) ? -32768 : 32767);
    return static_cast<int16_t>(range(-32768, 32767));
  }
};

struct Harness {
  std::string corrupt;  // the kernel whose output is altered ("all": every one)
  // Per kernel, in the order first tested: cases and mismatches at the current level.
  struct Count {
    std::string kernel;
    long cases = 0, mismatches = 0;
  };
  std::vector<Count> counts;
  long failures = 0;

  Count& count(const char* kernel) {
    for (Count& c : counts)
      if (c.kernel == kernel) return c;
    counts.push_back({kernel});
    return counts.back();
  }

  // Compares the outputs of one case; `got` is altered first for the --corrupt kernel.
  template <class T>
  void check(const char* kernel, int size, SimdLevel level, const std::vector<T>& ref,
             std::vector<T>& got, const std::string& detail = "") {
    Count& c = count(kernel);
    ++c.cases;
    if (level != SimdLevel::C && (corrupt == kernel || corrupt == "all")) got[got.size() / 2] ^= 1;
    for (size_t i = 0; i < ref.size(); ++i)
      if (ref[i] != got[i]) {
        if (c.mismatches++ == 0)  // the first case that differs, per kernel and level
          std::printf("MISMATCH %s %s n=%d %s at %zu: C %lld, %s %lld\n",
                      hevc::dsp::simd_level_name(level), kernel, size, detail.c_str(), i,
                      static_cast<long long>(ref[i]), hevc::dsp::simd_level_name(level),
                      static_cast<long long>(got[i]));
        ++failures;
        return;
      }
  }
};

constexpr int kStride = 80;  // picture-like stride of the destination blocks (> 64)
int g_rounds = 300;          // cases per kernel and size (--quick: 30)

void test_intra(Harness& h, Rng& rng, const Kernels& c, const Kernels& k, SimdLevel lv) {
  for (int s = 0; s < 4; ++s) {
    const int n = 4 << s;
    for (int round = 0; round < g_rounds; ++round) {
      Pel left[129], top[129];
      rng.samples(left, 129);
      rng.samples(top, 129);
      top[0] = left[0];
      // Destinations pre-filled alike: a kernel must write the block and nothing else.
      std::vector<Pel> a(kStride * n + 64, 0x5a), b = a;
      c.intra.planar[s](left, top, a.data(), kStride);
      k.intra.planar[s](left, top, b.data(), kStride);
      h.check("intra.planar", n, lv, a, b);
      const bool filter = rng.range(0, 1);
      std::fill(a.begin(), a.end(), 0x5a);
      std::fill(b.begin(), b.end(), 0x5a);
      c.intra.dc[s](left, top, filter, a.data(), kStride);
      k.intra.dc[s](left, top, filter, b.data(), kStride);
      h.check("intra.dc", n, lv, a, b);
      const int mode = 2 + round % 33;
      std::vector<Pel> pa(n * n), pb(n * n);
      c.intra.angular[s](top, left, mode, pa.data());
      k.intra.angular[s](top, left, mode, pb.data());
      h.check("intra.angular", n, lv, pa, pb, "mode " + std::to_string(mode));
      std::fill(a.begin(), a.end(), 0x5a);
      std::fill(b.begin(), b.end(), 0x5a);
      c.intra.transpose[s](pa.data(), a.data(), kStride);
      k.intra.transpose[s](pa.data(), b.data(), kStride);
      h.check("intra.transpose", n, lv, a, b);
    }
  }
}

void test_transform(Harness& h, Rng& rng, const Kernels& c, const Kernels& k, SimdLevel lv) {
  for (int s = 0; s < 4; ++s) {
    const int n = 4 << s;
    for (int round = 0; round < g_rounds; ++round) {
      // Levels within columns 0..max_x and rows 0..max_y, zero elsewhere (the kernels' terms).
      const int max_x = round % 3 ? rng.range(0, n - 1) : n - 1;
      const int max_y = round % 3 ? rng.range(0, n - 1) : n - 1;
      const int kind = rng.range(0, 3);
      std::vector<int16_t> a(n * n, 0);
      for (int y = 0; y <= max_y; ++y)
        for (int x = 0; x <= max_x; ++x) a[y * n + x] = rng.coeff(kind);
      const std::string where =
          "max_x " + std::to_string(max_x) + " max_y " + std::to_string(max_y);
      const int qp = rng.range(0, 51);
      std::vector<int16_t> b = a;
      c.transform.dequant_flat(a.data(), s + 2, qp, max_x, max_y);
      k.transform.dequant_flat(b.data(), s + 2, qp, max_x, max_y);
      h.check("transform.dequant_flat", n, lv, a, b, "qp " + std::to_string(qp) + " " + where);
      b = a;
      c.transform.inverse_dct[s](a.data(), max_x, max_y);
      k.transform.inverse_dct[s](b.data(), max_x, max_y);
      h.check("transform.inverse_dct", n, lv, a, b, where);
      std::vector<int16_t> res(n * n), fa(n * n), fb(n * n);
      for (auto& r : res)
        r = static_cast<int16_t>(kind == 1 ? rng.range(0, 1) * 510 - 255 : rng.range(-255, 255));
      c.transform.forward_dct[s](res.data(), fa.data());
      k.transform.forward_dct[s](res.data(), fb.data());
      h.check("transform.forward_dct", n, lv, fa, fb);
      if (s == 0) {
        std::vector<int16_t> da(16), db;
        for (auto& v : da) v = rng.coeff(kind);
        db = da;
        c.transform.inverse_dst4(da.data());
        k.transform.inverse_dst4(db.data());
        h.check("transform.inverse_dst4", 4, lv, da, db);
        c.transform.forward_dst4(res.data(), da.data());
        k.transform.forward_dst4(res.data(), db.data());
        h.check("transform.forward_dst4", 4, lv, da, db);
      }
      std::vector<Pel> pa(kStride * n + 64);
      rng.samples(pa.data(), pa.size());
      std::vector<Pel> pb = pa;
      std::vector<int16_t> r(n * n);
      for (auto& v : r) v = kind == 1 ? rng.coeff(1) : static_cast<int16_t>(rng.range(-300, 300));
      c.transform.add_residual[s](pa.data(), kStride, r.data());
      k.transform.add_residual[s](pb.data(), kStride, r.data());
      h.check("transform.add_residual", n, lv, pa, pb);
    }
  }
}

void test_pixel(Harness& h, Rng& rng, const Kernels& c, const Kernels& k, SimdLevel lv) {
  std::vector<Pel> org(kStride * 72), pred(kStride * 72);
  for (int s = 0; s < 4; ++s) {
    const int n = 4 << s;
    for (int round = 0; round < g_rounds; ++round) {
      rng.samples(org.data(), org.size());
      rng.samples(pred.data(), pred.size());
      // Picture strides, or contiguous blocks (as the encoder's rough decision passes them).
      const int os = round & 1 ? n : kStride, ps = round & 2 ? n : kStride;
      std::vector<int16_t> ra(n * n), rb(n * n);
      c.pixel.residual[s](org.data(), os, pred.data(), ps, ra.data());
      k.pixel.residual[s](org.data(), os, pred.data(), ps, rb.data());
      h.check("pixel.residual", n, lv, ra, rb);
      std::vector<uint32_t> sa{c.pixel.satd[s](org.data(), os, pred.data(), ps)};
      std::vector<uint32_t> sb{k.pixel.satd[s](org.data(), os, pred.data(), ps)};
      h.check("pixel.satd", n, lv, sa, sb);
    }
  }
  // Any shape: coding blocks, odd sizes, whole (narrow) pictures; extremes for the sums.
  std::vector<Pel> a(400 * 300), b(400 * 300);
  for (int round = 0; round < 4 * g_rounds; ++round) {
    int w, ht, stride;
    if (round % 4 == 0) {
      w = ht = 4 << rng.range(0, 4);
      stride = kStride;
    } else if (round % 4 == 1) {
      w = 400, ht = 300, stride = 400;
    } else {
      w = rng.range(1, 130), ht = rng.range(1, 70), stride = 136;
    }
    if (round % 8 == 0) {
      std::fill(a.begin(), a.end(), 255);
      std::fill(b.begin(), b.end(), 0);
    } else {
      rng.samples(a.data(), a.size());
      rng.samples(b.data(), b.size());
    }
    std::vector<uint64_t> ea{c.pixel.sse(a.data(), stride, b.data(), stride, w, ht)};
    std::vector<uint64_t> eb{k.pixel.sse(a.data(), stride, b.data(), stride, w, ht)};
    h.check("pixel.sse", w, lv, ea, eb, "h " + std::to_string(ht));
    const int sw = std::min(w, 64), sh = std::min(ht, 64);
    std::vector<uint32_t> da{c.pixel.sad(a.data(), stride, b.data(), stride, sw, sh)};
    std::vector<uint32_t> db{k.pixel.sad(a.data(), stride, b.data(), stride, sw, sh)};
    h.check("pixel.sad", sw, lv, da, db, "h " + std::to_string(sh));
  }
}

void test_sao(Harness& h, Rng& rng, const Kernels& c, const Kernels& k, SimdLevel lv) {
  constexpr int kRow = 160;
  const ptrdiff_t nb[4][2] = {{-1, 1}, {-kRow, kRow}, {-kRow - 1, kRow + 1}, {-kRow + 1, kRow - 1}};
  std::vector<Pel> rec(3 * kRow), org(3 * kRow);
  for (int round = 0; round < 4 * g_rounds; ++round) {
    rng.samples(rec.data(), rec.size());
    rng.samples(org.data(), org.size());
    const int n = round % 2 ? rng.range(1, 150) : 16 * rng.range(1, 9);
    const int cls = round % 4;
    const Pel* src = rec.data() + kRow + 1;  // the middle row, from its second sample
    int offset[5] = {0};
    for (int i = 1; i < 5; ++i) offset[i] = rng.range(-7, 7);
    std::vector<Pel> da(3 * kRow, 0x5a), db = da;
    c.sao.edge_apply(src, da.data() + kRow + 1, n, nb[cls][0], nb[cls][1], offset);
    k.sao.edge_apply(src, db.data() + kRow + 1, n, nb[cls][0], nb[cls][1], offset);
    h.check("sao.edge_apply", n, lv, da, db, "class " + std::to_string(cls));
    std::vector<int64_t> sa(10, 3), sb(10, 3);  // count[5], then sum[5]; added to, not set
    c.sao.edge_stats(src, org.data() + kRow + 1, n, nb[cls][0], nb[cls][1], sa.data(),
                     sa.data() + 5);
    k.sao.edge_stats(src, org.data() + kRow + 1, n, nb[cls][0], nb[cls][1], sb.data(),
                     sb.data() + 5);
    sa[0] = sb[0] = sa[5] = sb[5] = 0;  // (category 0's statistics are not kept)
    h.check("sao.edge_stats", n, lv, sa, sb, "class " + std::to_string(cls));
  }
}

// Luma deblocking: stretches of 8 lines across an edge, each line a ramp with a step at the
// edge and noise (or, one case in four, random samples), so that the strong filter, the
// normal one with and without its second samples, and no filtering all occur; tc and beta
// over their whole ranges, sides left alone at random.
void test_deblock(Harness& h, Rng& rng, const Kernels& c, const Kernels& k, SimdLevel lv) {
  constexpr int kSide = 16;  // a 16x16 area, the edge between samples 7 and 8
  for (int round = 0; round < 20 * g_rounds; ++round) {
    const int dir = round % 2;
    std::vector<Pel> a(kSide * kSide);
    const int kind = rng.range(0, 3), noise = rng.range(0, 1) ? 1 : rng.range(2, 6);
    if (kind == 0) {
      rng.samples(a.data(), a.size());
    } else {
      const int base = rng.range(0, 255), slope = rng.range(-3, 3), step = rng.range(-40, 40);
      for (int l = 0; l < kSide; ++l)
        for (int i = 0; i < kSide; ++i) {
          const int v = base + slope * i + (i >= 8 ? step : 0) + rng.range(-noise, noise) / 2;
          (dir ? a[i * kSide + l] : a[l * kSide + i]) = static_cast<Pel>(std::clamp(v, 0, 255));
        }
    }
    hevc::dsp::DeblockSegment seg[2];
    for (auto& g : seg) {
      g.tc = rng.range(0, 3) ? rng.range(1, 24) : 0;
      g.beta = rng.range(0, 64);
      g.no_p = rng.range(0, 3) == 0;
      g.no_q = rng.range(0, 3) == 0;
    }
    std::vector<Pel> b = a;
    Pel* qa = a.data() + (dir ? 8 * kSide + 4 : 4 * kSide + 8);  // q0 of the stretch's line 0
    Pel* qb = b.data() + (qa - a.data());
    c.deblock.luma[dir](qa, kSide, seg);
    k.deblock.luma[dir](qb, kSide, seg);
    h.check("deblock.luma", 8, lv, a, b, dir ? "horizontal" : "vertical");
  }
}

// Motion compensation: every prediction block width and height of luma and chroma, every
// fraction pair, sources with extremes; averages and weights over the whole int16 range too.
void test_inter(Harness& h, Rng& rng, const Kernels& c, const Kernels& k, SimdLevel lv) {
  constexpr int kSrcStride = 80;  // a 64-sample block and its 7 filter samples
  std::vector<Pel> src(kSrcStride * 72);
  for (int luma = 1; luma >= 0; --luma) {
    const int sizes[8] = {4, 8, 12, 16, 24, 32, 48, 64};
    const int fracs = luma ? 4 : 8, off = luma ? 3 : 1;
    for (int wi = 0; wi < 8; ++wi)
      for (int hi = 0; hi < 8; ++hi) {
        const int w = luma ? sizes[wi] : sizes[wi] / 2, ht = luma ? sizes[hi] : sizes[hi] / 2;
        for (int f = 0; f < fracs * fracs; ++f) {
          if (rng.range(0, 299) >= g_rounds) continue;  // --quick: a tenth of the cases
          const int fx = f % fracs, fy = f / fracs;
          rng.samples(src.data(), src.size());
          const Pel* s = src.data() + off * kSrcStride + off;
          std::vector<int16_t> a(w * ht), b(w * ht);
          const Kernels* both[2] = {&c, &k};
          std::vector<int16_t>* out[2] = {&a, &b};
          const char* name = "inter.copy";
          for (int i = 0; i < 2; ++i) {
            const InterKernels& t = both[i]->inter;
            int16_t* d = out[i]->data();
            if (fx && fy) {
              (luma ? t.luma_hv : t.chroma_hv)(s, kSrcStride, w, ht, fx, fy, d);
              name = luma ? "inter.luma_hv" : "inter.chroma_hv";
            } else if (fx) {
              (luma ? t.luma_h : t.chroma_h)(s, kSrcStride, w, ht, fx, d);
              name = luma ? "inter.luma_h" : "inter.chroma_h";
            } else if (fy) {
              (luma ? t.luma_v : t.chroma_v)(s, kSrcStride, w, ht, fy, d);
              name = luma ? "inter.luma_v" : "inter.chroma_v";
            } else {
              t.copy(s, kSrcStride, w, ht, d);
            }
          }
          const std::string where = std::to_string(w) + "x" + std::to_string(ht) + " frac " +
                                    std::to_string(fx) + "," + std::to_string(fy);
          h.check(name, w, lv, a, b, where);
          // The averages of this block's prediction with another (or any int16 values).
          std::vector<int16_t> p0 = a, p1(w * ht);
          for (auto& v : p1) v = static_cast<int16_t>(rng.range(-10000, 26000));
          if (f % 5 == 0)
            for (auto& v : p0) v = rng.coeff(rng.range(1, 2));
          std::vector<Pel> da(kStride * ht + 64), db;
          // Destinations pre-filled alike before each kernel (a --corrupt flip must not stay).
          auto fill = [&] {
            std::fill(da.begin(), da.end(), 0x5a);
            db = da;
          };
          fill();
          c.inter.avg_uni(p0.data(), w, ht, da.data(), kStride);
          k.inter.avg_uni(p0.data(), w, ht, db.data(), kStride);
          h.check("inter.avg_uni", w, lv, da, db, where);
          fill();
          c.inter.avg_bi(p0.data(), p1.data(), w, ht, da.data(), kStride);
          k.inter.avg_bi(p0.data(), p1.data(), w, ht, db.data(), kStride);
          h.check("inter.avg_bi", w, lv, da, db, where);
          const int log2wd = rng.range(6, 13), w0 = rng.range(-128, 255), w1 = rng.range(-128, 255);
          const int o0 = rng.range(-128, 127), o1 = rng.range(-128, 127);
          const std::string wd = where + " log2wd " + std::to_string(log2wd) + " w " +
                                 std::to_string(w0) + "," + std::to_string(w1) + " o " +
                                 std::to_string(o0) + "," + std::to_string(o1);
          fill();
          c.inter.weight_uni(p0.data(), w, ht, w0, o0, log2wd, da.data(), kStride);
          k.inter.weight_uni(p0.data(), w, ht, w0, o0, log2wd, db.data(), kStride);
          h.check("inter.weight_uni", w, lv, da, db, wd);
          fill();
          c.inter.weight_bi(p0.data(), p1.data(), w, ht, w0, w1, o0, o1, log2wd, da.data(),
                            kStride);
          k.inter.weight_bi(p0.data(), p1.data(), w, ht, w0, w1, o0, o1, log2wd, db.data(),
                            kStride);
          h.check("inter.weight_bi", w, lv, da, db, wd);
        }
      }
  }
}

}  // namespace

int main(int argc, char** argv) {
  Harness h;
  for (int i = 1; i < argc; ++i) {
    if (!std::strcmp(argv[i], "--list")) {
      std::printf("supported:");
      for (int l = 0; l <= static_cast<int>(hevc::dsp::best_simd_level()); ++l)
        std::printf(" %s", hevc::dsp::simd_level_name(static_cast<SimdLevel>(l)));
      std::printf("\nactive: %s\n", hevc::dsp::simd_level_name(hevc::dsp::simd_level()));
      // How many table entries each level replaces (the table holds only function pointers).
      using Entry = void (*)();
      constexpr size_t kEntries = sizeof(Kernels) / sizeof(Entry);
      for (int l = 1; l <= static_cast<int>(hevc::dsp::best_simd_level()); ++l) {
        const Kernels below = hevc::dsp::kernels_for(static_cast<SimdLevel>(l - 1));
        const Kernels own = hevc::dsp::kernels_for(static_cast<SimdLevel>(l));
        Entry a[kEntries], b[kEntries];
        std::memcpy(a, &below, sizeof(a));
        std::memcpy(b, &own, sizeof(b));
        int replaced = 0;
        for (size_t e = 0; e < kEntries; ++e) replaced += a[e] != b[e];
        std::printf("%s replaces %d of %zu kernels\n",
                    hevc::dsp::simd_level_name(static_cast<SimdLevel>(l)), replaced, kEntries);
      }
      return 0;
    }
    if (!std::strcmp(argv[i], "--quick")) {
      g_rounds = 30;
    } else if (!std::strcmp(argv[i], "--corrupt") && i + 1 < argc) {
      h.corrupt = argv[++i];
    } else {
      std::fprintf(stderr, "error: unknown argument %s (--list, --quick, --corrupt KERNEL)\n",
                   argv[i]);
      return 2;
    }
  }
  const Kernels c = hevc::dsp::kernels_for(SimdLevel::C);
  const int best = static_cast<int>(hevc::dsp::best_simd_level());
  for (int l = 0; l <= best; ++l) {
    const SimdLevel lv = static_cast<SimdLevel>(l);
    const Kernels k = hevc::dsp::kernels_for(lv);
    h.counts.clear();
    Rng rng;
    test_intra(h, rng, c, k, lv);
    test_transform(h, rng, c, k, lv);
    test_pixel(h, rng, c, k, lv);
    test_sao(h, rng, c, k, lv);
    test_inter(h, rng, c, k, lv);
    test_deblock(h, rng, c, k, lv);
    for (const Harness::Count& n : h.counts)
      std::printf("%s %s: %ld cases, %ld mismatches\n", hevc::dsp::simd_level_name(lv),
                  n.kernel.c_str(), n.cases, n.mismatches);
  }
  return h.failures ? 1 : 0;
}
