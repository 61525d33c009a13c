#include "session/relay.hpp"

#include <asio/experimental/as_tuple.hpp>
#include <asio/experimental/awaitable_operators.hpp>
#include <cstring>

#include "protocol/backend_messages.hpp"
#include "protocol/message_scanner.hpp"

namespace breakwater::session {
namespace {

using asio::experimental::as_tuple;
using protocol::Direction;
using protocol::MessageScanner;
using protocol::ScannedMessage;

struct Shared {
  LinkState link;
  std::string detail;
};

// A read buffer whose unconsumed tail (an incomplete header) is kept for the next read.
class CarryBuffer {
 public:
  CarryBuffer(size_t size, protocol::Bytes initial) : data_(std::max(size, initial.size() + protocol::kHeaderSize)) {
    if (!initial.empty()) std::memcpy(data_.data(), initial.data(), initial.size());
    have_ = initial.size();
  }
  asio::mutable_buffer free_space() { return asio::buffer(data_.data() + have_, data_.size() - have_); }
  void filled(size_t n) { have_ += n; }
  protocol::Bytes bytes() const { return {data_.data(), have_}; }
  void consume(size_t n) {
    std::memmove(data_.data(), data_.data() + n, have_ - n);
    have_ -= n;
  }

 private:
  protocol::ByteBuffer data_;
  size_t have_ = 0;
};

asio::awaitable<RelayEnd> pump_client_to_server(net::Socket& client, net::Socket& server, Shared& shared,
                                                protocol::Bytes initial, const RelayOptions& options) {
  MessageScanner scanner(Direction::Frontend, options.max_packet_size);
  CarryBuffer buffer(options.buffer_size, initial);
  bool first = !initial.empty();
  while (true) {
    if (!first) {
      auto [ec, n] = co_await client.async_read_some(buffer.free_space(), as_tuple(asio::use_awaitable));
      if (ec) co_return RelayEnd::ClientGone;
      buffer.filled(n);
    }
    first = false;
    bool terminated = false;
    long consumed = scanner.feed(buffer.bytes(), [&](const ScannedMessage& message) {
      switch (message.type) {
        case 'Q':
        case 'F':
          ++shared.link.pending_ready;
          break;
        case 'S':
          ++shared.link.pending_ready;
          shared.link.unsynced = false;
          break;
        case 'P':
        case 'B':
        case 'E':
        case 'D':
        case 'C':
        case 'H':
          shared.link.unsynced = true;
          break;
        case 'X':
          terminated = true;
          return false;
        default:
          break;
      }
      return true;
    });
    if (consumed < 0) {
      shared.detail = scanner.error();
      co_return RelayEnd::ClientProtocolError;
    }
    // Terminate is the pooler's to act on: the server stays open for the next client.
    size_t forward = static_cast<size_t>(consumed) - (terminated ? protocol::kHeaderSize : 0);
    if (forward > 0) {
      auto [ec, n] = co_await asio::async_write(server, asio::buffer(buffer.bytes().data(), forward),
                                                as_tuple(asio::use_awaitable));
      if (ec) co_return RelayEnd::ServerGone;
    }
    if (terminated) co_return RelayEnd::ClientTerminated;
    buffer.consume(static_cast<size_t>(consumed));
  }
}

asio::awaitable<RelayEnd> pump_server_to_client(net::Socket& server, pool::ServerConnection& connection,
                                                net::Socket& client, Shared& shared, const RelayOptions& options) {
  MessageScanner scanner(Direction::Backend, options.max_packet_size);
  scanner.capture('Z');
  scanner.capture('S');
  CarryBuffer buffer(options.buffer_size, {});
  while (true) {
    auto [ec, n] = co_await server.async_read_some(buffer.free_space(), as_tuple(asio::use_awaitable));
    if (ec) co_return RelayEnd::ServerGone;
    buffer.filled(n);
    bool bad = false;
    long consumed = scanner.feed(buffer.bytes(), [&](const ScannedMessage& message) {
      if (message.type == 'Z') {
        auto status = protocol::parse_ready_for_query(message.body);
        if (!status) {
          bad = true;
          return false;
        }
        shared.link.transaction_status = *status;
        if (shared.link.pending_ready > 0) --shared.link.pending_ready;
      } else if (message.type == 'S' && message.captured) {
        if (auto param = protocol::parse_parameter_status(message.body)) connection.params.set(param->name, param->value);
      }
      return true;
    });
    if (consumed < 0 || bad) {
      shared.detail = bad ? "malformed ReadyForQuery" : scanner.error();
      co_return RelayEnd::ServerProtocolError;
    }
    shared.link.server_mid_message = !scanner.at_boundary() || static_cast<size_t>(consumed) != buffer.bytes().size();
    auto [wec, written] = co_await asio::async_write(client, asio::buffer(buffer.bytes().data(), consumed),
                                                     as_tuple(asio::use_awaitable));
    if (wec) co_return RelayEnd::ClientGone;
    buffer.consume(static_cast<size_t>(consumed));
  }
}

}  // namespace

asio::awaitable<RelayResult> relay_session(net::Socket& client, pool::ServerConnection& server,
                                           protocol::Bytes from_client, RelayOptions options) {
  using namespace asio::experimental::awaitable_operators;
  Shared shared;
  // Whichever direction ends first ends the relay; the other is cancelled.
  auto ended = co_await (pump_client_to_server(client, server.socket, shared, from_client, options) ||
                         pump_server_to_client(server.socket, server, client, shared, options));
  RelayEnd end = std::visit([](RelayEnd e) { return e; }, ended);
  co_return RelayResult{end, shared.link, std::move(shared.detail)};
}

}  // namespace breakwater::session
