#pragma once
// A client waiting in a Pool's queue (pool.cpp's acquire() and the queue's own
// upkeep in pool_waiters.cpp). Private to the pool layer.

#include <asio.hpp>
#include <chrono>
#include <memory>

#include "net/task.hpp"
#include "net/worker_group.hpp"
#include "pool/pool_accounting.hpp"
#include "pool/server_connection.hpp"

namespace breakwater::pool {

struct PoolWaiter {
  explicit PoolWaiter(asio::io_context& io) : timer(io) {}
  // On the waiting client's worker; its executor is one pointer, not any_io_executor.
  net::Timer timer;
  PoolAccounting::Ticket ticket = 0;
  std::unique_ptr<ServerConnection> server;  // handed over by a releasing client
  bool slot_granted = false;                 // may open a server (the accounting counts it)
  // The timer's wait is in progress. Written and read on the waiter's worker only:
  // a wake from there may then cancel the wait at once, without posting.
  bool armed = false;
  // The timer's wait operation: a waiting transaction allocates nothing.
  net::TimerWaitMemory wait_memory;
};

}  // namespace breakwater::pool
