#include "residual_ctx.h"

#include "scan.h"

namespace hevc {

const SigCtxTable& sig_ctx_table() {
  static const struct Table {
    SigCtxTable t;
    Table() : t{} {
      for (int size = 0; size < 3; ++size)
        for (int chroma = 0; chroma < 2; ++chroma)
          for (int scan = 0; scan < 3; ++scan)
            for (int csbf = 0; csbf < 4; ++csbf)
              for (int first = 0; first < 2; ++first) {
                // Any sub-block other than the first stands for all of them: (1, 0) exists in
                // every block of 8x8 and larger, and 4x4 blocks have only the first.
                const int xs = first || size == 0 ? 0 : 1;
                const auto& sc4 = scan_order(2, scan);
                for (int p = 0; p < 16; ++p)
                  t[size][chroma][scan][csbf][first][p] = static_cast<uint8_t>(
                      sig_ctx(size + 2, chroma, (xs << 2) + sc4[p].x, sc4[p].y, csbf, scan));
              }
    }
  } table;
  return table.t;
}

}  // namespace hevc
