#include "session/relay.hpp"

#include <cstring>

#include "base/assert.hpp"
#include "net/loop_clock.hpp"
#include "net/notified_io.hpp"
#include "protocol/backend_messages.hpp"

namespace breakwater::session {

using protocol::Direction;
using protocol::MessageScanner;
using protocol::ScannedMessage;

namespace {
constexpr size_t kReadyForQuerySize = 6;
thread_local size_t relays_on_this_thread = 0;
}  // namespace

asio::mutable_buffer Relay::CarryBuffer::free_space() {
  if (data_.empty()) {
    data_ = shelf_->take();
    borrowed_ = true;
  } else if (have_ == data_.size()) {
    data_.resize(data_.size() * 2);  // only for a backlog larger than the buffer
  }
  return asio::buffer(data_.data() + have_, data_.size() - have_);
}

void Relay::CarryBuffer::give_back() {
  if (have_ != 0 || data_.empty()) return;
  // The shelf frees one that grew for a large backlog rather than keep it.
  if (borrowed_) shelf_->put(std::move(data_));
  protocol::ByteBuffer().swap(data_);
  borrowed_ = false;
}

void Relay::CarryBuffer::append(protocol::Bytes bytes) {
  if (bytes.empty()) return;
  if (data_.empty()) {
    // A message larger than the shelf's buffers gets storage of its own: a shelf
    // per odd size would be kept for ever.
    borrowed_ = bytes.size() <= shelf_->size();
    data_ = borrowed_ ? shelf_->take() : protocol::ByteBuffer(bytes.size());
  }
  if (data_.size() < have_ + bytes.size()) data_.resize(have_ + bytes.size());
  std::memcpy(data_.data() + have_, bytes.data(), bytes.size());
  have_ += bytes.size();
}

void Relay::CarryBuffer::consume(size_t n) {
  std::memmove(data_.data(), data_.data() + n, have_ - n);
  have_ -= n;
}

Relay::Relay(net::Stream& client, net::BufferPool& buffers, RelayOptions options)
    : client_(&client),
      options_(options),
      from_client_(buffers, options.client_buffer_size),
      client_scanner_(Direction::Frontend, options.max_packet_size),
      from_server_(buffers, options.server_buffer_size),
      server_scanner_(Direction::Backend, options.max_packet_size) {
  server_scanner_.capture('Z');
  server_scanner_.capture('S');
  ++relays_on_this_thread;
}

// A relay ends on the thread that made it, its client's worker, but at shutdown,
// when the main thread destroys what the loops held: its count is never read.
Relay::~Relay() { --relays_on_this_thread; }

size_t Relay::on_this_thread() { return relays_on_this_thread; }

void Relay::attach(net::Stream& client, RelayOptions options) {
  client_ = &client;
  options_ = options;
  from_client_.resize(options.client_buffer_size);
  from_server_.resize(options.server_buffer_size);
  client_scanner_.reset(options.max_packet_size);
  server_scanner_.reset(options.max_packet_size);
  client_terminated_ = false;
  stats_ = nullptr;
  query_running_ = in_transaction_ = false;
  query_start_ = transaction_start_ = Clock::time_point{};
}

void Relay::detach() {
  BW_ASSERT(at_rest());
  for (CarryBuffer* buffer : {&from_client_, &from_server_}) {
    buffer->clear();
    buffer->give_back();
  }
  client_ = nullptr;
}

void Relay::push_client_bytes(protocol::Bytes bytes) { from_client_.append(bytes); }

void Relay::client_message_started(Clock::time_point& now) {
  if (query_running_ || stats_ == nullptr) return;
  if (now == Clock::time_point{}) now = net::LoopClock::now();
  query_running_ = true;
  query_start_ = now;
  if (!in_transaction_) {
    in_transaction_ = true;
    transaction_start_ = now;
  }
}

void Relay::ready_for_query(char status) {
  if (stats_ == nullptr || !query_running_) return;
  auto now = net::LoopClock::now();
  auto micros = [&](Clock::time_point since) {
    return static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::microseconds>(now - since).count());
  };
  count(pool::PoolStats::Queries, 1);
  count(pool::PoolStats::QueryTime, micros(query_start_));
  query_start_ = now;  // a pipelined next query runs from here
  ready_at_ = now;
  if (status == 'I') {
    count(pool::PoolStats::Xacts, 1);
    count(pool::PoolStats::XactTime, micros(transaction_start_));
    in_transaction_ = false;
  }
}

