#include "pool/server_connection.hpp"

#include <sys/socket.h>

#include <algorithm>
#include <cctype>
#include <cerrno>

namespace breakwater::pool {

void ParameterMap::set(std::string_view name, std::string_view value) {
  for (auto& [key, current] : items_) {
    if (key == name) {
      current = value;
      return;
    }
  }
  items_.emplace_back(name, value);
}

const std::string* ParameterMap::find(std::string_view name) const {
  for (const auto& [key, value] : items_) {
    if (key == name) return &value;
  }
  return nullptr;
}

const std::string* ParameterMap::find_any_case(std::string_view name) const {
  for (const auto& [key, value] : items_) {
    if (key.size() == name.size() &&
        std::equal(key.begin(), key.end(), name.begin(), [](char a, char b) {
          return std::tolower(static_cast<unsigned char>(a)) == std::tolower(static_cast<unsigned char>(b));
        })) {
      return &value;
    }
  }
  return nullptr;
}

void ServerConnection::move_to(asio::io_context& io, int new_worker_id) {
  if (&socket.get_executor().context() == &io) return;
  asio::error_code ec;
  auto protocol = socket.local_endpoint(ec).protocol();
  int fd = socket.release(ec);
  net::Socket moved(io);
  if (!ec) moved.assign(protocol, fd, ec);
  socket = std::move(moved);
  worker_id = new_worker_id;
}

bool ServerConnection::looks_alive() {
  if (!socket.is_open()) return false;
  char byte;
  ssize_t n = ::recv(socket.native_handle(), &byte, 1, MSG_PEEK | MSG_DONTWAIT);
  return n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK);
}

}  // namespace breakwater::pool
