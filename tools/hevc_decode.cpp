// hevc-decode: decodes an Annex B stream to raw I420 without Python, for the sanitizer build
// and for benchmarks. Usage: hevc-decode -b stream.bin [-o out.yuv] [-q]
#include <cstdio>
#include <cstring>
#include <fstream>
#include <iostream>
#include <vector>

#include "decoder.h"

int main(int argc, char** argv) {
  const char* in = nullptr;
  const char* out = nullptr;
  bool quiet = false;
  for (int i = 1; i < argc; ++i) {
    if (!std::strcmp(argv[i], "-b") && i + 1 < argc)
      in = argv[++i];
    else if (!std::strcmp(argv[i], "-o") && i + 1 < argc)
      out = argv[++i];
    else if (!std::strcmp(argv[i], "-q"))
      quiet = true;
    else {
      std::fprintf(stderr, "usage: hevc-decode -b stream.bin [-o out.yuv] [-q]\n");
      return 2;
    }
  }
  if (!in) {
    std::fprintf(stderr, "usage: hevc-decode -b stream.bin [-o out.yuv] [-q]\n");
    return 2;
  }
  std::ifstream f(in, std::ios::binary);
  if (!f) {
    std::fprintf(stderr, "error: cannot open %s\n", in);
    return 2;
  }
  std::vector<uint8_t> data((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
  FILE* fo = out ? std::fopen(out, "wb") : nullptr;
  if (out && !fo) {
    std::fprintf(stderr, "error: cannot write %s\n", out);
    return 2;
  }
  int mismatches = 0;
  hevc::Decoder dec;
  dec.on_decoded = [&](const hevc::PictureReport& r) {
    const char* h = r.hash == hevc::HashStatus::Ok
                        ? "OK"
                        : (r.hash == hevc::HashStatus::Mismatch ? "MISMATCH" : "absent");
    if (r.hash == hevc::HashStatus::Mismatch) ++mismatches;
    if (!quiet) std::printf("POC %4d %c-SLICE QP %2d hash %s\n", r.poc, r.slice_type, r.qp, h);
  };
  dec.on_output = [&](const hevc::OutputPicture& o) {
    if (!fo) return;
    for (int c = 0; c < 3; ++c) {
      const hevc::Plane& p = o.frame->planes[c];
      const int sh = c ? 1 : 0;
      const int x0 = o.crop_left >> sh, y0 = o.crop_top >> sh;
      const int w = p.width - ((o.crop_left + o.crop_right) >> sh);
      const int h = p.height - ((o.crop_top + o.crop_bottom) >> sh);
      for (int y = 0; y < h; ++y) std::fwrite(p.row(y0 + y) + x0, 1, w, fo);
    }
  };
  try {
    dec.decode(data.data(), data.size());
    dec.finish();
  } catch (const hevc::BitstreamError& e) {
    std::fprintf(stderr, "error: %s\n", e.what());
    if (fo) std::fclose(fo);
    return 2;
  }
  if (fo) std::fclose(fo);
  return mismatches ? 1 : 0;
}
