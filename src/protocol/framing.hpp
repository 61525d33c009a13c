#pragma once
// Message framing for protocol 3.0. A typed message is 1 type byte, a 4-byte
// length that counts itself, then the body. Startup-phase packets have no type byte.
//
// Decoding is tri-state, like Envoy's decoder: Complete (a whole message and how many
// bytes it used), NeedMore (how many bytes at least before trying again) or Invalid.

#include <array>
#include <cstdint>
#include <string>
#include <string_view>

#include "protocol/bytes.hpp"

namespace breakwater::protocol {

inline constexpr size_t kHeaderSize = 5;
// The startup packet is small by nature; PostgreSQL itself refuses > 10000 bytes.
inline constexpr uint32_t kMaxStartupPacketLength = 10000;

enum class Direction { Frontend, Backend };

struct MessageHeader {
  char type = 0;
  uint32_t length = 0;  // as on the wire: counts the 4 length bytes, not the type byte
  size_t total_size() const { return size_t{length} + 1; }
  size_t body_size() const { return size_t{length} - 4; }
};

struct Message {
  char type = 0;
  Bytes body;
};

enum class DecodeStatus { Complete, NeedMore, Invalid };

template <typename T>
struct Decoded {
  DecodeStatus status = DecodeStatus::NeedMore;
  T value{};
  size_t consumed = 0;  // Complete: bytes used
  size_t need = 0;      // NeedMore: total bytes wanted from the start of the input
  std::string error;    // Invalid: why

  static Decoded complete(T v, size_t used) { return {DecodeStatus::Complete, std::move(v), used, 0, {}}; }
  static Decoded need_more(size_t total) { return {DecodeStatus::NeedMore, T{}, 0, total, {}}; }
  static Decoded invalid(std::string why) { return {DecodeStatus::Invalid, T{}, 0, 0, std::move(why)}; }
};

namespace framing_detail {
// Type bytes from the "Message Formats" chapter of the PostgreSQL 15 docs.
constexpr std::array<bool, 256> type_table(std::string_view types) {
  std::array<bool, 256> table{};
  for (char c : types) table[static_cast<uint8_t>(c)] = true;
  return table;
}
inline constexpr auto kFrontendTypes = type_table("BCcdDEfFHPpQSX");
inline constexpr auto kBackendTypes = type_table("RKBZCdcGHWDIEVnNAtS1sT23");
}  // namespace framing_detail

// True for a type byte that protocol 3.0 defines in that direction. Inline: the
// relay asks it of every message header.
inline bool is_known_message_type(Direction direction, char type) {
  const auto& table = direction == Direction::Frontend ? framing_detail::kFrontendTypes : framing_detail::kBackendTypes;
  return table[static_cast<uint8_t>(type)];
}

// Header of the typed message at the start of `bytes`. Invalid for an unknown type
// or a length below 4 or above `max_length`.
Decoded<MessageHeader> peek_header(Bytes bytes, Direction direction, uint32_t max_length);

// One whole typed message at the start of `bytes`.
Decoded<Message> decode_message(Bytes bytes, Direction direction, uint32_t max_length);

// One whole startup-phase packet (length + body, no type byte); value is the body.
Decoded<Bytes> decode_startup_packet(Bytes bytes);

}  // namespace breakwater::protocol
