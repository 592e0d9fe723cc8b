#include "cnn_signal.h"

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <stdexcept>

#include "bitstream.h"

namespace hevc {

const std::array<uint8_t, 16> kCnnSeiUuid = {0x26, 0xf9, 0x5e, 0x15, 0x72, 0x8c, 0x4e, 0x9e,
                                             0xb7, 0x5e, 0x70, 0xe7, 0x14, 0x0b, 0xb4, 0x22};

namespace {

constexpr int kVersion = 1;
constexpr size_t kMaxExtBytes = 256;

// Flags of one component: a bitmap or run lengths, whichever is shorter (method bit first).
template <class IO>
void flags_syntax(IO& io, std::vector<uint8_t>& flags, int n) {
  uint8_t rle = 0;
  if (!IO::reading) {
    // Runs: first value, then ue(run - 1) per run.
    BitWriter probe;
    for (int i = 0; i < n;) {
      int j = i;
      while (j < n && flags[j] == flags[i]) ++j;
      probe.ue(static_cast<uint32_t>(j - i - 1));
      i = j;
    }
    rle = probe.bits() + 1 < static_cast<size_t>(n);
  }
  io.flag(rle);
  if (IO::reading) flags.assign(n, 0);
  if (!rle) {
    for (int i = 0; i < n; ++i) io.flag(flags[i]);
    return;
  }
  uint8_t value = IO::reading ? 0 : flags[0];
  io.flag(value);
  for (int i = 0; i < n;) {
    uint32_t run_minus1 = 0;
    if (!IO::reading) {
      int j = i;
      while (j < n && flags[j] == flags[i]) ++j;
      run_minus1 = static_cast<uint32_t>(j - i - 1);
    }
    io.ue(run_minus1, static_cast<uint32_t>(n - i - 1));
    for (uint32_t k = 0; k <= run_minus1; ++k) flags[i + k] = value;
    i += static_cast<int>(run_minus1) + 1;
    value ^= 1;
  }
}

template <class IO>
void ext_syntax(IO& io, CnnSliceExt& e, int n) {
  uint32_t version = kVersion, mode = static_cast<uint32_t>(e.mode);
  uint8_t chroma = e.chroma;
  io.u(version, 4);
  if (IO::reading && version != kVersion)
    throw UnsupportedError("the stream's CNN signalling has version " + std::to_string(version) +
                           ", this decoder reads version 1");
  io.u(mode, 2);
  io.flag(chroma);
  if (IO::reading && mode > 2) fail("corrupt CNN slice header extension (mode 3)");
  e.mode = static_cast<CnnMode>(mode);
  e.chroma = chroma;
  if (e.mode == CnnMode::PerCtu) {
    flags_syntax(io, e.luma, n);
    if (e.chroma) flags_syntax(io, e.chroma_flags, n);
  }
}

}  // namespace

std::vector<uint8_t> write_cnn_ext(const CnnSliceExt& ext) {
  BitWriter w;
  w.u(kCnnExtTag, 8);
  WriteIO io{w};
  CnnSliceExt e = ext;
  ext_syntax(io, e, static_cast<int>(e.luma.size()));
  w.align_zero();
  std::vector<uint8_t> out = w.take();
  if (out.size() > kMaxExtBytes)
    throw std::length_error("CNN flags exceed the 256-byte slice header extension");
  return out;
}

bool read_cnn_ext(const std::vector<uint8_t>& bytes, int num_ctus, CnnSliceExt& ext) {
  if (bytes.empty() || bytes[0] != kCnnExtTag) return false;
  BitReader r(bytes.data(), bytes.size());
  r.u(8);
  ReadIO io{r};
  ext = CnnSliceExt{};
  ext_syntax(io, ext, num_ctus);
  return true;
}

std::vector<uint8_t> write_cnn_sei_payload(const CnnSei& sei) {
  std::vector<uint8_t> p;
  p.push_back(kVersion);
  p.insert(p.end(), sei.identity.begin(), sei.identity.end());
  const size_t n = std::min<size_t>(sei.inference_mode.size(), 255);
  p.push_back(static_cast<uint8_t>(n));
  p.insert(p.end(), sei.inference_mode.begin(),
           sei.inference_mode.begin() + static_cast<ptrdiff_t>(n));
  return p;
}

bool read_cnn_sei_payload(const std::vector<uint8_t>& p, CnnSei& sei) {
  const std::string what = "the model set identification SEI";
  if (p.empty()) fail(what + " is empty");
  if (p[0] != kVersion)
    throw UnsupportedError(what + " has version " + std::to_string(p[0]) +
                           ", this decoder reads version 1");
  if (p.size() < 18)
    fail(what + " is truncated: " + std::to_string(p.size()) + " bytes after its UUID, 18 needed");
  std::copy(p.begin() + 1, p.begin() + 17, sei.identity.begin());
  const size_t n = p[17];
  if (p.size() != 18 + n)
    fail(what + " is malformed: its inference mode has " + std::to_string(n) + " bytes, but " +
         std::to_string(p.size() - 18) + " follow");
  // The mode is compared and printed: anything but printable ASCII is corrupt or hostile.
  for (size_t i = 0; i < n; ++i) {
    const uint8_t c = p[18 + i];
    if (c < 0x20 || c > 0x7e) {
      char hex[8];
      std::snprintf(hex, sizeof hex, "0x%02x", c);
      fail(what + " is corrupt: its inference mode holds byte " + hex + " at offset " +
           std::to_string(i) + " (only printable ASCII is allowed)");
    }
  }
  sei.inference_mode.assign(p.begin() + 18, p.end());
  return true;
}

bool CnnPictureFlags::any() const {
  return std::any_of(luma.begin(), luma.end(), [](uint8_t f) { return f != 0; }) ||
         std::any_of(chroma.begin(), chroma.end(), [](uint8_t f) { return f != 0; });
}

void apply_cnn_flags(const CodingInfo& info, const CnnPictureFlags& flags, const Frame& cnn,
                     Frame& final_frame) {
  const PicGeometry& g = info.geo();
  for (int rs = 0; rs < g.num_ctb; ++rs) {
    const bool l = rs < static_cast<int>(flags.luma.size()) && flags.luma[rs];
    const bool c = rs < static_cast<int>(flags.chroma.size()) && flags.chroma[rs];
    if (!l && !c) continue;
    const int x0 = (rs % g.w_ctb) << g.ctb_log2, y0 = (rs / g.w_ctb) << g.ctb_log2;
    for (int comp = 0; comp < 3; ++comp) {
      if (comp == 0 ? !l : !c) continue;
      const int sh = comp ? 1 : 0;
      const Plane& src = cnn.planes[comp];
      Plane& dst = final_frame.planes[comp];
      const int cx = x0 >> sh, cy = y0 >> sh;
      const int w = std::min(g.ctb_size >> sh, dst.width - cx),
                h = std::min(g.ctb_size >> sh, dst.height - cy);
      for (int y = 0; y < h; ++y) std::memcpy(dst.row(cy + y) + cx, src.row(cy + y) + cx, w);
    }
  }
}

}  // namespace hevc
