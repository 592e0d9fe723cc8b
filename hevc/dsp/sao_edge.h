// SAO's edge-offset categories (8.7.3.2), shared by the SAO tools and their kernels.
#pragma once

namespace hevc {

// Raw 2 + sign(c - a) + sign(c - b) mapped to the edge category of 8.7.3.2.
inline constexpr int kSaoEdgeCat[5] = {1, 2, 0, 3, 4};
// Edge-offset category of sample c between its neighbours a and b.
inline int sao_edge_cat(int c, int a, int b) {
  return kSaoEdgeCat[2 + ((c > a) - (c < a)) + ((c > b) - (c < b))];
}

}  // namespace hevc
