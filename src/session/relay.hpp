#pragma once
// The relay between a client and its linked server. Bytes are forwarded in whole
// buffers; only message headers are parsed on the way, plus the bodies of
// ReadyForQuery and ParameterStatus, to know when the server is idle and clean.
//
// A Relay belongs to a client session while it is served and outlives each link:
// the client's bytes that were read but not yet forwarded (a pipelined next
// query, or half a header) stay in it between two servers.
//
// A link is one hand-written operation, not coroutines: each direction is a loop
// that reads, scans and writes with system calls that complete at once, and only
// a socket that is not ready suspends it, as a callback. The session awaits the
// link's end once; the reads and writes within cost no coroutine frame, no
// cancellation handler and no heap allocation.

#include <asio.hpp>
#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "net/buffer_pool.hpp"
#include "net/op_memory.hpp"
#include "net/stream.hpp"
#include "net/task.hpp"
#include "pool/pool_stats.hpp"
#include "pool/server_connection.hpp"
#include "protocol/bytes.hpp"
#include "protocol/message_scanner.hpp"

namespace breakwater::session {

// What the relay knows about the server's side of the conversation.
struct LinkState {
  int pending_ready = 0;          // Query/Sync/FunctionCall sent, ReadyForQuery not yet back
  bool unsynced = false;          // extended-protocol messages sent since the last Sync
  char transaction_status = 'I';  // from the last ReadyForQuery
  bool server_mid_message = false;
  bool client_mid_message = false;  // part of a client message already went to the server

  // Idle, nothing in flight, not inside a message: another client may have it.
  bool server_clean() const {
    return pending_ready == 0 && !unsynced && transaction_status == 'I' && !server_mid_message &&
           !client_mid_message;
  }
};

enum class RelayEnd {
  Released,               // transaction/statement mode: the server is idle and clean
  StatementModeViolation, // statement mode: a transaction stayed open after a statement
  ClientTerminated,       // the client sent Terminate
  ClientGone,             // the client closed or its socket failed
  ServerGone,             // the server closed or its socket failed
  ClientProtocolError,    // the client sent bytes that are not protocol 3.0
  ServerProtocolError,
};

struct RelayResult {
  RelayEnd end = RelayEnd::ClientGone;
  LinkState link;
  // What was wrong with the bytes, for the two protocol-error ends only. Every
  // link's end passes a result through several frames: a pointer moves for less
  // than a string.
  std::unique_ptr<const std::string> detail;
  std::string_view detail_text() const { return detail ? std::string_view(*detail) : std::string_view(); }
};

enum class ReleasePolicy {
  Never,           // session pooling: the link lasts until the client leaves
  AtTransaction,   // transaction pooling: release at ReadyForQuery 'I'
  AtStatement,     // statement pooling: release after each statement; 'T' is a violation
};

struct RelayOptions {
  // A client's bytes are mostly short queries, and a client waiting for a server
  // holds its buffer all the while (10,000 at once in a burst): pkt_buf-sized, as
  // PgBouncer's, growing only for a larger backlog. Results stream through a larger one.
  size_t client_buffer_size = 4 * 1024;
  size_t server_buffer_size = 16 * 1024;
  uint32_t max_packet_size = 0x7fffffff;
};

// Worker-local: used by one client session only.
class Relay {
 public:
  Relay(net::Stream& client, net::BufferPool& buffers, RelayOptions options);
  ~Relay();
  Relay(const Relay&) = delete;
  Relay& operator=(const Relay&) = delete;
  // How many relays this thread holds now, in use or spare (SHOW MEM).
  static size_t on_this_thread();

  // Serves another client of the same worker (session/relay_stock.hpp). Only a
  // relay at rest: no link running, the client idle, no buffer held.
  void attach(net::Stream& client, RelayOptions options);
  net::BufferPool& buffers() const { return from_client_.pool(); }

  // Where traffic, queries and transactions are counted (the session's pool, this worker's slot).
  void count_into(pool::PoolStats::Slot* stats) { stats_ = stats; }

