#include "net/worker_group.hpp"

#include <pthread.h>

#include <string>

#include "net/io_ring.hpp"

namespace breakwater::net {

WorkerGroup::WorkerGroup(int count) {
  for (int i = 0; i < count; ++i) workers_.push_back(std::make_unique<Worker>(i));
}

WorkerGroup::~WorkerGroup() {
  stop();
  join();
}

void WorkerGroup::start() {
  sends_batched_ = !workers_.empty();
  for (auto& worker : workers_) sends_batched_ = IoRing::install(worker->io_) && sends_batched_;
  for (auto& worker : workers_) {
    threads_.emplace_back([w = worker.get()] {
      w->thread_id_ = std::this_thread::get_id();
      IoRing::serve_on_this_thread(w->io_);
      w->io_.run();
      IoRing::leave_this_thread();
    });
    // Named here rather than by the thread itself, so the name is there before the pooler listens: a thread
    // throttled by a CPU quota may not have run a single instruction yet when the first client arrives.
    std::string name = "bw-worker-" + std::to_string(worker->id());
    pthread_setname_np(threads_.back().native_handle(), name.c_str());
  }
}

void WorkerGroup::release_guards() {
  for (auto& worker : workers_) worker->guard_.reset();
}

void WorkerGroup::stop() {
  for (auto& worker : workers_) worker->io_.stop();
}

void WorkerGroup::join() {
  for (auto& thread : threads_) {
    if (thread.joinable()) thread.join();
  }
  threads_.clear();
}

}  // namespace breakwater::net
