#include "net/stream.hpp"

#include <asio/experimental/as_tuple.hpp>
#include <sys/socket.h>

#include "net/notified_io.hpp"

namespace breakwater::net {

using asio::experimental::as_tuple;

// Not a coroutine: the plain path returns the socket's operation itself, so it
// allocates no frame of its own.
asio::awaitable<IoResult> Stream::write(asio::const_buffer buffer) {
  if (!tls_) return asio::async_write(socket_, buffer, as_tuple(asio::use_awaitable));
  return tls_->write(socket_, buffer);
}

Task<IoResult> Stream::receive(asio::mutable_buffer buffer) {
  IoResult now = read_now(buffer);
  if (std::get<0>(now) != asio::error::would_block) co_return now;
  co_return co_await await_io(
      [this, buffer](auto handler) { start_read_some(buffer, std::move(handler), asio::cancellation_slot()); });
}

// A login's or the console's message goes out at once where the socket takes it,
// ring or not: through the ring it would cost a suspension and a pass of the
// loop (two per login: the answer to SSLRequest and the welcome) to save a
// system call only when other sends share the turn.
Task<IoResult> Stream::send(asio::const_buffer buffer) {
  asio::error_code error;
  size_t sent = (tls_ || sending_ != nullptr) ? 0 : net::send_now(socket_, buffer, error);
  if (error || sent == buffer.size()) co_return IoResult{error, sent};
  auto [ec, rest] = co_await await_io(
      [this, left = buffer + sent](auto handler) { start_write(left, std::move(handler), asio::cancellation_slot()); });
  co_return IoResult{ec, sent + rest};
}

IoResult Stream::read_now(asio::mutable_buffer buffer) {
  if (tls_ || (ring_reads_ && IoRing::serving(socket_) != nullptr)) return {asio::error::would_block, 0};
  return net::read_now(socket_, buffer);
}

size_t Stream::write_now(asio::const_buffer buffer, asio::error_code& error) {
  if (tls_) return 0;
  // A server's send stays in the batch, where the read of its answer joins it
  // in one io_uring_enter.
  if (IoRing* ring = IoRing::serving(socket_)) {
    if (ring_reads_ || sending_ != nullptr || !ring->send_would_go_alone()) return 0;
  }
  return net::send_now(socket_, buffer, error);
}

void Stream::stop_started(asio::cancellation_signal& tls_stop) {
  if (tls_) {
    tls_stop.emit(asio::cancellation_type::terminal);
    return;
  }
  asio::error_code ignored;
  socket_.cancel(ignored);
  cancel_ring_operations();
}

void Stream::cancel_ring_operations() {
  if (sending_ == nullptr && receiving_ == nullptr) return;
  // Only the ring serving this thread holds this stream's operations.
  IoRing* ring = IoRing::serving(socket_);
  if (ring == nullptr) return;
  if (sending_ != nullptr) ring->cancel(sending_);
  if (receiving_ != nullptr) ring->cancel(receiving_);
}

void Stream::send_quietly(asio::const_buffer buffer) {
  // Bytes sent beside a send still in the ring could land inside its message.
  if (!socket_.is_open() || sending_ != nullptr) return;
  if (tls_) {
    tls_->send_quietly(socket_, buffer);
    return;
  }
  (void)::send(socket_.native_handle(), buffer.data(), buffer.size(), MSG_DONTWAIT | MSG_NOSIGNAL);
}

void Stream::close() {
  // An operation the kernel holds keeps the socket open until it is taken back.
  cancel_ring_operations();
  if (tls_) tls_->close_quietly(socket_);
  // No shutdown() first: nothing else holds the descriptor, so close() sends the FIN.
  asio::error_code ignored;
  socket_.close(ignored);
}

}  // namespace breakwater::net
