#pragma once
// How an operation of our own (notified_io.hpp, io_ring.hpp) ends, as Asio's
// own operations do: its memory goes back to the handler's allocator before the
// handler runs, so that the handler may start the next operation in the same room.

#include <asio.hpp>
#include <cstddef>
#include <utility>

namespace breakwater::net {

// `Op` was defined with ASIO_DEFINE_HANDLER_PTR and holds `handler` and `work`.
// `owner` is null when the loop is destroying the operation: the handler does not run.
template <class Op, class Handler, class IoExecutor>
void complete_operation(void* owner, Op* op, Handler& handler, asio::detail::handler_work<Handler, IoExecutor>& work,
                        const asio::error_code& ec, std::size_t bytes) {
  typename Op::ptr p = {asio::detail::addressof(handler), op, op};
  asio::detail::handler_work<Handler, IoExecutor> taken_work(std::move(work));
  asio::detail::binder2<Handler, asio::error_code, std::size_t> bound(handler, ec, bytes);
  p.h = asio::detail::addressof(bound.handler_);
  p.reset();
  if (owner) {
    asio::detail::fenced_block fence(asio::detail::fenced_block::half);
    taken_work.complete(bound, bound.handler_);
  }
}

}  // namespace breakwater::net
