#include "pool/message_stream.hpp"

namespace breakwater::pool {

using protocol::Bytes;
using protocol::DecodeStatus;

net::Task<Result<void>> MessageStream::fill(size_t need) {
  if (start_ > 0 && start_ == end_) start_ = end_ = 0;
  if (buffer_.size() < start_ + need) {
    // Compact first; grow only for a message larger than what we hold.
    std::copy(buffer_.begin() + static_cast<long>(start_), buffer_.begin() + static_cast<long>(end_), buffer_.begin());
    end_ -= start_;
    start_ = 0;
    // Login messages are short: a small first buffer keeps a login storm light.
    if (buffer_.size() < need) buffer_.resize(std::max(need, size_t{1024}));
  }
  while (end_ - start_ < need) {
    const asio::mutable_buffer room(buffer_.data() + end_, buffer_.size() - end_);
    // Bytes already there (a login's packets mostly are) cost no receive() frame.
    net::IoResult now = stream_.read_now(room);
    auto [ec, n] = std::get<0>(now) != asio::error::would_block ? now : co_await stream_.receive(room);
    if (ec) co_return unexpected(ec == asio::error::eof ? std::string("connection closed") : ec.message());
    end_ += n;
    received_any_ = true;
  }
  co_return Result<void>{};
}

template <typename Decode>
net::Task<Result<decltype(std::declval<Decode>()(protocol::Bytes{}).value)>> MessageStream::read_with(
    Decode decode) {
  size_t need = 1;
  while (true) {
    if (end_ - start_ >= need) {
      auto decoded = decode(Bytes(buffer_.data() + start_, end_ - start_));
      if (decoded.status == DecodeStatus::Invalid) co_return unexpected(std::move(decoded.error));
      if (decoded.status == DecodeStatus::Complete) {
        start_ += decoded.consumed;
        co_return std::move(decoded.value);
      }
      need = decoded.need;
    }
    auto filled = co_await fill(need);
    if (!filled) co_return unexpected(filled.error());
  }
}

// Not coroutines: read_with's frame is the only one.
net::Task<Result<protocol::Message>> MessageStream::read_message() {
  return read_with([this](Bytes bytes) { return protocol::decode_message(bytes, from_, max_length_); });
}

net::Task<Result<protocol::Bytes>> MessageStream::read_startup_packet() {
  return read_with([](Bytes bytes) { return protocol::decode_startup_packet(bytes); });
}

net::Task<Result<void>> MessageStream::write(protocol::Bytes bytes) {
  auto [ec, n] = co_await stream_.send(asio::buffer(bytes.data(), bytes.size()));
  if (ec) co_return unexpected(ec.message());
  co_return Result<void>{};
}

}  // namespace breakwater::pool
