#pragma once
// Reads that trust epoll. Asio's epoll reactor registers a socket once,
// edge-triggered, and remembers per socket whether an edge came since the last
// read that found it empty ("try speculative"). Its own async_read_some only
// clears that flag on end of file, so every read tries recv() first and, on a
// request/response connection, most of those return EAGAIN; its async_wait
// re-arms the socket with epoll_ctl every time. On the relay's path that was 2.8
// wasted recv and 2 epoll_ctl per transaction.
//
// The two operations here tell the reactor what a short read means: a recv()
// that returned less than it asked for emptied the socket, so the next read is
// queued until epoll reports new bytes, with no system call. A wait for
// readability is queued the same way, without re-arming. Edge-triggered epoll
// reports every arrival, so nothing is missed.
//
// They sit on Asio's reactor internals (asio::detail, Asio 1.22 as Debian ships
// it): the public API has no way to say "the socket is drained".

#include <asio.hpp>
#include <cerrno>
#include <optional>
#include <sys/socket.h>

#include "net/operation_completion.hpp"
#include "net/plain_syscalls.hpp"
#include "net/socket.hpp"

namespace breakwater::net {
namespace notified_detail {

using asio::detail::reactor_op;
using Reactor = asio::detail::reactor;
using SocketImpl = asio::detail::reactive_socket_service_base::base_implementation_type;

// basic_socket keeps the socket's reactor registration protected, and the socket
// service its start_op: reached through derived classes, never constructed.
struct SocketInternals : Socket {
  static auto& of(Socket& socket) { return socket.*(&SocketInternals::impl_); }
};
struct ServiceInternals : asio::detail::reactive_socket_service_base {
  // Makes the socket non-blocking if it is not yet, then hands the reactor `op`.
  static void start_read(reactive_socket_service_base& service, SocketImpl& impl, reactor_op* op, bool continuation) {
    (service.*(&ServiceInternals::start_op))(impl, Reactor::read_op, op, continuation, true, false);
  }
};

// The reactor's "an edge came since the socket was last found empty" flag is
// private to its descriptor state. An explicit instantiation may name a private
// member ([temp.spec.general]): this reads it without patching Asio.
struct TrySpeculativeFlags {
  using type = bool (Reactor::descriptor_state::*)[Reactor::max_ops];
  friend type member(TrySpeculativeFlags);
};
template <class Tag, typename Tag::type Member>
struct ExposeMember {
  friend typename Tag::type member(Tag) { return Member; }
};
template struct ExposeMember<TrySpeculativeFlags, &Reactor::descriptor_state::try_speculative_>;
// ... and its queues of operations waiting for epoll, with their lock.
struct OperationQueues {
  using type = asio::detail::op_queue<reactor_op> (Reactor::descriptor_state::*)[Reactor::max_ops];
  friend type member(OperationQueues);
};
template struct ExposeMember<OperationQueues, &Reactor::descriptor_state::op_queue_>;
struct DescriptorLock {
  using type = asio::detail::conditionally_enabled_mutex Reactor::descriptor_state::*;
  friend type member(DescriptorLock);
};
template struct ExposeMember<DescriptorLock, &Reactor::descriptor_state::mutex_>;
// ... the events it asked epoll for, and the reactor's epoll descriptor.
struct RegisteredEvents {
  using type = uint32_t Reactor::descriptor_state::*;
  friend type member(RegisteredEvents);
};
template struct ExposeMember<RegisteredEvents, &Reactor::descriptor_state::registered_events_>;
struct EpollDescriptor {
  using type = int Reactor::*;
  friend type member(EpollDescriptor);
};
template struct ExposeMember<EpollDescriptor, &Reactor::epoll_fd_>;

// ... and, for telling a descriptor's report from other operations, the loop's
// operation's function and result, and the descriptor state's own function.
// The operation's function type, as Asio declares it (its name is protected).
using OperationFunc = void (*)(void*, asio::detail::scheduler_operation*, const asio::error_code&, std::size_t);
struct OperationFunction {
  using type = OperationFunc asio::detail::scheduler_operation::*;
  friend type member(OperationFunction);
};
template struct ExposeMember<OperationFunction, &asio::detail::scheduler_operation::func_>;
struct OperationResult {
  using type = unsigned int asio::detail::scheduler_operation::*;
  friend type member(OperationResult);
};
template struct ExposeMember<OperationResult, &asio::detail::scheduler_operation::task_result_>;
struct DescriptorCompletion {
  using type = OperationFunc;
  friend type member(DescriptorCompletion);
};
template struct ExposeMember<DescriptorCompletion, &Reactor::descriptor_state::do_complete>;

// Per-operation cancellation (the relay's `||` cancels the losing side's read).
class Cancellation {
 public:
  Cancellation(asio::execution_context* context, Reactor::per_descriptor_data* data, int descriptor)
      : context_(context), data_(data), descriptor_(descriptor) {}
  void operator()(asio::cancellation_type_t type) {
    if (!!(type & (asio::cancellation_type::terminal | asio::cancellation_type::partial |
                   asio::cancellation_type::total))) {
      // Rare (once per link at most): the registry lookup is not on the read path.
      asio::use_service<Reactor>(*context_).cancel_ops_by_key(descriptor_, *data_, Reactor::read_op, this);
    }
  }

