#pragma once
// A string in 16 bytes, for text that every idle client keeps (its record's user,
// database and application_name): up to 15 bytes sit in place, longer text on
// the heap. std::string takes 32 bytes for the same names.

#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>

namespace breakwater::base {

class CompactString {
 public:
  CompactString() { set_inline(0); }
  CompactString(std::string_view text) { assign(text); }  // NOLINT: as std::string converts from text
  CompactString(const CompactString& other) { assign(other.view()); }
  CompactString(CompactString&& other) noexcept {
    std::memcpy(bytes_, other.bytes_, sizeof(bytes_));
    other.set_inline(0);
  }
  CompactString& operator=(const CompactString& other) {
    if (this != &other) *this = other.view();
    return *this;
  }
  CompactString& operator=(CompactString&& other) noexcept {
    if (this != &other) {
      release();
      std::memcpy(bytes_, other.bytes_, sizeof(bytes_));
      other.set_inline(0);
    }
    return *this;
  }
  CompactString& operator=(std::string_view text) {
    // Built aside first: `text` may point into this string's own heap block.
    CompactString fresh(text);
    return *this = std::move(fresh);
  }
  ~CompactString() { release(); }

  std::string_view view() const {
    if (on_heap()) return {heap_data(), heap_size()};
    return {bytes_, kInline - static_cast<size_t>(static_cast<unsigned char>(bytes_[kInline]))};
  }
  operator std::string_view() const { return view(); }  // NOLINT: reads as the text it holds
  std::string str() const { return std::string(view()); }
  size_t size() const { return view().size(); }
  bool empty() const { return size() == 0; }
  // True when the text took a heap block of its own (longer than 15 bytes).
  bool on_heap() const { return static_cast<unsigned char>(bytes_[kInline]) == kOnHeap; }

  friend bool operator==(const CompactString& a, const CompactString& b) { return a.view() == b.view(); }
  friend bool operator==(const CompactString& a, std::string_view b) { return a.view() == b; }

 private:
  static constexpr size_t kInline = 15;
  // The last byte says where the text is: inline, it holds 15 minus the size, so
  // a 15-byte text ends in the 0 a C string would; on the heap, kOnHeap, with the
  // block's address in the first 8 bytes and the size in the next 4.
  static constexpr unsigned char kOnHeap = 0xFF;

  void assign(std::string_view text) {
    if (text.size() <= kInline) {
      std::memcpy(bytes_, text.data(), text.size());
      set_inline(text.size());
      return;
    }
    char* block = new char[text.size()];
    std::memcpy(block, text.data(), text.size());
    const auto size = static_cast<uint32_t>(text.size());
    std::memcpy(bytes_, &block, sizeof(block));
    std::memcpy(bytes_ + sizeof(block), &size, sizeof(size));
    bytes_[kInline] = static_cast<char>(kOnHeap);
  }
  void set_inline(size_t size) {
    std::memset(bytes_ + size, 0, kInline - size);
    bytes_[kInline] = static_cast<char>(kInline - size);
  }
  void release() {
    if (on_heap()) delete[] heap_data();
  }
  char* heap_data() const {
    char* block = nullptr;
    std::memcpy(&block, bytes_, sizeof(block));
    return block;
  }
  size_t heap_size() const {
    uint32_t size = 0;
    std::memcpy(&size, bytes_ + sizeof(char*), sizeof(size));
    return size;
  }

  alignas(8) char bytes_[16];
};

}  // namespace breakwater::base
