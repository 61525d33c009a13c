#pragma once
// Whole-message reads on a stream, for the control paths (startup, login, reset,
// parameter sync) where the pooler reads messages itself. The relay's hot path
// does not use this: it forwards raw buffers and only scans headers.
//
// net::Task, not asio::awaitable: a connection storm's logins run through here,
// and a message already received costs no suspension (net::Stream::receive).
// Asio coroutines await these with net::as_awaitable().

#include <asio.hpp>
#include <string>

#include "base/result.hpp"
#include "net/stream.hpp"
#include "net/task.hpp"
#include "protocol/framing.hpp"

namespace breakwater::pool {

class MessageStream {
 public:
  MessageStream(net::Stream& stream, protocol::Direction from, uint32_t max_length)
      : stream_(stream), from_(from), max_length_(max_length) {}

  // The next typed message; its body stays valid until the next read.
  net::Task<Result<protocol::Message>> read_message();
  // The next startup-phase packet body (no type byte).
  net::Task<Result<protocol::Bytes>> read_startup_packet();
  net::Task<Result<void>> write(protocol::Bytes bytes);
  net::Stream& stream() { return stream_; }

  // Bytes received past the last message returned (a pipelined client's next
  // messages): the relay must forward these first.
  protocol::Bytes pending() const { return {buffer_.data() + start_, end_ - start_}; }
  void clear_pending() { start_ = end_ = 0; }
  // Frees the read buffer (nothing may be pending); a later read allocates again.
  void release_buffer() {
    clear_pending();
    protocol::ByteBuffer().swap(buffer_);
  }
  // False until the peer has sent at least one byte.
  bool received_any() const { return received_any_; }

 private:
  template <typename Decode>
  net::Task<Result<decltype(std::declval<Decode>()(protocol::Bytes{}).value)>> read_with(Decode decode);
  net::Task<Result<void>> fill(size_t need);

  net::Stream& stream_;
  protocol::Direction from_;
  uint32_t max_length_;
  protocol::ByteBuffer buffer_;
  size_t start_ = 0, end_ = 0;
  bool received_any_ = false;
};

}  // namespace breakwater::pool
