#pragma once
// One socket type for TCP and unix-domain streams alike, on both sides of the
// pooler, so sessions and server connections need no template on the transport.

#include <asio.hpp>

namespace breakwater::net {

using Socket = asio::generic::stream_protocol::socket;
using Acceptor = asio::basic_socket_acceptor<asio::generic::stream_protocol>;
using Endpoint = asio::generic::stream_protocol::endpoint;

}  // namespace breakwater::net