bool Relay::client_message_ready() {
  if (from_client_.bytes().size() < protocol::kHeaderSize) {
    net::IoResult read = client_->read_now(from_client_.free_space());
    auto [ec, n] = read;
    if (ec) {
      from_client_.give_back();  // an idle client holds no buffer while it waits
      return false;
    }
    from_client_.filled(n);
    count(pool::PoolStats::Received, n);
  }
  auto bytes = from_client_.bytes();
  return bytes.size() >= protocol::kHeaderSize && !(bytes[0] == 'X' && client_scanner_.at_boundary());
}

void Relay::keep_woken_client_bytes(asio::error_code error, size_t bytes) {
  if (error) return;
  from_client_.filled(bytes);
  count(pool::PoolStats::Received, bytes);
}

net::Task<bool> Relay::wait_for_client(bool readable) {
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
      auto [wait_error, ignored] = co_await net::await_io(
          [this](auto handler) { net::async_wait_readable(client_->socket(), std::move(handler)); });
      if (wait_error) co_return false;
    }
    readable = false;
    net::IoResult read = client_->read_now(from_client_.free_space());
    if (std::get<0>(read) == asio::error::would_block) {
      // Woken for bytes already read: the socket is now known empty, so an idle
      // client waits again for epoll, holding no buffer.
      if (client_->plain() && !retried_wait && from_client_.empty()) {
        retried_wait = true;
        from_client_.give_back();
        continue;
      }
      read = co_await net::await_io([this, into = from_client_.free_space()](auto handler) {
        client_->start_read_some(into, std::move(handler), client_pending_.tls_stop.slot());
      });
    }
    auto [ec, n] = read;
    if (ec) co_return false;
    from_client_.filled(n);
    count(pool::PoolStats::Received, n);
  }
}

net::Task<RelayResult> Relay::run(pool::ServerConnection& server, ReleasePolicy policy) {
  LinkAwaiter awaiter = link(server, policy);
  RelayResult result = co_await awaiter;
  co_return result;
}

void Relay::start_link(pool::ServerConnection& server, ReleasePolicy policy, LinkDone done) {
  server_ = &server;
  policy_ = policy;
  link_ = LinkState{};
  ready_at_ = {};
  detail_.clear();
  end_.reset();
  done_.emplace(std::move(done));
  // A new server's stream starts at a message boundary.
  from_server_.clear();
  server_scanner_.reset();
  starting_ = true;
  pump_client(from_client_.empty() ? Step::Read : Step::Forward);
  if (!end_) pump_server(Step::Read);
  starting_ = false;
  // Ended before anything suspended: run()'s task carries on without suspending.
  if (end_ && !client_pending_.active && !server_pending_.active) complete_link();
}

Relay::Resume::allocator_type Relay::Resume::get_allocator() const noexcept {
  return allocator_type(client_side ? &relay->client_pending_.memory : &relay->server_pending_.memory);
}

void Relay::Resume::operator()(asio::error_code ec, size_t n) const {
  if (client_side) {
    relay->client_operation_done(ec, n);
  } else {
    relay->server_operation_done(ec, n);
  }
}

void Relay::start_read(Pending& pending, bool client_side, net::Stream& stream, asio::mutable_buffer into,
                       bool in_ring) {
  pending.active = true;
  pending.step = Step::Read;
  pending.in_ring = in_ring;
  pending.stream = &stream;
  if (in_ring) {
    stream.start_read_in_ring(into, Resume{this, client_side});
  } else {
    stream.start_read_some(into, Resume{this, client_side}, pending.tls_stop.slot());
  }
}

void Relay::start_client_read() {
  start_read(client_pending_, true, *client_, from_client_.free_space(),
             link_.pending_ready == 0 && client_->batches_ready_reads());
}

void Relay::move_client_read_to_ring() {
  Pending& pending = client_pending_;
  if (!pending.active || pending.step != Step::Read || pending.in_ring || !pending.memory.in_use() ||
      !client_->batches_ready_reads()) {
    return;
  }
  // Already performed (its bytes came in this turn): its handler runs as usual.
  if (!net::take_back_read(client_->socket(), pending.memory.room())) return;
  pending.active = false;
  start_client_read();
}

