// Picture buffers and the per-block coding information shared by the decoder, the encoder and
// the loop filters.
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <vector>

#include "common.h"
#include "params.h"

namespace hevc {

struct Plane {
  int width = 0, height = 0, stride = 0;
  std::vector<Pel> buf;
  void alloc(int w, int h) {
    width = w;
    height = h;
    stride = w;
    buf.assign(static_cast<size_t>(w) * h, 0);
  }
  Pel* row(int y) { return buf.data() + static_cast<size_t>(y) * stride; }
  const Pel* row(int y) const { return buf.data() + static_cast<size_t>(y) * stride; }
  Pel& at(int x, int y) { return buf[static_cast<size_t>(y) * stride + x]; }
  Pel at(int x, int y) const { return buf[static_cast<size_t>(y) * stride + x]; }
};

struct Frame {
  std::array<Plane, 3> planes;
  void alloc(int w, int h) {
    planes[0].alloc(w, h);
    planes[1].alloc(w / 2, h / 2);
    planes[2].alloc(w / 2, h / 2);
  }
};

// Flags in BlockInfo::flags.
enum BlockFlag : uint8_t {
  kBfSkip = 1,
  kBfPcm = 2,
  kBfBypass = 4,
  kBfCbfY = 8,
  kBfCbfCb = 16,
  kBfCbfCr = 32,
  kBfTskipY = 64,
  kBfTskipC = 128,  // transform skip of the chroma blocks (Cb and Cr tracked in tskip_c)
};

// Coding information for one 4x4 luma block.
struct BlockInfo {
  uint8_t cu_log2 = 0;        // log2 size of the coding unit
  uint8_t tu_log2 = 0;        // log2 size of the luma transform block
  uint8_t pred_mode = 0;      // PredMode
  uint8_t part_mode = 0;      // 0 = 2Nx2N, 3 = NxN (intra)
  uint8_t intra_mode = 1;     // luma intra prediction mode of the PU
  uint8_t chroma_syntax = 4;  // intra_chroma_pred_mode syntax value of the CU
  int8_t qp = 0;              // QpY
  uint8_t flags = 0;
  uint8_t tskip_c = 0;  // bit0 Cb, bit1 Cr
};

// SAO parameters of one CTB.
struct SaoParams {
  uint8_t type[3] = {0, 0, 0};  // 0 off, 1 band, 2 edge
  uint8_t band_pos[3] = {0, 0, 0};
  uint8_t eo_class[3] = {0, 0, 0};
  int8_t offset[3][4] = {{0, 0, 0, 0}, {0, 0, 0, 0}, {0, 0, 0, 0}};  // SaoOffsetVal[1..4]
  uint8_t merge_left = 0, merge_up = 0;
};

// Loop-filter controls of a slice, as the per-CTB filters need them.
struct SliceFilterInfo {
  uint8_t deblocking_disabled = 0, lf_across_slices = 1, sao_luma = 0, sao_chroma = 0;
  int8_t beta_offset_div2 = 0, tc_offset_div2 = 0;
  int slice_addr = 0;  // SliceAddrRs
};

// Everything known about a picture's coding: per-4x4 block info, per-CTB slice membership and SAO.
class CodingInfo {
 public:
  // clear_blocks = false leaves the per-block information of the previous picture of the same
  // size, for a caller that writes every block before reading it (the decoder: a picture
  // whose CTUs are not all decoded is an error).
  void init(const Sps& sps, const Pps& pps, bool clear_blocks = true);
  const PicGeometry& geo() const { return geo_; }
  int w4() const { return w4_; }
  int h4() const { return h4_; }
  BlockInfo& blk(int x, int y) { return blocks_[static_cast<size_t>(y >> 2) * w4_ + (x >> 2)]; }
  const BlockInfo& blk(int x, int y) const {
    return blocks_[static_cast<size_t>(y >> 2) * w4_ + (x >> 2)];
  }
  // Fills the blocks covering a luma rectangle with the same info.
  void fill(int x, int y, int w, int h, const BlockInfo& b);
  template <class F>
  void for_each(int x, int y, int w, int h, F f) {
    for (int j = y >> 2; j < (y + h) >> 2; ++j)
      for (int i = x >> 2; i < (x + w) >> 2; ++i) f(blocks_[static_cast<size_t>(j) * w4_ + i]);
  }
  uint32_t zs(int x, int y) const { return zscan_[static_cast<size_t>(y >> 2) * w4_ + (x >> 2)]; }
  int ctb_rs(int x, int y) const {
    return (y >> geo_.ctb_log2) * geo_.w_ctb + (x >> geo_.ctb_log2);
  }

  // z-scan availability (6.4.1) of the block containing (xn, yn) for the block at (xc, yc).
  bool available(int xc, int yc, int xn, int yn) const {
    return available_for(zs(xc, yc), ctb_rs(xc, yc), xn, yn);
  }
  // available() of the n blocks at (xn + k * dx, yn + k * dy), into out[k]; the current block's
  // z-scan address and CTB looked up once.
  void available_run(int xc, int yc, int xn, int yn, int dx, int dy, int n, bool* out) const {
    const uint32_t zc = zs(xc, yc);
    const int ctb = ctb_rs(xc, yc);
    for (int k = 0; k < n; ++k) out[k] = available_for(zc, ctb, xn + k * dx, yn + k * dy);
  }

  // Per-CTB state.
  std::vector<int> ctb_slice_;       // SliceAddrRs of the slice containing the CTB, -1 if not coded
  std::vector<int> ctb_filter_idx_;  // index into slice_filters_
  std::vector<SliceFilterInfo> slice_filters_;
  std::vector<SaoParams> sao_;

 private:
  // available() given the current block's z-scan address and CTB.
  bool available_for(uint32_t zc, int ctb, int xn, int yn) const {
    if (xn < 0 || yn < 0 || xn >= geo_.width || yn >= geo_.height) return false;
    if (zs(xn, yn) > zc) return false;
    const int a = ctb_rs(xn, yn);
    if (a == ctb) return true;
    return ctb_slice_[a] == ctb_slice_[ctb] && ctb_slice_[a] >= 0 &&
           geo_.tile_id_rs(a) == geo_.tile_id_rs(ctb);
  }
  PicGeometry geo_;
  int w4_ = 0, h4_ = 0;
  std::vector<BlockInfo> blocks_;
  std::vector<uint32_t> zscan_;
};

}  // namespace hevc