 private:
  asio::execution_context* context_;
  Reactor::per_descriptor_data* data_;
  int descriptor_;
};

// The reactor-facing part, free of the handler's type.
struct ReadPart : reactor_op {
  using Perform = status (*)(reactor_op*);
  ReadPart(func_type on_complete, Perform on_perform, int descriptor, asio::mutable_buffer into)
      : reactor_op(asio::error_code(), on_perform, on_complete), fd(descriptor), buffer(into) {}
  int fd;
  asio::mutable_buffer buffer;

  static status perform_read(reactor_op* base) {
    auto* op = static_cast<ReadPart*>(base);
    while (true) {
      ssize_t n = plain_recv(op->fd, op->buffer.data(), op->buffer.size(), 0);
      if (n >= 0) {
        op->bytes_transferred_ = static_cast<size_t>(n);
        if (n == 0) op->ec_ = asio::error::eof;
        // Short: the socket is empty now, and the reactor waits for epoll.
        return static_cast<size_t>(n) < op->buffer.size() ? done_and_exhausted : done;
      }
      if (errno == EINTR) continue;
      if (errno == EAGAIN || errno == EWOULDBLOCK) return not_done;
      op->ec_ = asio::error_code(errno, asio::error::get_system_category());
      return done;
    }
  }

  // Called either because epoll reported the socket readable (or hung up), or,
  // by the reactor's speculative try, because such an edge came since a read last
  // found it empty: either way there is something to read, or an end to see.
  static status perform_wait(reactor_op*) { return done; }
};

template <class Handler, class IoExecutor>
class Op : public ReadPart {
 public:
  ASIO_DEFINE_HANDLER_PTR(Op);

  Op(Perform on_perform, int descriptor, asio::mutable_buffer into, Handler& handler, const IoExecutor& io_ex)
      : ReadPart(&Op::do_complete, on_perform, descriptor, into), handler_(std::move(handler)), work_(handler_, io_ex) {}

  static void do_complete(void* owner, asio::detail::operation* base, const asio::error_code&, std::size_t) {
    Op* op = static_cast<Op*>(base);
    complete_operation(owner, op, op->handler_, op->work_, op->ec_, op->bytes_transferred_);
  }