void Relay::start_write(Pending& pending, bool client_side, net::Stream& stream, asio::const_buffer out, Step after) {
  static_assert(net::ring_operation_size<Resume> <= decltype(pending.memory)::kRoomSize,
                "a batched send must fit in the direction's operation room");
  pending.active = true;
  pending.step = after;
  pending.in_ring = false;
  pending.stream = &stream;
  stream.start_write(out, Resume{this, client_side}, pending.tls_stop.slot());
}

void Relay::end_link(RelayEnd end) {
  if (end_) return;
  end_ = end;
  // Whichever direction ends first ends the link; the other one stops. A read
  // still queued for epoll (the client's, at most links' end) is taken back at
  // once; anything else is stopped and completes later. A read it had already
  // completed still arrives, and its client bytes are kept.
  for (Pending* pending : {&client_pending_, &server_pending_}) {
    if (!pending->active) continue;
    if (pending->step == Step::Read && !pending->in_ring && pending->stream->plain() && pending->memory.in_use() &&
        net::take_back_read(pending->stream->socket(), pending->memory.room())) {
      pending->active = false;
      continue;
    }
    pending->stream->stop_started(pending->tls_stop);
  }
}

void Relay::finish_if_done() {
  if (end_ && !starting_ && !client_pending_.active && !server_pending_.active) complete_link();
}

void Relay::complete_link() {
  link_.client_mid_message = !client_scanner_.at_boundary();
  // Server bytes never outlive the link; client bytes stay for the next one.
  from_server_.clear();
  from_server_.give_back();
  from_client_.give_back();
  server_ = nullptr;
  LinkDone done = *done_;
  done_.reset();
  *done.result =
      RelayResult{*end_, link_, detail_.empty() ? nullptr : std::make_unique<const std::string>(std::move(detail_))};
  done.completion->complete(done.waiter);  // the session resumes, and may destroy this relay
}

