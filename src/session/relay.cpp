#include "session/relay.hpp"

#include <asio/experimental/as_tuple.hpp>
#include <asio/experimental/awaitable_operators.hpp>
#include <cstring>

#include "protocol/backend_messages.hpp"

namespace breakwater::session {

using asio::experimental::as_tuple;
using protocol::Direction;
using protocol::MessageScanner;
using protocol::ScannedMessage;

namespace {
constexpr size_t kReadyForQuerySize = 6;
}

// One link's shared state between the two pumps (both on the session's worker).
struct Relay::LinkRun {
  pool::ServerConnection& server;
  ReleasePolicy policy;
  LinkState link;
  bool ended = false;  // one pump decided the end: the other must stop touching the link
  std::string detail;
};

asio::mutable_buffer Relay::CarryBuffer::free_space() {
  if (data_.empty()) {
    data_ = pool_.take(size_);
  } else if (have_ == data_.size()) {
    data_.resize(data_.size() * 2);  // only for a backlog larger than the buffer
  }
  return asio::buffer(data_.data() + have_, data_.size() - have_);
}

void Relay::CarryBuffer::give_back() {
  if (have_ != 0 || data_.empty()) return;
  // One that grew for a large backlog goes back to the allocator, not to the pool.
  if (data_.size() == size_) pool_.give_back(std::move(data_));
  protocol::ByteBuffer().swap(data_);
}

void Relay::CarryBuffer::append(protocol::Bytes bytes) {
  if (bytes.empty()) return;
  if (data_.empty()) data_ = pool_.take(std::max(size_, bytes.size()));
  if (data_.size() < have_ + bytes.size()) data_.resize(have_ + bytes.size());
  std::memcpy(data_.data() + have_, bytes.data(), bytes.size());
  have_ += bytes.size();
}

void Relay::CarryBuffer::consume(size_t n) {
  std::memmove(data_.data(), data_.data() + n, have_ - n);
  have_ -= n;
}

Relay::Relay(net::Stream& client, net::BufferPool& buffers, RelayOptions options)
    : client_(client),
      options_(options),
      from_client_(buffers, options.client_buffer_size),
      client_scanner_(Direction::Frontend, options.max_packet_size),
      from_server_(buffers, options.server_buffer_size),
      server_scanner_(Direction::Backend, options.max_packet_size) {
  server_scanner_.capture('Z');
  server_scanner_.capture('S');
}

void Relay::push_client_bytes(protocol::Bytes bytes) { from_client_.append(bytes); }

void Relay::client_message_started(Clock::time_point& now) {
  if (query_running_ || stats_ == nullptr) return;
  if (now == Clock::time_point{}) now = Clock::now();
  query_running_ = true;
  query_start_ = now;
  if (!in_transaction_) {
    in_transaction_ = true;
    transaction_start_ = now;
  }
}

void Relay::ready_for_query(char status) {
  if (stats_ == nullptr || !query_running_) return;
  auto now = Clock::now();
  auto micros = [&](Clock::time_point since) {
    return static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::microseconds>(now - since).count());
  };
  count(pool::PoolStats::Queries, 1);
  count(pool::PoolStats::QueryTime, micros(query_start_));
  query_start_ = now;  // a pipelined next query runs from here
  if (status == 'I') {
    count(pool::PoolStats::Xacts, 1);
    count(pool::PoolStats::XactTime, micros(transaction_start_));
    in_transaction_ = false;
  }
}

asio::awaitable<bool> Relay::wait_for_client(bool readable) {
  bool retried_wait = false;
  // A complete message already waiting (pipelined) needs no read.
  while (true) {
    auto bytes = from_client_.bytes();
    if (bytes.size() >= protocol::kHeaderSize) {
      // Terminate alone needs no server: PgBouncer answers it without linking.
      if (bytes[0] == 'X' && client_scanner_.at_boundary()) {
        client_terminated_ = true;
        co_return false;
      }
      co_return true;
    }
    if (!readable && client_idle()) {
      // Idle: park on readability with no buffer; borrow one once bytes are there.
      auto [wait_error, ignored] = co_await client_.wait_readable();
      if (wait_error) co_return false;
    }
    readable = false;
    net::IoResult read = client_.read_now(from_client_.free_space());
    if (std::get<0>(read) == asio::error::would_block) {
      // Woken for bytes already read: the socket is now known empty, so an idle
      // client waits again for epoll, holding no buffer.
      if (client_.plain() && !retried_wait && from_client_.empty()) {
        retried_wait = true;
        from_client_.give_back();
        continue;
      }
      read = co_await client_.read_some(from_client_.free_space());
    }
    auto [ec, n] = read;
    if (ec) co_return false;
    from_client_.filled(n);
    count(pool::PoolStats::Received, n);
  }
}

asio::awaitable<RelayResult> Relay::run(pool::ServerConnection& server, ReleasePolicy policy) {
  using namespace asio::experimental::awaitable_operators;
  LinkRun run{server, policy, {}, false, {}};
  // A new server's stream starts at a message boundary.
  from_server_.clear();
  server_scanner_.reset();
  // Whichever direction ends first ends the link; the other is cancelled.
  auto ended = co_await (pump_client_to_server(run) || pump_server_to_client(run));
  RelayEnd end = std::visit([](RelayEnd e) { return e; }, ended);
  run.link.client_mid_message = !client_scanner_.at_boundary();
  // Server bytes never outlive the link; client bytes stay for the next one.
  from_server_.clear();
  from_server_.give_back();
  from_client_.give_back();
  co_return RelayResult{end, run.link, std::move(run.detail)};
}

