// Decoded picture hash (H.265 D.3.19): MD5, CRC and checksum over the decoded sample arrays.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <string>

#include "picture.h"

namespace hevc {

enum class HashType : uint8_t { MD5 = 0, CRC = 1, Checksum = 2, None = 255 };

struct PictureHash {
  HashType type = HashType::None;
  std::array<std::array<uint8_t, 16>, 3> value{};  // per component; CRC uses 2 bytes, checksum 4
};

// Bytes per component: 16 for MD5, 2 for CRC, 4 for the checksum, 0 for an unknown type.
inline size_t hash_size(HashType t) {
  return t == HashType::MD5 ? 16 : t == HashType::CRC ? 2 : t == HashType::Checksum ? 4 : 0;
}

// The hash of a picture's three planes (8-bit samples) as the SEI defines it.
PictureHash frame_hash(HashType type, const Frame& f);
bool hashes_equal(const PictureHash& a, const PictureHash& b);
std::string hash_hex(const PictureHash& h);

}  // namespace hevc
