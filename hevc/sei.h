// SEI messages: decoded picture hash and user data unregistered (H.265 7.3.5, D.2).
#pragma once

#include <array>
#include <cstdint>
#include <vector>

#include "picture_hash.h"

namespace hevc {

struct UserDataUnregistered {
  std::array<uint8_t, 16> uuid{};
  std::vector<uint8_t> payload;
};

struct SeiMessages {
  bool has_hash = false;
  PictureHash hash;
  std::vector<UserDataUnregistered> user_data;
};

// Parses an SEI RBSP. Unknown payload types are skipped; malformed sizes throw.
SeiMessages read_sei(const std::vector<uint8_t>& rbsp);

// SEI RBSPs carrying one message each.
std::vector<uint8_t> write_hash_sei(const PictureHash& h);
std::vector<uint8_t> write_user_data_sei(const UserDataUnregistered& u);

}  // namespace hevc
