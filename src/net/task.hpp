#pragma once
// A lighter coroutine than asio::awaitable, for the steps a transaction takes
// (resume from a park, wait for a server, relay, release). Asio's awaitable
// starts each resumed session with co_spawn: an entry frame, work guards, a
// dispatch through a type-erased executor, and frames that mostly miss Asio's
// two-block cache and go to malloc. A Task is a plain lazy coroutine: awaiting
// one transfers control to it directly, its frame comes from a per-thread
// cache, and an asynchronous operation resumes it from its completion handler.
//
// A Task runs on one worker's thread from start to end. Where it must await an
// asio::awaitable (the rare, slow steps: opening a server, a reset query) it
// goes through await_asio(); an asio::awaitable awaits a Task through
// as_awaitable().

#include <asio.hpp>
#include <chrono>
#include <coroutine>
#include <cstddef>
#include <exception>
#include <optional>
#include <tuple>
#include <utility>

#include "net/frame_cache.hpp"
#include "net/socket.hpp"

namespace breakwater::net {

template <class T>
class Task;

namespace task_detail {

// Frames come from the thread's cache: a transaction's frames are reused by the
// next transaction instead of taking malloc's way each time.
struct FrameAllocation {
  static void* operator new(std::size_t size) { return FrameCache::allocate(size); }
  static void operator delete(void* frame, std::size_t size) { FrameCache::deallocate(frame, size); }
};

// At its end a task resumes whoever awaited it, without growing the stack.
struct FinalAwaiter {
  bool await_ready() const noexcept { return false; }
  template <class Promise>
  std::coroutine_handle<> await_suspend(std::coroutine_handle<Promise> done) noexcept {
    std::coroutine_handle<> next = done.promise().continuation;
    return next ? next : std::noop_coroutine();
  }
  void await_resume() const noexcept {}
};

struct PromiseBase : FrameAllocation {
  std::coroutine_handle<> continuation;
  std::exception_ptr error;
  std::suspend_always initial_suspend() const noexcept { return {}; }
  FinalAwaiter final_suspend() const noexcept { return {}; }
  void unhandled_exception() { error = std::current_exception(); }
};

template <class T>
struct Promise : PromiseBase {
  std::optional<T> value;
  Task<T> get_return_object();
  template <class U>
  void return_value(U&& result) {
    value.emplace(std::forward<U>(result));
  }
  T take() {
    if (error) std::rethrow_exception(error);
    return std::move(*value);
  }
};

template <>
struct Promise<void> : PromiseBase {
  Task<void> get_return_object();
  void return_void() const noexcept {}
  void take() {
    if (error) std::rethrow_exception(error);
  }
};

}  // namespace task_detail

// Lazy: nothing runs until it is awaited (or started by spawn_detached()).
template <class T>
class [[nodiscard]] Task {
 public:
  using promise_type = task_detail::Promise<T>;
  using value_type = T;

  explicit Task(std::coroutine_handle<promise_type> handle) : handle_(handle) {}
  Task(Task&& other) noexcept : handle_(std::exchange(other.handle_, {})) {}
  Task& operator=(Task&& other) noexcept {
    if (this != &other) {
      if (handle_) handle_.destroy();
      handle_ = std::exchange(other.handle_, {});
    }
    return *this;
  }
  Task(const Task&) = delete;
  Task& operator=(const Task&) = delete;
  ~Task() {
    if (handle_) handle_.destroy();
  }

  auto operator co_await() && noexcept {
    struct Awaiter {
      std::coroutine_handle<promise_type> task;
      bool await_ready() const noexcept { return false; }
      std::coroutine_handle<> await_suspend(std::coroutine_handle<> caller) noexcept {
        task.promise().continuation = caller;
        return task;
      }
      T await_resume() { return task.promise().take(); }
    };
    return Awaiter{handle_};
  }

 private:
  std::coroutine_handle<promise_type> handle_;
};

template <class T>
Task<T> task_detail::Promise<T>::get_return_object() {
  return Task<T>(std::coroutine_handle<Promise<T>>::from_promise(*this));
}
inline Task<void> task_detail::Promise<void>::get_return_object() {
  return Task<void>(std::coroutine_handle<Promise<void>>::from_promise(*this));
}

namespace task_detail {

// The owner of a task nobody awaits: it frees itself at the end. A task left
// suspended when its event loop is destroyed (shutdown) is not freed.
struct Detached {
  struct promise_type : FrameAllocation {
    Detached get_return_object() const noexcept { return {}; }
    std::suspend_never initial_suspend() const noexcept { return {}; }
    std::suspend_never final_suspend() const noexcept { return {}; }
    void return_void() const noexcept {}
    void unhandled_exception() const noexcept { std::terminate(); }  // run_detached catches all
  };
};

template <class OnError>
Detached run_detached(Task<void> task, OnError on_error) {
  try {
    co_await std::move(task);
  } catch (...) {
    on_error(std::current_exception());
  }
}

}  // namespace task_detail

// Starts `task` now, on this thread; it runs until its first suspension before
// this returns. `on_error(std::exception_ptr)` gets what escapes it.
template <class OnError>
void spawn_detached(Task<void> task, OnError on_error) {
  task_detail::run_detached(std::move(task), std::move(on_error));
}

// An operation that may complete inside its own initiation (before the awaiting
// coroutine has suspended) or later from the event loop: the state both sides
// share, so that the awaiter resumes at once in the first case instead of
// being resumed from within its own await_suspend.
class Completion {
 public:
  void suspending() { initiating_ = true; }
  // Whether the coroutine stays suspended (await_suspend's answer).
  bool suspended() {
    initiating_ = false;
    return !completed_;
  }
  // The completion side: resumes the coroutine unless it has not suspended yet.
  void complete(std::coroutine_handle<> waiter) {
    completed_ = true;
    if (!initiating_) waiter.resume();
  }

