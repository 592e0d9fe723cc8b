// hevc-hash-bench: speed of the decoded-picture hashes (MD5, CRC, checksum) on one I420 picture,
// for bench/hash.py. Usage: hevc-hash-bench -i picture.yuv -w W -h H [-n N]
// Prints one line per hash type: its value, then the best of 5 runs of N hashes in microseconds
// per picture and in MB/s of samples. Exits 1 when the same samples in planes with a wider
// stride (the decoder's are not padded, so only this reaches that path) hash differently.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <string>
#include <utility>

#include "picture_hash.h"

int main(int argc, char** argv) {
  const char* in = nullptr;
  int w = 0, h = 0, n = 200;
  for (int i = 1; i + 1 < argc; i += 2) {
    if (!std::strcmp(argv[i], "-i")) in = argv[i + 1];
    if (!std::strcmp(argv[i], "-w")) w = std::atoi(argv[i + 1]);
    if (!std::strcmp(argv[i], "-h")) h = std::atoi(argv[i + 1]);
    if (!std::strcmp(argv[i], "-n")) n = std::atoi(argv[i + 1]);
  }
  if (!in || w <= 0 || h <= 0 || w % 2 || h % 2 || n <= 0) {
    std::fprintf(stderr, "usage: hevc-hash-bench -i picture.yuv -w W -h H [-n N]\n");
    return 2;
  }
  hevc::Frame f;
  f.alloc(w, h);
  std::ifstream file(in, std::ios::binary);
  for (auto& p : f.planes)
    file.read(reinterpret_cast<char*>(p.buf.data()), static_cast<std::streamsize>(p.buf.size()));
  if (!file) {
    std::fprintf(stderr, "error: %s: cannot read a %dx%d I420 picture\n", in, w, h);
    return 2;
  }
  hevc::Frame padded;
  for (int c = 0; c < 3; ++c) {
    const hevc::Plane& p = f.planes[c];
    hevc::Plane& q = padded.planes[c];
    q.width = p.width;
    q.height = p.height;
    q.stride = p.width + 13;
    q.buf.assign(static_cast<size_t>(q.stride) * q.height, 0xAA);
    for (int y = 0; y < p.height; ++y) std::copy(p.row(y), p.row(y) + p.width, q.row(y));
  }
  const double bytes = 1.5 * w * h;
  for (auto [type, name] : {std::pair{hevc::HashType::MD5, "md5"},
                            {hevc::HashType::CRC, "crc"},
                            {hevc::HashType::Checksum, "checksum"}}) {
    double best = 1e30;
    for (int run = 0; run < 5; ++run) {
      const auto t0 = std::chrono::steady_clock::now();
      for (int i = 0; i < n; ++i) hevc::frame_hash(type, f);  // in another unit: not elided
      const std::chrono::duration<double> dt = std::chrono::steady_clock::now() - t0;
      best = std::min(best, dt.count() / n);
    }
    const hevc::PictureHash value = hevc::frame_hash(type, f);
    if (!hevc::hashes_equal(value, hevc::frame_hash(type, padded))) {
      std::fprintf(stderr, "error: %s differs on planes with a wider stride\n", name);
      return 1;
    }
    const std::string hex = hevc::hash_hex(value);
    std::printf("%s %s %.1f us %.1f MB/s\n", name, hex.c_str(), best * 1e6, bytes / best / 1e6);
  }
  return 0;
}
