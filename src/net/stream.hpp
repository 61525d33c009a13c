#pragma once
// A connection's byte stream, plain or TLS, on either side of the pooler. The
// plain path costs nothing over the socket: read_some and write hand back the
// socket's own awaitable operations.

#include <asio.hpp>
#include <memory>

#include "base/assert.hpp"
#include "net/notified_io.hpp"
#include "net/io_ring.hpp"
#include "net/socket.hpp"
#include "net/task.hpp"
#include "net/tls_channel.hpp"

namespace breakwater::net {

class Stream {
 public:
  explicit Stream(Socket socket) : socket_(std::move(socket)) {}

  Socket& socket() { return socket_; }
  const Socket& socket() const { return socket_; }
  bool is_open() const { return socket_.is_open(); }

  // For a net::Task (the login, the console, queries of the pooler's own): what
  // the socket can answer now costs no suspension and no pass of the event loop,
  // which Asio's own operations take even when they complete at once. Plain reads
  // trust epoll (net/notified_io.hpp): no recv() is tried on a socket known to be
  // empty, and no re-arming. An idle client waits for bytes without a buffer with
  // net::async_wait_readable() on socket(). send: the whole buffer, or an error.
  Task<IoResult> receive(asio::mutable_buffer buffer);
  Task<IoResult> send(asio::const_buffer buffer);
  // The whole buffer, or an error, for an asio::awaitable (the server TLS request).
  asio::awaitable<IoResult> write(asio::const_buffer buffer);

  // Without waiting, for the relay: a call that completes at once costs no
  // suspension and no trip through the event loop. A TLS stream answers
  // would_block and 0 bytes, and the caller awaits the operations above.
  IoResult read_now(asio::mutable_buffer buffer);
  // Sends nothing (0) where the loop batches sends (net/io_ring.hpp): the
  // caller's start_write queues the buffer for the loop's next submission.
  // Unless the send would be alone in the next batch
  // (IoRing::send_would_go_alone), on a client's stream.
  size_t write_now(asio::const_buffer buffer, asio::error_code& error);

  // Callback forms, for the relay's state machine (session/relay.cpp): a plain
  // stream starts the socket's own operation with `handler`, whose allocator holds
  // it, so a transaction costs no coroutine frame; a TLS stream runs its coroutine,
  // which `tls_stop` ends. Signature: void(asio::error_code, size_t).
  template <class Handler>
  void start_read_some(asio::mutable_buffer buffer, Handler handler, asio::cancellation_slot tls_stop);
  template <class Handler>
  void start_write(asio::const_buffer buffer, Handler handler, asio::cancellation_slot tls_stop);
  // Ends what the two above started: the handler runs with operation_aborted, or
  // with what had already completed.
  void stop_started(asio::cancellation_signal& tls_stop);

  // From here on the stream is encrypted; the handshake is the caller's to run.
  void start_tls(std::unique_ptr<TlsChannel> channel) { tls_ = std::move(channel); }

