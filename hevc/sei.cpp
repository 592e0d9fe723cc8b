#include "sei.h"

#include "bitstream.h"

namespace hevc {

namespace {

constexpr int kPayloadUserData = 5;
constexpr int kPayloadPictureHash = 132;

void write_message(BitWriter& w, int type, const std::vector<uint8_t>& payload) {
  int t = type;
  while (t >= 255) {
    w.u(0xFF, 8);
    t -= 255;
  }
  w.u(static_cast<uint32_t>(t), 8);
  size_t s = payload.size();
  while (s >= 255) {
    w.u(0xFF, 8);
    s -= 255;
  }
  w.u(static_cast<uint32_t>(s), 8);
  w.append_bytes(payload.data(), payload.size());
}

}  // namespace

SeiMessages read_sei(const std::vector<uint8_t>& rbsp) {
  SeiMessages out;
  BitReader r(rbsp.data(), rbsp.size());
  do {
    uint32_t type = 0, size = 0, b;
    do {
      b = r.u(8);
      type += b;
    } while (b == 0xFF);
    do {
      b = r.u(8);
      size += b;
    } while (b == 0xFF);
    if (static_cast<size_t>(size) * 8 > r.bits_left()) fail("SEI payload larger than its NAL unit");
    const uint8_t* p = rbsp.data() + r.pos() / 8;
    if (type == kPayloadPictureHash && size >= 1) {
      HashType ht = static_cast<HashType>(p[0]);
      const size_t per = hash_size(ht);
      if (per && size >= 1 + 3 * per) {
        out.has_hash = true;
        out.hash.type = ht;
        for (int c = 0; c < 3; ++c)
          for (size_t i = 0; i < per; ++i) out.hash.value[c][i] = p[1 + c * per + i];
      }
    } else if (type == kPayloadUserData && size >= 16) {
      UserDataUnregistered u;
      for (int i = 0; i < 16; ++i) u.uuid[i] = p[i];
      u.payload.assign(p + 16, p + size);
      out.user_data.push_back(std::move(u));
    }
    r.skip(static_cast<size_t>(size) * 8);
  } while (r.more_rbsp_data());
  return out;
}

std::vector<uint8_t> write_hash_sei(const PictureHash& h) {
  const size_t per = hash_size(h.type);
  std::vector<uint8_t> payload;
  payload.push_back(static_cast<uint8_t>(h.type));
  for (int c = 0; c < 3; ++c)
    payload.insert(payload.end(), h.value[c].begin(), h.value[c].begin() + per);
  BitWriter w;
  write_message(w, kPayloadPictureHash, payload);
  w.rbsp_trailing_bits();
  return w.take();
}

std::vector<uint8_t> write_user_data_sei(const UserDataUnregistered& u) {
  std::vector<uint8_t> payload(u.uuid.begin(), u.uuid.end());
  payload.insert(payload.end(), u.payload.begin(), u.payload.end());
  BitWriter w;
  write_message(w, kPayloadUserData, payload);
  w.rbsp_trailing_bits();
  return w.take();
}

}  // namespace hevc
