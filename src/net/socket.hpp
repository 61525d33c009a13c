#pragma once
// One socket type for TCP and unix-domain streams alike, on both sides of the
// pooler, so sessions and server connections need no template on the transport.

#include <asio.hpp>
#include <stdexcept>
#include <tuple>

namespace breakwater::net {

// Bound to one worker's io_context, never type-erased: an executor that is one
// pointer, not any_io_executor's 56 bytes, in every socket and every pending
// operation's work guard (an idle client is a socket and one wait).
using Executor = asio::io_context::executor_type;
using Socket = asio::basic_stream_socket<asio::generic::stream_protocol, Executor>;
using Acceptor = asio::basic_socket_acceptor<asio::generic::stream_protocol, Executor>;
using Endpoint = asio::generic::stream_protocol::endpoint;

// The worker's executor behind a coroutine's (asio::this_coro::executor): every
// coroutine of ours runs on a worker's io_context.
inline Executor worker_executor(const asio::any_io_executor& executor) {
  const Executor* inner = executor.target<Executor>();
  if (inner == nullptr) throw std::logic_error("a socket opened outside a worker's io_context");
  return *inner;
}

// What a read or a write on a socket or a stream ends with: an error, and the bytes moved.
using IoResult = std::tuple<asio::error_code, size_t>;

}  // namespace breakwater::net
