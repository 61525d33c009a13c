#pragma once
// The event loops: `workers` threads, each running its own io_context. A client
// session lives on one worker for its whole life; nothing on a worker's hot path
// takes a lock except a Pool's.

#include <memory>
#include <thread>
#include <vector>

#include <asio.hpp>

#include "net/buffer_pool.hpp"
#include "net/cache_census.hpp"

namespace breakwater::net {

// Worker-local: its io_context runs on one thread, started by WorkerGroup.
class Worker {
 public:
  explicit Worker(int id) : id_(id), io_(1), guard_(asio::make_work_guard(io_)) {}
  int id() const { return id_; }
  asio::io_context& io() { return io_; }
  // Relay buffers for this worker's sessions (its own thread only).
  BufferPool& buffers() { return buffers_; }
  // What this worker's caches held at the janitor's last round (any thread may read).
  CacheCensus& census() { return census_; }
  bool on_owner_thread() const { return std::this_thread::get_id() == thread_id_; }

 private:
  friend class WorkerGroup;
  int id_;
  BufferPool buffers_;
  CacheCensus census_;
  // Declared after buffers_, so destroyed before it: the sessions the loop's
  // destruction ends give their relays' buffers back there.
  asio::io_context io_;
  asio::executor_work_guard<asio::io_context::executor_type> guard_;
  std::thread::id thread_id_;
};

class WorkerGroup {
 public:
  explicit WorkerGroup(int count);
  ~WorkerGroup();
  WorkerGroup(const WorkerGroup&) = delete;
  WorkerGroup& operator=(const WorkerGroup&) = delete;

  size_t size() const { return workers_.size(); }
  Worker& worker(size_t index) { return *workers_[index]; }

  void start();
  // Whether the workers' sends go through io_uring (net/io_ring.hpp), once started.
  bool sends_batched() const { return sends_batched_; }
  // Lets each loop finish once its work is done (graceful).
  void release_guards();
  // Stops every loop now.
  void stop();
  void join();

 private:
  std::vector<std::unique_ptr<Worker>> workers_;
  std::vector<std::thread> threads_;
  bool sends_batched_ = false;
};

}  // namespace breakwater::net