  // Bytes the client sent before the relay started (read during the startup phase).
  void push_client_bytes(protocol::Bytes bytes);
  // Waits for the client's next bytes while no server is linked. False when the
  // client left (or sent only Terminate: then client_terminated() is true).
  // `readable`: the socket is known to have bytes (or to have failed), so read at once.
  net::Task<bool> wait_for_client(bool readable = false);
  // wait_for_client's way without waiting: true when a message's header is read
  // (a Terminate alone is left to wait_for_client).
  bool client_message_ready();
  // A parked client epoll has just woken. Where the loop batches reads
  // (net::Stream::batches_ready_reads) and woke for more than this client (else
  // the read would be alone in its batch), read_woken_client() reads what its socket
  // holds in the loop's io_uring batch, with no recv() of its own, and
  // keep_woken_client_bytes() keeps what came; client_message_ready() then finds
  // the message read. Nothing read (an error, or the socket was empty) changes
  // nothing: client_message_ready() reads as before and meets the same outcome.
  bool batches_woken_client_reads() {
    return client_->batches_ready_reads() && !client_->woken_alone() &&
           from_client_.bytes().size() < protocol::kHeaderSize;
  }
  // Its operation takes the client direction's room, free while no link runs:
  // from Asio's per-thread cache it took a heap block in most transactions.
  auto read_woken_client() {
    BW_ASSERT(!client_pending_.active && !client_pending_.memory.in_use());
    return net::await_io([this, into = from_client_.free_space()](auto handler) {
      client_->start_read_ready(into, net::in_room(client_pending_.memory, std::move(handler)));
    });
  }
  void keep_woken_client_bytes(asio::error_code error, size_t bytes);
  // Nothing of the client's is held: its session may park on the bare socket.
  bool client_idle() const { return from_client_.empty() && !client_->has_buffered_input(); }
  bool client_terminated() const { return client_terminated_; }
  // Whether the relay holds a buffer now (none while the client is idle).
  bool holds_buffers() const { return from_client_.holds_storage() || from_server_.holds_storage(); }
  // No link is running: neither direction has an operation in flight.
  bool at_rest() const { return !done_ && !client_pending_.active && !server_pending_.active; }
  // Lets the client go, to serve another one after attach(): bytes it sent that
  // no link will carry (its Terminate, at its session's end) are dropped, and the
  // buffers go back to the worker's pool. Only at rest.
  void detach();

  // Where the client's traffic stands, for the session timeouts: a query runs
  // from the client's first message to the ReadyForQuery that answers it; after
  // it, query_start() is that ReadyForQuery's time.
  using Clock = std::chrono::steady_clock;
  bool query_running() const { return query_running_; }
  bool in_transaction() const { return in_transaction_; }
  Clock::time_point query_start() const { return query_start_; }
  Clock::time_point transaction_start() const { return transaction_start_; }
  // When this link's last ReadyForQuery came (counted for SHOW STATS), else zero:
  // releasing the server right after needs no clock reading of its own.
  Clock::time_point ready_at() const { return ready_at_; }

  // Reads and writes whose operation did not fit the relay's own memory (net/op_memory.hpp).
  size_t operations_on_heap() const { return client_pending_.memory.spilled() + server_pending_.memory.spilled(); }
  // The client direction's room holds an operation now (tests).
  bool client_room_in_use() const { return client_pending_.memory.in_use(); }

  // Relays until the policy says the link ends or a side fails. The relay must
  // live until this completes.
  net::Task<RelayResult> run(pool::ServerConnection& server, ReleasePolicy policy);
  // The same, awaited in a net::Task's own frame: `LinkAwaiter link = relay.link(...);
  // RelayResult result = co_await link;` (a named awaiter: GCC 12 mishandles
  // temporaries around co_await).
  class LinkAwaiter;
  LinkAwaiter link(pool::ServerConnection& server, ReleasePolicy policy);

 private:
  // Bytes read but not yet forwarded. Its storage is borrowed from the worker's
  // BufferPool when a read needs it and given back once empty at the end of a
  // link, so an idle client holds none.
  class CarryBuffer {
   public:
    CarryBuffer(net::BufferPool& pool, size_t size) : pool_(pool), shelf_(&pool.shelf(size)) {}
    ~CarryBuffer() {
      have_ = 0;  // what is left goes with it: the storage goes back all the same
      give_back();
    }
    CarryBuffer(const CarryBuffer&) = delete;
    CarryBuffer& operator=(const CarryBuffer&) = delete;
    asio::mutable_buffer free_space();
    void filled(size_t n) { have_ += n; }
    protocol::Bytes bytes() const { return {data_.data(), have_}; }
    void append(protocol::Bytes bytes);
    void consume(size_t n);
    bool empty() const { return have_ == 0; }
    void clear() { have_ = 0; }
    // Returns the storage to the pool when nothing waits in it.
    void give_back();
    bool holds_storage() const { return !data_.empty(); }
    net::BufferPool& pool() const { return pool_; }
    // The size borrowed from now on (only while no storage is held).
    void resize(size_t size) {
      if (size != shelf_->size()) shelf_ = &pool_.shelf(size);
    }

   private:
    net::BufferPool& pool_;
    net::BufferPool::Shelf* shelf_;  // where storage of the usual size comes from
    protocol::ByteBuffer data_;
    size_t have_ = 0;
    bool borrowed_ = false;  // data_ came from *shelf_, which counts it as lent
  };
  // The link's completion: where its result goes, and the task that awaits
  // run(), resumed when both directions have stopped (at once if that happens
  // before it has suspended).
  struct LinkDone {
    std::coroutine_handle<> waiter;
    RelayResult* result;
    net::Completion* completion;
  };
  void start_link(pool::ServerConnection& server, ReleasePolicy policy, LinkDone done);

