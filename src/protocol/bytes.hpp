#pragma once
// Byte containers and big-endian helpers shared by the codec.

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <span>
#include <string_view>
#include <vector>

namespace breakwater::protocol {

using Bytes = std::span<const uint8_t>;
using ByteBuffer = std::vector<uint8_t>;

inline uint32_t read_u32(const uint8_t* p) {
  return (uint32_t{p[0]} << 24) | (uint32_t{p[1]} << 16) | (uint32_t{p[2]} << 8) | uint32_t{p[3]};
}
inline uint16_t read_u16(const uint8_t* p) { return static_cast<uint16_t>((p[0] << 8) | p[1]); }

inline void put_u32(ByteBuffer& out, uint32_t v) {
  const uint8_t b[4] = {static_cast<uint8_t>(v >> 24), static_cast<uint8_t>(v >> 16),
                        static_cast<uint8_t>(v >> 8), static_cast<uint8_t>(v)};
  out.insert(out.end(), b, b + 4);
}
inline void put_u16(ByteBuffer& out, uint16_t v) {
  out.push_back(static_cast<uint8_t>(v >> 8));
  out.push_back(static_cast<uint8_t>(v));
}
inline void put_cstring(ByteBuffer& out, std::string_view s) {
  out.insert(out.end(), s.begin(), s.end());
  out.push_back(0);
}
inline void put_bytes(ByteBuffer& out, std::string_view s) { out.insert(out.end(), s.begin(), s.end()); }

inline Bytes as_bytes(std::string_view s) {
  return {reinterpret_cast<const uint8_t*>(s.data()), s.size()};
}
inline std::string_view as_string_view(Bytes b) {
  return {reinterpret_cast<const char*>(b.data()), b.size()};
}

// Reads NUL-terminated strings and integers from a message body without copying.
// Any read past the end sets failed(); callers check once at the end.
class BodyReader {
 public:
  explicit BodyReader(Bytes body) : body_(body) {}

  std::string_view cstring() {
    if (failed_) return {};
    const void* nul = std::memchr(body_.data() + pos_, 0, body_.size() - pos_);
    if (nul == nullptr) {
      failed_ = true;
      return {};
    }
    size_t end = static_cast<const uint8_t*>(nul) - body_.data();
    std::string_view s(reinterpret_cast<const char*>(body_.data() + pos_), end - pos_);
    pos_ = end + 1;
    return s;
  }
  uint32_t u32() {
    if (!has(4)) return 0;
    uint32_t v = read_u32(body_.data() + pos_);
    pos_ += 4;
    return v;
  }
  int32_t i32() { return static_cast<int32_t>(u32()); }
  uint16_t u16() {
    if (!has(2)) return 0;
    uint16_t v = read_u16(body_.data() + pos_);
    pos_ += 2;
    return v;
  }
  uint8_t u8() {
    if (!has(1)) return 0;
    return body_[pos_++];
  }
  Bytes take(size_t n) {
    if (!has(n)) return {};
    Bytes b = body_.subspan(pos_, n);
    pos_ += n;
    return b;
  }
  Bytes rest() const { return body_.subspan(pos_); }
  size_t remaining() const { return body_.size() - pos_; }
  bool at_end() const { return pos_ == body_.size(); }
  bool failed() const { return failed_; }

 private:
  bool has(size_t n) {
    if (failed_ || body_.size() - pos_ < n) {
      failed_ = true;
      return false;
    }
    return true;
  }
  Bytes body_;
  size_t pos_ = 0;
  bool failed_ = false;
};

}  // namespace breakwater::protocol
