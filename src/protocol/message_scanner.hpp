#pragma once
// Follows message boundaries in a byte stream that arrives in arbitrary chunks,
// so the relay can forward whole buffers untouched and still see the type of each
// message. Bodies are copied only for the types the caller asks to capture (small
// ones: ReadyForQuery, ParameterStatus, ErrorResponse), never for DataRow or
// CopyData, so a large result streams through without being buffered.

#include <algorithm>
#include <bitset>
#include <cstring>
#include <string>

#include "protocol/framing.hpp"

namespace breakwater::protocol {

struct ScannedMessage {
  char type = 0;
  uint32_t length = 0;  // as on the wire
  Bytes body;           // the whole body when captured and complete, else empty
  bool captured = false;
};

class MessageScanner {
 public:
  // Bodies of captured types larger than this are reported without a body.
  static constexpr size_t kCaptureLimit = 64 * 1024;

  MessageScanner(Direction direction, uint32_t max_length) : direction_(direction), max_length_(max_length) {}

  void capture(char type) { capture_[static_cast<uint8_t>(type)] = true; }

  // Scans `chunk`. For every message that ends inside it, calls
  // `on_message(const ScannedMessage&) -> bool`; returning false stops the scan
  // right after that message. Returns the bytes consumed, or -1 when the framing
  // is invalid (error() says why). An incomplete header at the end of `chunk` is
  // not consumed: the caller presents those bytes again with what follows, so a
  // header is always seen whole and a message can be cut out exactly.
  template <typename OnMessage>
  long feed(Bytes chunk, OnMessage&& on_message);

  // True between messages: the next byte starts a new header.
  bool at_boundary() const { return !in_body_; }
  // Forgets a message in progress (the stream it came from is gone).
  void reset() {
    in_body_ = false;
    body_left_ = 0;
  }
  // ... and scans another stream from its start, with another length limit.
  void reset(uint32_t max_length) {
    reset();
    max_length_ = max_length;
  }
  const std::string& error() const { return error_; }

 private:
  Direction direction_;
  uint32_t max_length_;
  std::bitset<256> capture_;  // a bit per message type: every client session holds two scanners
  bool in_body_ = false;
  MessageHeader current_{};
  size_t body_left_ = 0;
  bool capturing_ = false;
  ByteBuffer captured_;
  std::string error_;
};

template <typename OnMessage>
long MessageScanner::feed(Bytes chunk, OnMessage&& on_message) {
  size_t pos = 0;
  while (pos < chunk.size()) {
    if (!in_body_) {
      if (chunk.size() - pos < kHeaderSize) break;
      // Checked here, inline, as peek_header() does: it is asked only why a header is bad.
      current_ = MessageHeader{static_cast<char>(chunk[pos]), read_u32(chunk.data() + pos + 1)};
      if (!is_known_message_type(direction_, current_.type) || current_.length < 4 || current_.length > max_length_) {
        error_ = peek_header(chunk.subspan(pos), direction_, max_length_).error;
        return -1;
      }
      pos += kHeaderSize;
      in_body_ = true;
      body_left_ = current_.body_size();
      capturing_ = capture_.test(static_cast<uint8_t>(current_.type)) && body_left_ <= kCaptureLimit;
      captured_.clear();
    }
    size_t take = std::min(body_left_, chunk.size() - pos);
    Bytes body;
    if (capturing_) {
      // A body whole in this chunk is shown where it lies; only one cut by a read is copied.
      if (captured_.empty() && take == body_left_) {
        body = Bytes(chunk.data() + pos, take);
      } else {
        captured_.insert(captured_.end(), chunk.data() + pos, chunk.data() + pos + take);
        body = Bytes(captured_);
      }
    }
    pos += take;
    body_left_ -= take;
    if (body_left_ > 0) break;
    in_body_ = false;
    ScannedMessage message{current_.type, current_.length, body, capturing_};
    if (!on_message(message)) break;
  }
  return static_cast<long>(pos);
}

}  // namespace breakwater::protocol
