#include "cu_tree.h"

namespace hevc {

CuTree cu_tree_of(const CodingInfo& info) {
  CuTree t;
  t.w8 = (info.geo().width + 7) >> 3;
  t.h8 = (info.geo().height + 7) >> 3;
  t.units.reserve(static_cast<size_t>(t.w8) * t.h8);
  for (int y = 0; y < t.h8; ++y)
    for (int x = 0; x < t.w8; ++x) {
      const BlockInfo& b = info.blk(x << 3, y << 3);
      t.units.push_back(static_cast<uint8_t>(b.cu_log2 | b.part_mode << 4));
    }
  return t;
}

std::string check_cu_tree(const CuTree& tree, const Sps& sps) {
  const int W = static_cast<int>(sps.width), H = static_cast<int>(sps.height);
  if (tree.w8 != (W + 7) >> 3 || tree.h8 != (H + 7) >> 3 ||
      tree.units.size() != static_cast<size_t>(tree.w8) * tree.h8)
    return "CU tree: " + std::to_string(tree.w8) + "x" + std::to_string(tree.h8) +
           " units for a picture of " + std::to_string((W + 7) >> 3) + "x" +
           std::to_string((H + 7) >> 3);
  for (int y = 0; y < H; y += 8)
    for (int x = 0; x < W; x += 8) {
      const int log2 = tree.log2_at(x, y), part = tree.part_at(x, y);
      const std::string where =
          "CU tree at (" + std::to_string(x) + "," + std::to_string(y) + "): ";
      if (log2 < sps.min_cb_log2() || log2 > sps.ctb_log2())
        return where + "CU size 2^" + std::to_string(log2) + " outside the SPS's range";
      if (part != 0 && !(part == 3 && log2 == sps.min_cb_log2() && log2 > sps.min_tb_log2()))
        return where + "PartMode " + std::to_string(part) + " not allowed for this CU";
      const int size = 1 << log2;
      const int x0 = x & ~(size - 1), y0 = y & ~(size - 1);
      if (x0 + size > W || y0 + size > H) return where + "the CU crosses the picture's edge";
      // Every unit agrees with the top-left unit of the CU it claims, and every unit covered by
      // a CU agrees with that CU's top-left unit.
      if (tree.at(x, y) != tree.at(x0, y0)) return where + "units of one CU disagree";
      if (x == x0 && y == y0)
        for (int v = y; v < y + size; v += 8)
          for (int u = x; u < x + size; u += 8)
            if (tree.at(u, v) != tree.at(x, y)) return where + "units of one CU disagree";
    }
  return "";
}

}  // namespace hevc
