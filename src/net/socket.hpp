#pragma once
// One socket type for TCP and unix-domain streams alike, on both sides of the
// pooler, so sessions and server connections need no template on the transport.

#include <asio.hpp>
#include <tuple>

namespace breakwater::net {

using Socket = asio::generic::stream_protocol::socket;
using Acceptor = asio::basic_socket_acceptor<asio::generic::stream_protocol>;
using Endpoint = asio::generic::stream_protocol::endpoint;

// What a read or a write on a socket or a stream ends with: an error, and the bytes moved.
using IoResult = std::tuple<asio::error_code, size_t>;

}  // namespace breakwater::net