 private:
  Handler handler_;
  asio::detail::handler_work<Handler, IoExecutor> work_;
};

// The acceptor keeps its implementation private, not protected.
struct AcceptorImpl {
  using type = asio::detail::io_object_impl<asio::detail::reactive_socket_service<asio::generic::stream_protocol>,
                                            Executor> Acceptor::*;
  friend type member(AcceptorImpl);
};
template struct ExposeMember<AcceptorImpl, &Acceptor::impl_>;

template <class Handler>
void start_on(asio::detail::reactive_socket_service_base& service, SocketImpl& impl, const Executor& executor,
              ReadPart::Perform perform, asio::mutable_buffer buffer, Handler& handler) {
  using OpType = Op<Handler, Executor>;
  const bool continuation = asio_handler_cont_helpers::is_continuation(handler);
  auto slot = asio::get_associated_cancellation_slot(handler);
  typename OpType::ptr p = {asio::detail::addressof(handler), OpType::ptr::allocate(handler), nullptr};
  p.p = new (p.v) OpType(perform, impl.socket_, buffer, handler, executor);
  if (slot.is_connected()) {
    asio::execution_context& context = asio::query(executor, asio::execution::context);
    p.p->cancellation_key_ = &slot.template emplace<Cancellation>(&context, &impl.reactor_data_, impl.socket_);
  }
  reactor_op* op = p.p;
  p.v = p.p = nullptr;
  ServiceInternals::start_read(service, impl, op, continuation);
}

template <class Handler>
void start(Socket& socket, ReadPart::Perform perform, asio::mutable_buffer buffer, Handler& handler) {
  auto& internals = SocketInternals::of(socket);
  start_on(internals.get_service(), internals.get_implementation(), socket.get_executor(), perform, buffer, handler);
}

}  // namespace notified_detail

// The size and alignment of a read or wait's operation for a handler of type Handler.
template <class Handler>
inline constexpr std::size_t wait_operation_size = sizeof(notified_detail::Op<Handler, Socket::executor_type>);
template <class Handler>
inline constexpr std::size_t wait_operation_align = alignof(notified_detail::Op<Handler, Socket::executor_type>);

// False when epoll has reported nothing on the socket since a read found it
// empty: it has no bytes and has not hung up, and looking (recv) would be wasted.
inline bool maybe_readable(Socket& socket) {
  using namespace notified_detail;
  Reactor::per_descriptor_data data = SocketInternals::of(socket).get_implementation().reactor_data_;
  return data == nullptr || (data->*member(TrySpeculativeFlags{}))[Reactor::read_op];
}

// Says the socket is empty: a read elsewhere (io_ring.hpp) returned less than it
// asked for. The next read waits for epoll's next report.
void mark_drained(Socket& socket);

// Reads what the socket holds now, without waiting: asio::error::would_block
// when it is empty (then without a system call if epoll said nothing since it
// was last found empty). A read that empties the socket says so to the reactor,
// so that the next asynchronous read waits for epoll. Safe because a worker's
// io_context runs on its one thread: no epoll event is taken in between.
IoResult read_now(Socket& socket, asio::mutable_buffer buffer);

// Takes back a read or wait started with the operations below that is still
// queued for epoll, `op` being where its memory starts: it is destroyed, and its
// handler never runs. False when the reactor has already performed it (its
// handler runs as usual). Saves the relay a cancel, a posted completion and a
// pass of the event loop when a link ends with the client's read pending.
bool take_back_read(Socket& socket, const void* op);

// A socket Breakwater alone holds (accepted, never duplicated). Asio takes a
// socket it was handed with assign() or accept() for one that might share its
// descriptor, and asks epoll to forget it before closing it; closing is enough
// for a descriptor nobody shares: one epoll_ctl fewer per connection.
void mark_unshared(Socket& socket);

// Moves an open socket to another worker's event loop (the descriptor leaves the
// old epoll set and joins the new one). Asio would take the socket it is handed
// for a fresh one: make it non-blocking again (ioctl) and try a recv() at its
// first read. Neither is needed: O_NONBLOCK belongs to the open file, and a
// socket found empty in the old loop is empty in the new one until epoll says
// otherwise (adding a ready descriptor to an epoll set reports it). On failure
// `error` is set and the socket is closed.
Socket move_socket(Socket& socket, asio::io_context& io, const asio::generic::stream_protocol& protocol,
                   asio::error_code& error);

// Stops epoll from reporting the socket writable. Asio asks for EPOLLOUT when a
// write (or a connect) first has to wait, and keeps it: a server's socket then
// reported an edge at every answer, though its ring read had taken the bytes,
// and each cost the loop an operation and the descriptor's lock. A later write
// that must wait asks for EPOLLOUT again. Not while a write or connect waits.
void drop_write_interest(Socket& socket);

// An operation epoll's poll produced (the reactor's `ops`): when it is a
// socket's report and no operation of that socket waits for epoll, records
// the edges as the report would have (reads may look again) and says true:
// the report has nothing else to do, and need not cost the loop an operation
// and the descriptor's lock. A server's socket, read through the ring
// (io_ring.hpp), is reported so at every answer, waking the loop for the ring.
bool absorb_idle_report(asio::detail::scheduler_operation* reported);

// Sends what the socket takes now, without waiting; `error` is set on failure.
size_t send_now(Socket& socket, asio::const_buffer buffer, asio::error_code& error);

// Reads what the socket holds into `buffer` (at least one byte, or an error;
// asio::error::eof at end of stream). Signature: void(asio::error_code, size_t).
template <class Token>
auto async_read_notified(Socket& socket, asio::mutable_buffer buffer, Token&& token) {
  return asio::async_initiate<Token, void(asio::error_code, std::size_t)>(
      [](auto handler, Socket* target, asio::mutable_buffer into) {
        notified_detail::start(*target, &notified_detail::ReadPart::perform_read, into, handler);
      },
      token, &socket, buffer);
}

// Completes once the socket has bytes to read, or has failed or hung up.
// Signature: void(asio::error_code, size_t), the size always 0. A handler that
// brings its own memory (see op_memory.hpp) needs wait_operation_size<Handler>.
template <class Token>
auto async_wait_readable(Socket& socket, Token&& token) {
  return asio::async_initiate<Token, void(asio::error_code, std::size_t)>(
      [](auto handler, Socket* target) {
        notified_detail::start(*target, &notified_detail::ReadPart::perform_wait, asio::mutable_buffer(), handler);
      },
      token, &socket);
}

// Accepts a connection that is waiting, without waiting: the new socket is
// non-blocking from accept4() (no ioctl later), registered with `io`'s
// reactor, and marked unshared. asio::error::would_block when none is waiting;
// the acceptor is then taken as drained, and async_wait_acceptable waits for
// epoll's next report without re-arming the listener. `peer` gets the address.
// Nothing (and `error` set) when no socket was accepted.
std::optional<Socket> accept_now(Acceptor& acceptor, asio::io_context& io, Endpoint& peer, asio::error_code& error);

// Completes once a connection may be waiting on the acceptor, or it is closed
// (asio::error::operation_aborted). Signature: void(asio::error_code, size_t).
template <class Token>
auto async_wait_acceptable(Acceptor& acceptor, Token&& token) {
  return asio::async_initiate<Token, void(asio::error_code, std::size_t)>(
      [](auto handler, Acceptor* target) {
        auto& internals = target->*member(notified_detail::AcceptorImpl{});
        notified_detail::start_on(internals.get_service(), internals.get_implementation(), target->get_executor(),
                                  &notified_detail::ReadPart::perform_wait, asio::mutable_buffer(), handler);
      },
      token, &acceptor);
}

}  // namespace breakwater::net
