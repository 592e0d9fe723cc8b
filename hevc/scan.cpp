#include "scan.h"

#include <array>

namespace hevc {

namespace {

std::vector<ScanPos> build(int log2_size, int scan_idx) {
  int n = 1 << log2_size;
  std::vector<ScanPos> out;
  out.reserve(n * n);
  if (scan_idx == 0) {
    int x = 0, y = 0;
    while (static_cast<int>(out.size()) < n * n) {
      while (y >= 0) {
        if (x < n && y < n) out.push_back({static_cast<uint8_t>(x), static_cast<uint8_t>(y)});
        --y;
        ++x;
      }
      y = x;
      x = 0;
    }
  } else {
    for (int a = 0; a < n; ++a)
      for (int b = 0; b < n; ++b)
        out.push_back(scan_idx == 1 ? ScanPos{static_cast<uint8_t>(b), static_cast<uint8_t>(a)}
                                    : ScanPos{static_cast<uint8_t>(a), static_cast<uint8_t>(b)});
  }
  return out;
}

struct Tables {
  std::array<std::array<std::vector<ScanPos>, 3>, 6> t;
  Tables() {
    for (int l = 0; l < 6; ++l)
      for (int s = 0; s < 3; ++s) t[l][s] = build(l, s);
  }
};

}  // namespace

const std::vector<ScanPos>& scan_order(int log2_size, int scan_idx) {
  static const Tables tables;
  return tables.t[log2_size][scan_idx];
}

}  // namespace hevc
