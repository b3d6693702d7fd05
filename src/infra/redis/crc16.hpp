#pragma once
/// Redis Cluster key hashing: CRC16 (XMODEM: polynomial 0x1021, initial value 0) and the key's
/// slot, `CRC16(key) mod 16384`, honouring `{hash tags}`.

#include <cstdint>
#include <string_view>

namespace joopang::redis {

inline constexpr int kClusterSlots = 16384;

/// CRC16-XMODEM of `data`; Crc16("123456789") == 0x31C3.
std::uint16_t Crc16(std::string_view data);

/// The part of a key that is hashed: the text between the first '{' and the next '}' when that
/// is non-empty, otherwise the whole key.
std::string_view HashTag(std::string_view key);

/// The cluster slot (0…16383) of a key.
int KeySlot(std::string_view key);

}  // namespace joopang::redis