Relay::ClientScan Relay::scan_client_bytes(LinkRun& run) {
  ClientScan scan;
  Clock::time_point now{};
  long consumed = client_scanner_.feed(from_client_.bytes(), [&](const ScannedMessage& message) {
    if (message.type != 'X') client_message_started(now);
    switch (message.type) {
      case 'Q':
      case 'F':
        ++run.link.pending_ready;
        break;
      case 'S':
        ++run.link.pending_ready;
        run.link.unsynced = false;
        break;
      case 'P':
      case 'B':
      case 'E':
      case 'D':
      case 'C':
      case 'H':
        run.link.unsynced = true;
        break;
      case 'X':
        scan.terminated = true;
        return false;
      default:
        break;
    }
    return true;
  });
  if (consumed < 0) {
    run.detail = client_scanner_.error();
    scan.malformed = true;
    return scan;
  }
  scan.consumed = static_cast<size_t>(consumed);
  // Terminate is the pooler's to act on: the server stays open for the next client.
  scan.forward = scan.consumed - (scan.terminated ? protocol::kHeaderSize : 0);
  return scan;
}

// One coroutine frame for the whole link: scanning is a plain call, and only a
// write the server's socket does not take at once suspends.
asio::awaitable<RelayEnd> Relay::pump_client_to_server(LinkRun& run) {
  bool read_first = from_client_.empty();
  while (true) {
    if (read_first) {
      net::IoResult read = client_.read_now(from_client_.free_space());
      if (std::get<0>(read) == asio::error::would_block) read = co_await client_.read_some(from_client_.free_space());
      auto [ec, n] = read;
      // A read that completed as the link ended keeps its bytes for the next link.
      if (!ec) {
        from_client_.filled(n);
        count(pool::PoolStats::Received, n);
      }
      if (run.ended) co_return RelayEnd::Released;
      if (ec) {
        run.ended = true;
        co_return RelayEnd::ClientGone;
      }
    }
    read_first = true;
    ClientScan scan = scan_client_bytes(run);
    if (scan.malformed) {
      run.ended = true;
      co_return RelayEnd::ClientProtocolError;
    }
    if (scan.forward > 0) {
      const auto out = asio::buffer(from_client_.bytes().data(), scan.forward);
      asio::error_code ec;
      size_t n = run.server.stream.write_now(out, ec);
      if (!ec && n < scan.forward) {
        auto [rest_error, rest] = co_await run.server.stream.write(out + n);
        ec = rest_error;
      }
      if (ec) {
        run.ended = true;
        co_return RelayEnd::ServerGone;
      }
    }
    from_client_.consume(scan.consumed);
    if (scan.terminated) {
      client_terminated_ = true;
      run.ended = true;
      co_return RelayEnd::ClientTerminated;
    }
  }
}

asio::awaitable<RelayEnd> Relay::pump_server_to_client(LinkRun& run) {
  MessageScanner& scanner = server_scanner_;
  CarryBuffer& buffer = from_server_;
  while (true) {
    net::IoResult read = run.server.stream.read_now(buffer.free_space());
    if (std::get<0>(read) == asio::error::would_block) read = co_await run.server.stream.read_some(buffer.free_space());
    auto [ec, n] = read;
    if (run.ended) {
      // Server bytes read as the link ended are dropped: its stream is no longer known.
      if (!ec && n > 0) run.link.server_mid_message = true;
      co_return RelayEnd::Released;
    }
    if (ec) {
      run.ended = true;
      co_return RelayEnd::ServerGone;
    }
    buffer.filled(n);
    bool bad = false, violation = false;
    long consumed = scanner.feed(buffer.bytes(), [&](const ScannedMessage& message) {
      if (message.type == 'Z') {
        auto status = protocol::parse_ready_for_query(message.body);
        if (!status) {
          bad = true;
          return false;
        }
        run.link.transaction_status = *status;
        if (run.link.pending_ready > 0) --run.link.pending_ready;
        ready_for_query(*status);
        if (run.link.pending_ready == 0 && !run.link.unsynced) query_running_ = false;
        // Statement pooling: a statement that leaves a transaction open is refused
        // before the client sees this ReadyForQuery.
        if (run.policy == ReleasePolicy::AtStatement && *status != 'I') {
          violation = true;
          return false;
        }
      } else if (message.type == 'S' && message.captured) {
        if (auto param = protocol::parse_parameter_status(message.body)) run.server.params.set(param->name, param->value);
      }
      return true;
    });
    if (consumed < 0 || bad) {
      run.detail = bad ? "malformed ReadyForQuery" : scanner.error();
      run.ended = true;
      co_return RelayEnd::ServerProtocolError;
    }
    size_t forward = static_cast<size_t>(consumed) - (violation ? kReadyForQuerySize : 0);
    run.link.server_mid_message = !scanner.at_boundary() || static_cast<size_t>(consumed) != buffer.bytes().size();
    if (forward > 0) {
      const auto out = asio::buffer(buffer.bytes().data(), forward);
      asio::error_code wec;
      size_t written = client_.write_now(out, wec);
      if (!wec && written < forward) {
        auto [rest_error, rest] = co_await client_.write(out + written);
        wec = rest_error;
        written += rest;
      }
      count(pool::PoolStats::Sent, written);
      if (wec) {
        run.ended = true;
        co_return RelayEnd::ClientGone;
      }
    }
    if (violation) {
      run.ended = true;
      co_return RelayEnd::StatementModeViolation;
    }
    buffer.consume(static_cast<size_t>(consumed));
    // The release point: ReadyForQuery 'I' answered everything sent, and neither
    // side is inside a message.
    if (run.policy != ReleasePolicy::Never && run.link.server_clean() && client_scanner_.at_boundary()) {
      run.ended = true;
      co_return RelayEnd::Released;
    }
  }
}

}  // namespace breakwater::session