 private:
  bool initiating_ = false, completed_ = false;
};

namespace task_detail {

// Asio's co_spawn and use_awaitable want a default-constructible result; the
// value travels beside them instead, in the awaiting frame.
template <class T>
asio::awaitable<void> store_into(asio::awaitable<T> work, std::optional<T>& value) {
  value.emplace(co_await std::move(work));
}

}  // namespace task_detail

// A Task awaits an asio::awaitable (co_spawned on `executor`, which must be the
// thread's own event loop).
template <class T, class AsioExecutor, class Executor>
auto await_asio(const Executor& executor, asio::awaitable<T, AsioExecutor> work) {
  struct Awaiter {
    Executor executor;
    asio::awaitable<T, AsioExecutor> work;
    std::exception_ptr error;
    std::optional<std::conditional_t<std::is_void_v<T>, bool, T>> value;
    Completion completion;

    bool await_ready() const noexcept { return false; }
    bool await_suspend(std::coroutine_handle<> waiter) {
      completion.suspending();
      auto done = [this, waiter](std::exception_ptr failure) {
        error = failure;
        completion.complete(waiter);
      };
      if constexpr (std::is_void_v<T>) {
        asio::co_spawn(executor, std::move(work), std::move(done));
      } else {
        asio::co_spawn(executor, task_detail::store_into(std::move(work), value), std::move(done));
      }
      return completion.suspended();
    }
    T await_resume() {
      if (error) std::rethrow_exception(error);
      if constexpr (!std::is_void_v<T>) return std::move(*value);
    }
  };
  return Awaiter{executor, std::move(work), {}, {}, {}};
}

namespace task_detail {

// Runs the task, then hands its outcome to an Asio completion handler, posted:
// the task may have finished inside the initiation, where use_awaitable's
// handler must not run yet.
template <class T, class Handler>
Detached finish_into(Task<T> task, std::optional<std::conditional_t<std::is_void_v<T>, bool, T>>* value,
                     Handler handler) {
  std::exception_ptr error;
  try {
    if constexpr (std::is_void_v<T>) {
      co_await std::move(task);
    } else {
      value->emplace(co_await std::move(task));
    }
  } catch (...) {
    error = std::current_exception();
  }
  auto executor = asio::get_associated_executor(handler);
  asio::post(executor, [handler = std::move(handler), error]() mutable { std::move(handler)(error); });
}

}  // namespace task_detail

// An asio::awaitable awaits a Task: `co_await as_awaitable(task)`.
template <class T>
asio::awaitable<T> as_awaitable(Task<T> task) {
  std::optional<std::conditional_t<std::is_void_v<T>, bool, T>> value;
  co_await asio::async_initiate<decltype(asio::use_awaitable), void(std::exception_ptr)>(
      [&value](auto handler, Task<T> work) { task_detail::finish_into(std::move(work), &value, std::move(handler)); },
      asio::use_awaitable, std::move(task));
  if constexpr (!std::is_void_v<T>) co_return std::move(*value);
}

// A Task awaits an operation of the callback form, void(asio::error_code, size_t):
// `start(handler)` starts it (a socket's read or wait, a Stream's start_read_some).
template <class Start>
auto await_io(Start start) {
  struct Awaiter {
    Start start;
    std::tuple<asio::error_code, std::size_t> result;
    Completion completion;

    struct Resume {
      Awaiter* awaiter;
      std::coroutine_handle<> waiter;
      void operator()(asio::error_code ec, std::size_t n) const {
        awaiter->result = {ec, n};
        awaiter->completion.complete(waiter);
      }
    };
    bool await_ready() const noexcept { return false; }
    bool await_suspend(std::coroutine_handle<> waiter) {
      completion.suspending();
      start(Resume{this, waiter});
      return completion.suspended();
    }
    std::tuple<asio::error_code, std::size_t> await_resume() const noexcept { return result; }
  };
  return Awaiter{std::move(start), {}, {}};
}

// A worker's timer: its executor is one pointer, not any_io_executor.
using Timer = asio::basic_waitable_timer<std::chrono::steady_clock, asio::wait_traits<std::chrono::steady_clock>, Executor>;

}  // namespace breakwater::net
