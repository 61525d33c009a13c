#pragma once
// Sends handed to the kernel together, one system call per turn of a worker's
// event loop, through io_uring.
//
// On the benchmark machine (a virtual machine) a system call costs about 0.95 us
// before it does any work, and the relay made one send() per message it passed
// on: two per transaction. Here a send is only queued when the relay starts it;
// when the loop has run every handler it had and is about to poll epoll, the ring
// prepares the queued sends and submits them in one io_uring_enter. A send the
// socket takes at once completes inside that call, and its handler runs in the
// same turn, before epoll is polled.
//
// The ring puts itself in front of Asio's epoll reactor as the scheduler's
// "task" (what the loop runs when it has no handler left, asio::detail, Asio
// 1.22): submit, collect completions, then let the reactor poll, without
// blocking if anything completed. A send that had to wait for room completes
// later, in the kernel; an eventfd registered for such completions only wakes
// epoll.
//
// Where io_uring cannot be used (old kernel, seccomp, kernel.io_uring_disabled,
// BREAKWATER_IO_URING=0), no ring is installed and streams send with send().

#include <liburing.h>

#include <asio.hpp>
#include <cstddef>

#include "net/operation_completion.hpp"
#include "net/socket.hpp"

namespace breakwater::net {

class SendRing;

namespace send_ring_detail {

// The ring-facing part of a send, free of the handler's type.
struct SendPart : asio::detail::scheduler_operation {
  explicit SendPart(func_type on_complete) : scheduler_operation(on_complete) {}

  Socket* socket = nullptr;
  const unsigned char* data = nullptr;
  size_t size = 0;
  size_t sent = 0;
  asio::error_code ec;
  // The stream's note of its send in flight, cleared when the send completes.
  SendPart** in_flight = nullptr;
  SendPart* next_queued = nullptr;
  bool submitted = false;
  bool cancelled = false;
};

template <class Handler, class IoExecutor>
class SendOp : public SendPart {
 public:
  ASIO_DEFINE_HANDLER_PTR(SendOp);

  SendOp(Handler& handler, const IoExecutor& io_ex)
      : SendPart(&SendOp::do_complete), handler_(std::move(handler)), work_(handler_, io_ex) {}

  static void do_complete(void* owner, asio::detail::scheduler_operation* base, const asio::error_code&,
                          std::size_t) {
    SendOp* op = static_cast<SendOp*>(base);
    complete_operation(owner, op, op->handler_, op->work_, op->ec, op->sent);
  }

 private:
  Handler handler_;
  asio::detail::handler_work<Handler, IoExecutor> work_;
};

}  // namespace send_ring_detail

// The size of a send's operation for a handler of type Handler, for handlers
// that bring their own memory (op_memory.hpp).
template <class Handler>
inline constexpr std::size_t send_operation_size =
    sizeof(send_ring_detail::SendOp<Handler, Socket::executor_type>);

class SendRing : public asio::detail::execution_context_service_base<SendRing>,
                 private asio::detail::scheduler_task {
 public:
  using SendPart = send_ring_detail::SendPart;

  explicit SendRing(asio::execution_context& context);
  ~SendRing();

  // Puts a ring in front of `io`'s reactor, before its loop runs. False, with
  // nothing changed, where io_uring cannot be used.
  static bool install(asio::io_context& io);
  // Makes `io`'s ring, if it has one, the calling thread's: the thread that runs
  // `io`. Sends are only batched on that thread.
  static void serve_on_this_thread(asio::io_context& io);
  static void leave_this_thread();
  // The calling thread's ring when it serves the loop `socket` is registered with.
  static SendRing* serving(Socket& socket) {
    SendRing* ring = current_;
    return ring != nullptr && ring->io_ == &socket.get_executor().context() ? ring : nullptr;
  }

  // Sends the whole buffer (as asio::async_write), queued for this turn's batch.
  // Signature: void(asio::error_code, size_t). `*in_flight` names the send until
  // it completes (for cancel). The buffer, the socket and `in_flight` must stay
  // until the handler runs.
  template <class Handler>
  void async_send(Socket& socket, asio::const_buffer buffer, Handler handler, SendPart** in_flight) {
    using Op = send_ring_detail::SendOp<Handler, Socket::executor_type>;
    typename Op::ptr p = {asio::detail::addressof(handler), Op::ptr::allocate(handler), nullptr};
    p.p = new (p.v) Op(handler, socket.get_executor());
    SendPart* op = p.p;
    p.v = p.p = nullptr;
    op->socket = &socket;
    op->data = static_cast<const unsigned char*>(buffer.data());
    op->size = buffer.size();
    op->in_flight = in_flight;
    *in_flight = op;
    enqueue(op);
  }

  // The send completes with asio::error::operation_aborted unless the kernel had
  // already finished it; its handler runs either way, in a later handler call.
  void cancel(SendPart* op);

  // How many io_uring_enter calls this ring has made (tests).
  size_t submissions() const { return submissions_; }

 private:
  void shutdown() override;
  void run(long usec, asio::detail::op_queue<asio::detail::scheduler_operation>& ops) override;
  void interrupt() override;

  bool start(asio::io_context& io);
  void enqueue(SendPart* op);
  void requeue(SendPart* op);
  void submit_queued(asio::detail::op_queue<asio::detail::scheduler_operation>& ops);
  void collect(asio::detail::op_queue<asio::detail::scheduler_operation>& ops);
  void finish(SendPart* op, asio::detail::op_queue<asio::detail::scheduler_operation>& ops);
  io_uring_sqe* next_sqe();
  void submit();
  void restore_reactor();

  static thread_local SendRing* current_;

  io_uring ring_{};
  bool ring_open_ = false;
  int event_fd_ = -1;
  asio::io_context* io_ = nullptr;
  asio::detail::scheduler* scheduler_ = nullptr;
  asio::detail::reactor* reactor_ = nullptr;
  asio::detail::reactor::per_descriptor_data event_registration_ = nullptr;
  SendPart* queued_head_ = nullptr;
  SendPart* queued_tail_ = nullptr;
  size_t in_kernel_ = 0;
  size_t submissions_ = 0;
};

}  // namespace breakwater::net
