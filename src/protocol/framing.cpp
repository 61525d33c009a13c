#include "protocol/framing.hpp"

#include <array>

namespace breakwater::protocol {

Decoded<MessageHeader> peek_header(Bytes bytes, Direction direction, uint32_t max_length) {
  if (bytes.size() < kHeaderSize) return Decoded<MessageHeader>::need_more(kHeaderSize);
  MessageHeader header{static_cast<char>(bytes[0]), read_u32(bytes.data() + 1)};
  if (!is_known_message_type(direction, header.type)) {
    return Decoded<MessageHeader>::invalid("unknown message type " + std::to_string(static_cast<uint8_t>(header.type)));
  }
  if (header.length < 4) return Decoded<MessageHeader>::invalid("message length below 4");
  if (header.length > max_length) return Decoded<MessageHeader>::invalid("message too large");
  return Decoded<MessageHeader>::complete(header, kHeaderSize);
}

Decoded<Message> decode_message(Bytes bytes, Direction direction, uint32_t max_length) {
  auto header = peek_header(bytes, direction, max_length);
  if (header.status == DecodeStatus::Invalid) return Decoded<Message>::invalid(std::move(header.error));
  if (header.status == DecodeStatus::NeedMore) return Decoded<Message>::need_more(header.need);
  size_t total = header.value.total_size();
  if (bytes.size() < total) return Decoded<Message>::need_more(total);
  return Decoded<Message>::complete({header.value.type, bytes.subspan(kHeaderSize, header.value.body_size())}, total);
}

Decoded<Bytes> decode_startup_packet(Bytes bytes) {
  if (bytes.size() < 4) return Decoded<Bytes>::need_more(4);
  uint32_t length = read_u32(bytes.data());
  if (length < 8) return Decoded<Bytes>::invalid("startup packet too short");
  if (length > kMaxStartupPacketLength) return Decoded<Bytes>::invalid("startup packet too large");
  if (bytes.size() < length) return Decoded<Bytes>::need_more(length);
  return Decoded<Bytes>::complete(bytes.subspan(4, length - 4), length);
}

}  // namespace breakwater::protocol