Relay::ClientScan Relay::scan_client_bytes() {
  ClientScan scan;
  Clock::time_point now{};
  long consumed = client_scanner_.feed(from_client_.bytes(), [&](const ScannedMessage& message) {
    if (message.type != 'X') client_message_started(now);
    switch (message.type) {
      case 'Q':
      case 'F':
        ++link_.pending_ready;
        break;
      case 'S':
        ++link_.pending_ready;
        link_.unsynced = false;
        break;
      case 'P':
      case 'B':
      case 'E':
      case 'D':
      case 'C':
      case 'H':
        link_.unsynced = true;
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
    detail_ = client_scanner_.error();
    scan.malformed = true;
    return scan;
  }
  scan.consumed = static_cast<size_t>(consumed);
  // Terminate is the pooler's to act on: the server stays open for the next client.
  scan.forward = scan.consumed - (scan.terminated ? protocol::kHeaderSize : 0);
  return scan;
}

bool Relay::client_bytes_sent() {
  from_client_.consume(client_scan_.consumed);
  client_scan_.consumed = 0;
  if (client_scan_.terminated) client_terminated_ = true;
  return client_scan_.terminated;
}

void Relay::pump_client(Step step) {
  net::Stream& server = server_->stream;
  while (!end_) {
    if (step == Step::Read) {
      net::IoResult read = client_->read_now(from_client_.free_space());
      if (std::get<0>(read) == asio::error::would_block) {
        start_client_read();
        return;
      }
      auto [ec, n] = read;
      if (ec) return end_link(RelayEnd::ClientGone);
      from_client_.filled(n);
      count(pool::PoolStats::Received, n);
      step = Step::Forward;
    }
    if (step == Step::Forward) {
      client_scan_ = scan_client_bytes();
      if (client_scan_.malformed) return end_link(RelayEnd::ClientProtocolError);
      const size_t forward = client_scan_.forward;
      if (forward > 0) {
        const auto out = asio::buffer(from_client_.bytes().data(), forward);
        asio::error_code ec;
        size_t n = server.write_now(out, ec);
        if (ec) return end_link(RelayEnd::ServerGone);
        if (n < forward) {
          start_write(client_pending_, true, server, out + n, Step::Written);
          return;
        }
      }
    }
    if (client_bytes_sent()) return end_link(RelayEnd::ClientTerminated);
    step = Step::Read;
  }
}

void Relay::client_operation_done(asio::error_code ec, size_t n) {
  client_pending_.active = false;
  client_pending_.in_ring = false;
  if (client_pending_.step == Step::Read) {
    // A read that completed as the link ended keeps its bytes for the next link.
    if (!ec) {
      from_client_.filled(n);
      count(pool::PoolStats::Received, n);
    }
    if (!end_) {
      if (ec) {
        end_link(RelayEnd::ClientGone);
      } else {
        pump_client(Step::Forward);
      }
    }
  } else if (ec) {
    if (!end_) end_link(RelayEnd::ServerGone);
  } else if (end_) {
    // Asio does not order a write's completion before the completions that follow
    // it: the server's answer may have ended the link first. The bytes were sent.
    client_bytes_sent();
  } else {
    pump_client(Step::Written);
  }
  finish_if_done();
}

std::optional<Relay::ServerScan> Relay::scan_server_bytes() {
  ServerScan scan;
  bool bad = false;
  long consumed = server_scanner_.feed(from_server_.bytes(), [&](const ScannedMessage& message) {
    if (message.type == 'Z') {
      auto status = protocol::parse_ready_for_query(message.body);
      if (!status) {
        bad = true;
        return false;
      }
      link_.transaction_status = *status;
      if (link_.pending_ready > 0) --link_.pending_ready;
      ready_for_query(*status);
      if (link_.pending_ready == 0 && !link_.unsynced) query_running_ = false;
      // Statement pooling: a statement that leaves a transaction open is refused
      // before the client sees this ReadyForQuery.
      if (policy_ == ReleasePolicy::AtStatement && *status != 'I') {
        scan.violation = true;
        return false;
      }
    } else if (message.type == 'S' && message.captured) {
      if (auto param = protocol::parse_parameter_status(message.body)) server_->params.set(param->name, param->value);
    }
    return true;
  });
  if (consumed < 0 || bad) {
    detail_ = bad ? "malformed ReadyForQuery" : server_scanner_.error();
    return std::nullopt;
  }
  scan.consumed = static_cast<size_t>(consumed);
  scan.forward = scan.consumed - (scan.violation ? kReadyForQuerySize : 0);
  link_.server_mid_message = !server_scanner_.at_boundary() || scan.consumed != from_server_.bytes().size();
  return scan;
}

// The release point: ReadyForQuery 'I' answered everything sent, and neither
// side is inside a message.
bool Relay::released() const {
  return policy_ != ReleasePolicy::Never && link_.server_clean() && client_scanner_.at_boundary();
}

void Relay::pump_server(Step step) {
  net::Stream& server = server_->stream;
  while (!end_) {
    if (step == Step::Read) {
      net::IoResult read = server.read_now(from_server_.free_space());
      if (std::get<0>(read) == asio::error::would_block) {
        start_read(server_pending_, false, server, from_server_.free_space());
        return;
      }
      auto [ec, n] = read;
      if (ec) return end_link(RelayEnd::ServerGone);
      from_server_.filled(n);
      step = Step::Forward;
    }
    if (step == Step::Forward) {
      auto scan = scan_server_bytes();
      if (!scan) return end_link(RelayEnd::ServerProtocolError);
      server_scan_ = *scan;
      // Everything answered, and the link goes on: the client speaks next. Its
      // read joins the batch that carries this answer to it.
      if (link_.pending_ready == 0 && !server_scan_.violation && !released()) move_client_read_to_ring();
      const size_t forward = server_scan_.forward;
      if (forward > 0) {
        const auto out = asio::buffer(from_server_.bytes().data(), forward);
        asio::error_code ec;
        size_t n = client_->write_now(out, ec);
        count(pool::PoolStats::Sent, n);
        if (ec) return end_link(RelayEnd::ClientGone);
        if (n < forward) {
          start_write(server_pending_, false, *client_, out + n, Step::Written);
          return;
        }
      }
    }
    if (server_scan_.violation) return end_link(RelayEnd::StatementModeViolation);
    from_server_.consume(server_scan_.consumed);
    if (released()) return end_link(RelayEnd::Released);
    step = Step::Read;
  }
}

void Relay::server_operation_done(asio::error_code ec, size_t n) {
  server_pending_.active = false;
  if (server_pending_.step == Step::Read) {
    if (end_) {
      // Server bytes read as the link ended are dropped: its stream is no longer known.
      if (!ec && n > 0) link_.server_mid_message = true;
    } else if (ec) {
      end_link(RelayEnd::ServerGone);
    } else {
      from_server_.filled(n);
      pump_server(Step::Forward);
    }
  } else {
    count(pool::PoolStats::Sent, n);
    if (!end_) {
      if (ec) {
        end_link(RelayEnd::ClientGone);
      } else {
        pump_server(Step::Written);
      }
    }
  }
  finish_if_done();
}

}  // namespace breakwater::session
