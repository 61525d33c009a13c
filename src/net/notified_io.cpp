#include "net/notified_io.hpp"

#include <sys/epoll.h>
#include <unistd.h>

#include "base/assert.hpp"

namespace breakwater::net {

using namespace notified_detail;

namespace {

bool non_blocking(SocketImpl& impl) { return (impl.state_ & asio::detail::socket_ops::non_blocking) != 0; }

void mark_drained(SocketImpl& impl) {
  if (impl.reactor_data_ != nullptr) (impl.reactor_data_->*member(TrySpeculativeFlags{}))[Reactor::read_op] = false;
}

}  // namespace

void mark_drained(Socket& socket) { mark_drained(SocketInternals::of(socket).get_implementation()); }

IoResult read_now(Socket& socket, asio::mutable_buffer buffer) {
  SocketImpl& impl = SocketInternals::of(socket).get_implementation();
  // A socket never read asynchronously may still block: leave it to the reactor.
  if (!non_blocking(impl) || !maybe_readable(socket)) return {asio::error::would_block, 0};
  while (true) {
    ssize_t n = plain_recv(impl.socket_, buffer.data(), buffer.size(), 0);
    if (n > 0) {
      if (static_cast<size_t>(n) < buffer.size()) mark_drained(impl);
      return {asio::error_code(), static_cast<size_t>(n)};
    }
    if (n == 0) return {asio::error::eof, 0};
    if (errno == EINTR) continue;
    if (errno == EAGAIN || errno == EWOULDBLOCK) {
      mark_drained(impl);
      return {asio::error::would_block, 0};
    }
    return {asio::error_code(errno, asio::error::get_system_category()), 0};
  }
}

bool take_back_read(Socket& socket, const void* op) {
  SocketImpl& impl = SocketInternals::of(socket).get_implementation();
  Reactor::per_descriptor_data data = impl.reactor_data_;
  if (data == nullptr) return false;
  reactor_op* taken = nullptr;
  {
    asio::detail::conditionally_enabled_mutex::scoped_lock lock(data->*member(DescriptorLock{}));
    auto& queue = (data->*member(OperationQueues{}))[Reactor::read_op];
    if (queue.front() == nullptr || static_cast<const void*>(queue.front()) != op) return false;
    taken = queue.front();
    queue.pop();
  }
  // A queued operation counts as the loop's outstanding work until it completes.
  asio::use_service<asio::detail::scheduler>(asio::query(socket.get_executor(), asio::execution::context)).work_finished();
  taken->destroy();  // frees it without calling its handler
  return true;
}

void mark_unshared(Socket& socket) {
  SocketImpl& impl = SocketInternals::of(socket).get_implementation();
  impl.state_ = static_cast<asio::detail::socket_ops::state_type>(impl.state_ & ~asio::detail::socket_ops::possible_dup);
}

Socket move_socket(Socket& socket, asio::io_context& io, const asio::generic::stream_protocol& protocol,
                   asio::error_code& error) {
  SocketImpl& old_impl = SocketInternals::of(socket).get_implementation();
  const auto non_blocking_bits = old_impl.state_ & asio::detail::socket_ops::non_blocking;
  const bool was_drained = !maybe_readable(socket);
  Socket moved(io);
  int fd = socket.release(error);
  if (error) return moved;
  moved.assign(protocol, fd, error);
  if (error) {
    ::close(fd);
    return moved;
  }
  SocketImpl& impl = SocketInternals::of(moved).get_implementation();
  impl.state_ = static_cast<asio::detail::socket_ops::state_type>(impl.state_ | non_blocking_bits);
  if (was_drained) mark_drained(impl);
  mark_unshared(moved);
  return moved;
}

std::optional<Socket> accept_now(Acceptor& acceptor, asio::io_context& io, Endpoint& peer, asio::error_code& error) {
  auto& internals = acceptor.*member(AcceptorImpl{});
  auto& listener = internals.get_implementation();
  sockaddr_storage address{};
  socklen_t length = sizeof address;
  int fd;
  do {
    fd = ::accept4(listener.socket_, reinterpret_cast<sockaddr*>(&address), &length, SOCK_NONBLOCK | SOCK_CLOEXEC);
  } while (fd < 0 && errno == EINTR);
  if (fd < 0) {
    if (errno == EAGAIN || errno == EWOULDBLOCK) {
      mark_drained(listener);
      error = asio::error::would_block;
    } else {
      error = asio::error_code(errno, asio::error::get_system_category());
    }
    return std::nullopt;  // no Socket made: that costs a lookup of Asio's socket service
  }
  std::optional<Socket> accepted(std::in_place, io);
  accepted->assign(listener.protocol_, fd, error);
  if (error) {
    ::close(fd);
    return std::nullopt;
  }
  peer = Endpoint(&address, length, listener.protocol_.protocol());
  SocketImpl& impl = SocketInternals::of(*accepted).get_implementation();
  impl.state_ |= asio::detail::socket_ops::non_blocking;
  mark_unshared(*accepted);
  return accepted;
}

void drop_write_interest(Socket& socket) {
  SocketImpl& impl = SocketInternals::of(socket).get_implementation();
  Reactor::per_descriptor_data data = impl.reactor_data_;
  if (data == nullptr) return;
  auto& reactor = asio::use_service<Reactor>(asio::query(socket.get_executor(), asio::execution::context));
  asio::detail::conditionally_enabled_mutex::scoped_lock lock(data->*member(DescriptorLock{}));
  uint32_t& registered = data->*member(RegisteredEvents{});
  if ((registered & EPOLLOUT) == 0) return;
  BW_ASSERT((data->*member(OperationQueues{}))[Reactor::write_op].empty());
  epoll_event event{};
  event.events = registered & ~static_cast<uint32_t>(EPOLLOUT);
  event.data.ptr = data;
  if (::epoll_ctl(reactor.*member(EpollDescriptor{}), EPOLL_CTL_MOD, impl.socket_, &event) == 0) {
    registered = event.events;
  }
}

bool absorb_idle_report(asio::detail::scheduler_operation* reported) {
  if (reported->*member(OperationFunction{}) != member(DescriptorCompletion{})) return false;
  // A C-style cast: the state derives privately from the operation (the reactor
  // is its friend), and only this cast converts from a private base.
  auto* data = (Reactor::descriptor_state*)reported;  // NOLINT
  asio::detail::conditionally_enabled_mutex::scoped_lock lock(data->*member(DescriptorLock{}));
  auto& queues = data->*member(OperationQueues{});
  for (const auto& queue : queues) {
    if (!queue.empty()) return false;
  }
  // As the reactor's perform_io with nothing queued: each reported edge is noted.
  const uint32_t events = reported->*member(OperationResult{});
  static constexpr uint32_t kFlags[Reactor::max_ops] = {EPOLLIN, EPOLLOUT, EPOLLPRI};
  for (int j = 0; j < Reactor::max_ops; ++j) {
    if ((events & (kFlags[j] | EPOLLERR | EPOLLHUP)) != 0) (data->*member(TrySpeculativeFlags{}))[j] = true;
  }
  return true;
}

size_t send_now(Socket& socket, asio::const_buffer buffer, asio::error_code& error) {
  SocketImpl& impl = SocketInternals::of(socket).get_implementation();
  if (!non_blocking(impl)) return 0;  // the asynchronous write sets it up
  while (true) {
    ssize_t n = plain_send(impl.socket_, buffer.data(), buffer.size(), MSG_NOSIGNAL);
    if (n >= 0) return static_cast<size_t>(n);
    if (errno == EINTR) continue;
    if (errno != EAGAIN && errno != EWOULDBLOCK) error = asio::error_code(errno, asio::error::get_system_category());
    return 0;
  }
}

}  // namespace breakwater::net