  // Where a direction's loop resumes once its pending operation completes.
  enum class Step : uint8_t { Read, Forward, Written };
  // One direction's pending read or write (at most one at a time).
  struct Pending {
    bool active = false;
    Step step = Step::Read;
    bool in_ring = false;  // a read waiting in the loop's ring rather than on epoll
    net::Stream* stream = nullptr;  // the stream the operation runs on
    net::OpMemory memory;
    asio::cancellation_signal tls_stop;
  };
  // The handler of a direction's operation: the relay and which direction.
  struct Resume {
    using allocator_type = net::OpAllocator<void>;
    Relay* relay;
    bool client_side;
    allocator_type get_allocator() const noexcept;
    void operator()(asio::error_code ec, size_t n) const;
  };
  // `in_ring`: the read waits in the loop's io_uring batch (see start_client_read).
  void start_read(Pending& pending, bool client_side, net::Stream& stream, asio::mutable_buffer into,
                  bool in_ring = false);
  void start_write(Pending& pending, bool client_side, net::Stream& stream, asio::const_buffer out, Step after);
  // The client's next read inside a link. While the server owes an answer, it
  // waits on epoll, where taking it back when the answer ends the link costs
  // nothing. Once the server has answered everything, the link cannot end
  // before the client speaks (bar failures and timeouts): the read waits in the
  // loop's io_uring batch, and the client's next message costs no recv().
  void start_client_read();
  void move_client_read_to_ring();

  // client -> server, and server -> client: each runs until it must wait or the link ends.
  void pump_client(Step step);
  void pump_server(Step step);
  void client_operation_done(asio::error_code ec, size_t n);
  void server_operation_done(asio::error_code ec, size_t n);
  // The first end wins; the other direction's pending operation is stopped.
  void end_link(RelayEnd end);
  // Completes the link once it ended and nothing is pending. May destroy the
  // relay (the session resumes): the caller's last statement.
  void finish_if_done();
  void complete_link();

  // What the client buffer holds, scanned: how much is whole messages, how much
  // of that goes to the server (not a Terminate), and whether it was malformed.
  struct ClientScan {
    size_t consumed = 0, forward = 0;
    bool terminated = false, malformed = false;
  };
  ClientScan scan_client_bytes();
  // The scanned bytes reached the server: they leave the buffer. True when they
  // ended with Terminate.
  bool client_bytes_sent();
  // What the server buffer holds, scanned, as the client is to see it.
  struct ServerScan {
    size_t consumed = 0, forward = 0;
    bool violation = false;
  };
  std::optional<ServerScan> scan_server_bytes();
  bool released() const;

  net::Stream* client_;
  RelayOptions options_;
  CarryBuffer from_client_;
  protocol::MessageScanner client_scanner_;
  // Server side: kept across links so that a transaction costs no allocation.
  CarryBuffer from_server_;
  protocol::MessageScanner server_scanner_;
  bool client_terminated_ = false;

  // The link in progress.
  pool::ServerConnection* server_ = nullptr;
  ReleasePolicy policy_ = ReleasePolicy::AtTransaction;
  LinkState link_;
  std::string detail_;
  std::optional<RelayEnd> end_;
  std::optional<LinkDone> done_;
  bool starting_ = false;  // inside start_link(): it completes the link itself
  Pending client_pending_, server_pending_;
  ClientScan client_scan_;  // held across a write to the server that suspended
  ServerScan server_scan_;  // held across a write to the client that suspended

  // SHOW STATS: a query runs from the client's first message to the ReadyForQuery
  // that answers it; a transaction until a ReadyForQuery says idle.
  void count(pool::PoolStats::Field field, uint64_t amount) {
    if (stats_ != nullptr) stats_->add(field, amount);
  }
  void client_message_started(Clock::time_point& now);
  void ready_for_query(char status);
  pool::PoolStats::Slot* stats_ = nullptr;
  bool query_running_ = false, in_transaction_ = false;
  Clock::time_point query_start_{}, transaction_start_{}, ready_at_{};
};

class Relay::LinkAwaiter {
 public:
  LinkAwaiter(Relay& relay, pool::ServerConnection& server, ReleasePolicy policy)
      : relay_(relay), server_(server), policy_(policy) {}
  bool await_ready() const noexcept { return false; }
  bool await_suspend(std::coroutine_handle<> waiter) {
    completion_.suspending();
    relay_.start_link(server_, policy_, LinkDone{waiter, &result_, &completion_});
    return completion_.suspended();
  }
  RelayResult await_resume() { return std::move(result_); }

 private:
  Relay& relay_;
  pool::ServerConnection& server_;
  ReleasePolicy policy_;
  RelayResult result_;
  net::Completion completion_;
};

inline Relay::LinkAwaiter Relay::link(pool::ServerConnection& server, ReleasePolicy policy) {
  return LinkAwaiter(*this, server, policy);
}

}  // namespace breakwater::session
