// hevc-encode: encodes raw I420 without Python, for benchmarks and sanitizer runs.
// Usage: hevc-encode -i in.yuv -wdt W -hgt H [-f N] [-q QP] [-b out.bin] [-o rec.yuv]
// [--field=value] [--cu-tree-out=FILE] [--cu-tree-in=FILE]. Fields are the encoder settings'
// names as cnnfilter.config maps HM keys to them (e.g. --sao=0). The CU-tree files hold each
// picture's coding tree (hevc/encoder/cu_tree.h): written as decided, or read and forced.
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <stdexcept>
#include <string>
#include <vector>

#include "encoder/encoder.h"

int main(int argc, char** argv) {
  hevc::EncoderConfig cfg;
  const char *in = nullptr, *bs = nullptr, *rec = nullptr;
  std::string tree_out, tree_in;  // CU trees, one picture's units after another (cu_tree.h)
  int frames = 1;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    auto next = [&]() { return i + 1 < argc ? argv[++i] : ""; };
    if (a == "-i") {
      in = next();
    } else if (a == "-b") {
      bs = next();
    } else if (a == "-o") {
      rec = next();
    } else if (a == "-wdt") {
      cfg.width = std::atoi(next());
    } else if (a == "-hgt") {
      cfg.height = std::atoi(next());
    } else if (a == "-f") {
      frames = std::atoi(next());
    } else if (a == "-q") {
      cfg.qp = std::atoi(next());
    } else if (a.rfind("--cu-tree-out=", 0) == 0) {
      tree_out = a.substr(14);
    } else if (a.rfind("--cu-tree-in=", 0) == 0) {
      tree_in = a.substr(13);
    } else if (a.rfind("--", 0) == 0 && a.find('=') != std::string::npos) {
      const std::string k = a.substr(2, a.find('=') - 2);
      if (!cfg.set(k, std::atof(a.substr(a.find('=') + 1).c_str()))) {
        std::fprintf(stderr, "error: unknown encoder setting %s\n", k.c_str());
        return 2;
      }
    } else {
      std::fprintf(stderr, "error: unknown argument %s\n", a.c_str());
      return 2;
    }
  }
  if (!in || cfg.width <= 0 || cfg.height <= 0) {
    std::fprintf(stderr,
                 "usage: hevc-encode -i in.yuv -wdt W -hgt H [-f N] [-q QP] [-b out.bin] [-o "
                 "rec.yuv] [--field=value] [--cu-tree-out=FILE] [--cu-tree-in=FILE]\n");
    return 2;
  }
  FILE* fi = std::fopen(in, "rb");
  if (!fi) {
    std::fprintf(stderr, "error: cannot open %s\n", in);
    return 2;
  }
  try {
    hevc::Encoder enc(cfg);
    // A named file that cannot be opened is an error, never a silently skipped output.
    auto open = [](const char* path, const char* mode) -> FILE* {
      if (!path || !*path) return nullptr;
      FILE* f = std::fopen(path, mode);
      if (!f) throw std::runtime_error(std::string("cannot open ") + path);
      return f;
    };
    FILE* fb = open(bs, "wb");
    FILE* fr = open(rec, "wb");
    FILE* ft_out = open(tree_out.c_str(), "wb");
    FILE* ft_in = open(tree_in.c_str(), "rb");
    const hevc::Sps& sps = enc.sps();
    hevc::CuTree tree;
    tree.w8 = static_cast<int>(sps.width + 7) >> 3;
    tree.h8 = static_cast<int>(sps.height + 7) >> 3;
    const size_t ysz = static_cast<size_t>(cfg.width) * cfg.height, csz = ysz / 4;
    std::vector<uint8_t> buf(ysz + 2 * csz);
    double total_bits = 0, total_s = 0;
    for (int f = 0; f < frames; ++f) {
      if (std::fread(buf.data(), 1, buf.size(), fi) != buf.size()) {
        std::fprintf(stderr, "error: %s has fewer than %d frames\n", in, frames);
        return 2;
      }
      if (ft_in) {
        tree.units.resize(static_cast<size_t>(tree.w8) * tree.h8);
        if (std::fread(tree.units.data(), 1, tree.units.size(), ft_in) != tree.units.size()) {
          std::fprintf(stderr, "error: %s has no CU tree for picture %d\n", tree_in.c_str(), f);
          return 2;
        }
        enc.force_cu_tree(tree);
      }
      auto r = enc.encode(buf.data(), cfg.width, buf.data() + ysz, cfg.width / 2,
                          buf.data() + ysz + csz, cfg.width / 2);
      if (fb) std::fwrite(r.bytes.data(), 1, r.bytes.size(), fb);
      if (ft_out) std::fwrite(enc.cu_tree().units.data(), 1, enc.cu_tree().units.size(), ft_out);
      double psnr[3];
      for (int c = 0; c < 3; ++c) {
        const double n = c ? csz : ysz;
        psnr[c] = r.sse[c] ? 10 * std::log10(255.0 * 255.0 * n / r.sse[c]) : 999.99;
      }
      std::printf("POC %4d %c QP %d %8llu bits Y %.4f U %.4f V %.4f %.3f s\n", r.poc, r.slice_type,
                  r.qp, static_cast<unsigned long long>(r.bits), psnr[0], psnr[1], psnr[2],
                  r.seconds);
      total_bits += r.bits;
      total_s += r.seconds;
      if (fr) {
        const hevc::Frame& rf = enc.recon();
        for (int c = 0; c < 3; ++c) {
          const int sh = c ? 1 : 0;
          for (int y = 0; y < (cfg.height >> sh); ++y)
            std::fwrite(rf.planes[c].row(y), 1, cfg.width >> sh, fr);
        }
      }
    }
    std::printf("%d frames, %.0f bits, %.3f s/frame\n", frames, total_bits, total_s / frames);
    if (fb) std::fclose(fb);
    if (fr) std::fclose(fr);
    if (ft_out) std::fclose(ft_out);
    if (ft_in) std::fclose(ft_in);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "error: %s\n", e.what());
    return 2;
  }
  std::fclose(fi);
  return 0;
}
