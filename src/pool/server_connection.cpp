#include "pool/server_connection.hpp"

#include <sys/socket.h>

#include <algorithm>
#include <cctype>
#include <cerrno>

#include "net/notified_io.hpp"
#include "protocol/message_writer.hpp"

namespace breakwater::pool {

namespace {

char ascii_lower(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c + ('a' - 'A')) : c; }

bool equals_folded(std::string_view folded, std::string_view name) {
  if (folded.size() != name.size()) return false;
  for (size_t i = 0; i < name.size(); ++i) {
    if (folded[i] != ascii_lower(name[i])) return false;
  }
  return true;
}

}  // namespace

void ParameterMap::set(std::string_view name, std::string_view value) {
  for (auto& [key, current] : items_) {
    if (key == name) {
      if (current != value) {
        current = value;
        ++version_;
      }
      return;
    }
  }
  ++version_;
  items_.emplace_back(name, value);
  std::string folded(name);
  for (char& c : folded) c = ascii_lower(c);
  folded_names_.push_back(std::move(folded));
}

const std::string* ParameterMap::find(std::string_view name) const {
  for (const auto& [key, value] : items_) {
    if (key == name) return &value;
  }
  return nullptr;
}

const std::string* ParameterMap::find_any_case(std::string_view name) const {
  for (size_t i = 0; i < items_.size(); ++i) {
    if (equals_folded(folded_names_[i], name)) return &items_[i].second;
  }
  return nullptr;
}

void ServerConnection::move_to(asio::io_context& io, int new_worker_id) {
  net::Socket& socket = stream.socket();
  if (&socket.get_executor().context() == &io) return;
  asio::error_code ec;
  if (!protocol) protocol = socket.local_endpoint(ec).protocol();
  stream.replace_socket(net::move_socket(socket, io, *protocol, ec));
  worker_id = new_worker_id;
}

bool ServerConnection::looks_alive() {
  if (!stream.is_open() || stream.has_buffered_input()) return false;
  // Nothing came since its last read found it empty (a hang-up would have come as an event).
  if (!net::maybe_readable(stream.socket())) return true;
  char byte;
  ssize_t n = ::recv(stream.socket().native_handle(), &byte, 1, MSG_PEEK | MSG_DONTWAIT);
  return n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK);
}

void ServerConnection::say_goodbye_and_close() {
  protocol::ByteBuffer terminate;
  protocol::write_terminate(terminate);
  stream.send_quietly(asio::buffer(terminate));
  stream.close();
}

}  // namespace breakwater::pool