  // Reads go through the worker's io_uring batch too (io_ring.hpp): for a
  // server's stream, whose reads are short waits for an answer inside a link.
  // read_now then reads nothing, and start_read_some queues the read. A client's
  // stream is left to epoll: its next read is usually pending when a link ends,
  // and taking back a read queued for epoll costs no system call (see
  // start_read_in_ring for the reads that rarely need taking back).
  void read_through_ring() { ring_reads_ = true; }
  // Where a ring serves this plain stream, a read of what its socket holds now
  // can go in the loop's batch (IoRing::async_receive_now): for a client epoll
  // has just woken, whose read then costs no recv() of its own. Signature:
  // void(asio::error_code, size_t); asio::error::would_block when it held nothing.
  bool batches_ready_reads() { return !tls_ && IoRing::serving(socket_) != nullptr; }
  // The loop woke for this worker's one socket alone (IoRing::woke_for_one_alone):
  // a ready read then costs less by itself than in the next turn's batch.
  bool woken_alone() {
    IoRing* ring = IoRing::serving(socket_);
    return ring != nullptr && ring->woke_for_one_alone();
  }
  template <class Handler>
  void start_read_ready(asio::mutable_buffer buffer, Handler handler) {
    BW_ASSERT(batches_ready_reads() && receiving_ == nullptr);
    IoRing::serving(socket_)->async_receive_now(socket_, buffer, std::move(handler), &receiving_);
  }
  // A read that waits in the loop's ring for the next bytes (where
  // batches_ready_reads()), as a server's do: for a client inside a link whose
  // server has answered everything, so that the link cannot end before the
  // client speaks and the read is rarely taken back. Its bytes then cost no
  // recv() of their own. Signature: void(asio::error_code, size_t).
  template <class Handler>
  void start_read_in_ring(asio::mutable_buffer buffer, Handler handler) {
    BW_ASSERT(batches_ready_reads() && receiving_ == nullptr);
    IoRing::serving(socket_)->async_receive(socket_, buffer, std::move(handler), &receiving_);
  }
  // A read of this stream's is in the ring (tests).
  bool ring_read_pending() const { return receiving_ != nullptr; }
  TlsChannel* tls() const { return tls_.get(); }
  bool plain() const { return !tls_; }
  // Bytes already taken off the socket wait inside the TLS session.
  bool has_buffered_input() const { return tls_ && tls_->has_buffered_input(); }

  // Re-registers the socket with another event loop (see ServerConnection::move_to);
  // the TLS session, which holds no reference to it, carries on unchanged.
  void replace_socket(Socket socket) {
    BW_ASSERT(sending_ == nullptr && receiving_ == nullptr);
    socket_ = std::move(socket);
  }
  // Best effort, never waits: for a goodbye (Terminate) before closing.
  void send_quietly(asio::const_buffer buffer);
  // Sends a TLS close_notify when it can, then closes.
  void close();

 private:
  void cancel_ring_operations();

  Socket socket_;
  std::unique_ptr<TlsChannel> tls_;
  // The plain send and read the loop's ring holds, each until it completes
  // (for cancel); 24 bytes every client pays, see the note.
  IoRing::Operation* sending_ = nullptr;
  IoRing::Operation* receiving_ = nullptr;
  bool ring_reads_ = false;
};

namespace stream_detail {
// A TLS operation's coroutine ends in the callback form's handler; a coroutine
// stopped by its cancellation slot ends in an exception.
template <class Handler>
auto ending_in(Handler handler) {
  return [handler = std::move(handler)](std::exception_ptr error, IoResult result) mutable {
    if (error) result = {asio::error::operation_aborted, 0};
    handler(std::get<0>(result), std::get<1>(result));
  };
}
}  // namespace stream_detail

template <class Handler>
void Stream::start_read_some(asio::mutable_buffer buffer, Handler handler, asio::cancellation_slot tls_stop) {
  if (!tls_) {
    if (ring_reads_) {
      if (IoRing* ring = IoRing::serving(socket_)) {
        ring->async_receive(socket_, buffer, std::move(handler), &receiving_);
        return;
      }
    }
    async_read_notified(socket_, buffer, std::move(handler));
    return;
  }
  asio::co_spawn(socket_.get_executor(), tls_->read_some(socket_, buffer),
                 asio::bind_cancellation_slot(tls_stop, stream_detail::ending_in(std::move(handler))));
}

template <class Handler>
void Stream::start_write(asio::const_buffer buffer, Handler handler, asio::cancellation_slot tls_stop) {
  if (!tls_) {
    if (IoRing* ring = IoRing::serving(socket_)) {
      ring->async_send(socket_, buffer, std::move(handler), &sending_);
      return;
    }
    asio::async_write(socket_, buffer, std::move(handler));
    return;
  }
  asio::co_spawn(socket_.get_executor(), tls_->write(socket_, buffer),
                 asio::bind_cancellation_slot(tls_stop, stream_detail::ending_in(std::move(handler))));
}

}  // namespace breakwater::net
