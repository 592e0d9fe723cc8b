#include "scan.h"

#include <cstddef>

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

}  // namespace

ScanTables::ScanTables() {
  for (int l = 0; l < 6; ++l)
    for (int s = 0; s < 3; ++s) order[l][s] = build(l, s);
  for (int l = 2; l < 6; ++l) {
    const int n = 1 << l;
    for (int s = 0; s < 3; ++s) {
      auto& c = coeff[l][s];
      for (const ScanPos& sb : order[l - 2][s])
        for (const ScanPos& p : order[2][s])
          c.push_back(static_cast<uint16_t>(((sb.y << 2) + p.y) * n + (sb.x << 2) + p.x));
      coeff_pos[l][s].resize(c.size());
      for (size_t k = 0; k < c.size(); ++k) coeff_pos[l][s][c[k]] = static_cast<uint16_t>(k);
    }
  }
}

const ScanTables& scan_tables() {
  static const ScanTables t;
  return t;
}

}  // namespace hevc
