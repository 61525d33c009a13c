#include "net/stream.hpp"

#include <asio/experimental/as_tuple.hpp>
#include <sys/socket.h>

namespace breakwater::net {

using asio::experimental::as_tuple;

// Not coroutines: the plain path returns the socket's operation itself, so it
// allocates no frame of its own.
asio::awaitable<IoResult> Stream::read_some(asio::mutable_buffer buffer) {
  if (!tls_) return socket_.async_read_some(buffer, as_tuple(asio::use_awaitable));
  return tls_->read_some(socket_, buffer);
}

asio::awaitable<std::tuple<asio::error_code>> Stream::wait_readable() {
  return socket_.async_wait(asio::socket_base::wait_read, as_tuple(asio::use_awaitable));
}

asio::awaitable<IoResult> Stream::write(asio::const_buffer buffer) {
  if (!tls_) return asio::async_write(socket_, buffer, as_tuple(asio::use_awaitable));
  return tls_->write(socket_, buffer);
}

void Stream::send_quietly(asio::const_buffer buffer) {
  if (!socket_.is_open()) return;
  if (tls_) {
    tls_->send_quietly(socket_, buffer);
    return;
  }
  (void)::send(socket_.native_handle(), buffer.data(), buffer.size(), MSG_DONTWAIT | MSG_NOSIGNAL);
}

void Stream::close() {
  if (tls_) tls_->close_quietly(socket_);
  asio::error_code ignored;
  socket_.shutdown(asio::socket_base::shutdown_both, ignored);
  socket_.close(ignored);
}

}  // namespace breakwater::net
