// net::Task (net/task.hpp): values and exceptions pass through nested awaits;
// a detached task runs at once up to its first suspension and is resumed by an
// operation's completion; Tasks and asio::awaitables await each other whether
// the awaited side suspends or not; frames are reused per thread.

#include <gtest/gtest.h>

#include <thread>

#include <algorithm>
#include <chrono>
#include <stdexcept>
#include <string>
#include <vector>

#include "net/frame_cache.hpp"
#include "net/task.hpp"

namespace breakwater::net {
namespace {

using namespace std::chrono_literals;

Task<int> forty() { co_return 40; }
Task<int> forty_two() { co_return co_await forty() + 2; }
Task<int> failing() {
  throw std::runtime_error("broken");
  co_return 0;
}

Task<std::string> after_timer(asio::steady_timer& timer, std::string what) {
  auto [ec, n] = co_await await_io([&timer](auto resume) {
    timer.async_wait([resume](asio::error_code done) mutable { resume(done, 0); });
  });
  co_return ec ? "cancelled" : what;
}

asio::awaitable<int> asio_now() { co_return 7; }
asio::awaitable<int> asio_later(asio::steady_timer& timer) {
  co_await timer.async_wait(asio::use_awaitable);
  co_return 8;
}
asio::awaitable<void> asio_failing() {
  throw std::runtime_error("asio broken");
  co_return;
}

TEST(Task, ValuesPassThroughNestedAwaits) {
  int got = 0;
  spawn_detached([](int& out) -> Task<void> { out = co_await forty_two(); }(got), [](std::exception_ptr) {});
  EXPECT_EQ(got, 42);  // nothing suspended: done before spawn_detached returned
}

TEST(Task, ExceptionsReachTheAwaiter) {
  std::string caught;
  spawn_detached(
      [](std::string& out) -> Task<void> {
        try {
          co_await failing();
        } catch (const std::exception& e) {
          out = e.what();
        }
      }(caught),
      [](std::exception_ptr) {});
  EXPECT_EQ(caught, "broken");
}

TEST(Task, AnEscapingExceptionGoesToTheDetachedTasksHandler) {
  std::string reported;
  spawn_detached([]() -> Task<void> { co_await failing(); }(), [&](std::exception_ptr error) {
    try {
      std::rethrow_exception(error);
    } catch (const std::exception& e) {
      reported = e.what();
    }
  });
  EXPECT_EQ(reported, "broken");
}

TEST(Task, ATimerResumesItFromTheEventLoop) {
  asio::io_context io{1};
  asio::steady_timer fires(io, 1ms), cancelled(io, 1h);
  std::string first, second;
  auto wait_on = [](asio::steady_timer& t, std::string& out) -> Task<void> { out = co_await after_timer(t, "rang"); };
  spawn_detached(wait_on(fires, first), [](std::exception_ptr) {});
  spawn_detached(wait_on(cancelled, second), [](std::exception_ptr) {});
  EXPECT_EQ(first, "");  // suspended on its timer
  cancelled.cancel();
  io.run();
  EXPECT_EQ(first, "rang");
  EXPECT_EQ(second, "cancelled");
}

TEST(Task, AnOperationThatCompletesInsideItsStartGoesOnWithoutSuspending) {
  size_t got = 0;
  spawn_detached(
      [](size_t& out) -> Task<void> {
        auto [ec, n] = co_await await_io([](auto handler) { handler(asio::error_code{}, 5); });
        out = ec ? 0 : n;
      }(got),
      [](std::exception_ptr) {});
  EXPECT_EQ(got, 5u);
}

TEST(Task, AnOperationCompletedFromTheEventLoopResumesIt) {
  asio::io_context io{1};
  size_t got = 0;
  spawn_detached(
      [](asio::io_context& loop, size_t& out) -> Task<void> {
        auto [ec, n] = co_await await_io([&loop](auto handler) {
          asio::post(loop, [handler] { handler(asio::error::eof, 0); });
        });
        out = ec == asio::error::eof ? 1 : 2;
      }(io, got),
      [](std::exception_ptr) {});
  EXPECT_EQ(got, 0u);
  io.run();
  EXPECT_EQ(got, 1u);
}

TEST(Task, AwaitsAsioCoroutinesThatSuspendOrNot) {
  asio::io_context io{1};
  asio::steady_timer timer(io, 1ms);
  int now = 0, later = 0;
  std::string failure;
  spawn_detached(
      [](asio::io_context& loop, asio::steady_timer& t, int& got_now, int& got_later,
         std::string& got_failure) -> Task<void> {
        got_now = co_await await_asio(loop.get_executor(), asio_now());
        got_later = co_await await_asio(loop.get_executor(), asio_later(t));
        try {
          co_await await_asio(loop.get_executor(), asio_failing());
        } catch (const std::exception& e) {
          got_failure = e.what();
        }
      }(io, timer, now, later, failure),
      [](std::exception_ptr) {});
  io.run();
  EXPECT_EQ(now, 7);
  EXPECT_EQ(later, 8);
  EXPECT_EQ(failure, "asio broken");
}

TEST(Task, AsioCoroutinesAwaitTasksThatSuspendOrNot) {
  asio::io_context io{1};
  asio::steady_timer timer(io, 1ms);
  int now = 0;
  std::string later, failure;
  asio::co_spawn(
      io,
      [&]() -> asio::awaitable<void> {
        now = co_await as_awaitable(forty_two());
        later = co_await as_awaitable(after_timer(timer, "later"));
        try {
          co_await as_awaitable(failing());
        } catch (const std::exception& e) {
          failure = e.what();
        }
      },
      asio::detached);
  io.run();
  EXPECT_EQ(now, 42);
  EXPECT_EQ(later, "later");
  EXPECT_EQ(failure, "broken");
}

TEST(FrameCache, ReusesAFrameOfTheSameSizeOnTheSameThread) {
  const size_t before = FrameCache::kept(200);
  void* first = FrameCache::allocate(200);
  FrameCache::deallocate(first, 200);
  void* second = FrameCache::allocate(250);  // the same 64-byte class (193 to 256)
  FrameCache::deallocate(second, 250);
#if defined(__SANITIZE_ADDRESS__)
  EXPECT_EQ(FrameCache::kept(200), before);  // nothing cached under ASan
#else
  EXPECT_EQ(first, second);
  EXPECT_EQ(FrameCache::kept(200), std::max<size_t>(before, 1));  // the one freed last is kept
#endif
}

TEST(FrameCache, KeepsAFewFramesPerSizeAndFreesTheRest) {
  std::vector<void*> frames;
  for (size_t i = 0; i < 3 * FrameCache::kKeptPerClass; ++i) frames.push_back(FrameCache::allocate(1000));
  for (void* frame : frames) FrameCache::deallocate(frame, 1000);
#if defined(__SANITIZE_ADDRESS__)
  EXPECT_EQ(FrameCache::kept(1000), 0u);
#else
  EXPECT_EQ(FrameCache::kept(1000), FrameCache::kKeptPerClass);
#endif
}

TEST(FrameCache, ShedFreesTheFramesNoCoroutineTookSinceTheLastShed) {
  FrameCache::shed();
  FrameCache::shed();  // whatever earlier tests left on this thread is gone
  ASSERT_EQ(FrameCache::kept(1500), 0u);
  std::vector<void*> frames;
  for (int i = 0; i < 8; ++i) frames.push_back(FrameCache::allocate(1500));
  for (void* frame : frames) FrameCache::deallocate(frame, 1500);
  frames.clear();
#if defined(__SANITIZE_ADDRESS__)
  EXPECT_EQ(FrameCache::shed(), 0u);
#else
  EXPECT_EQ(FrameCache::shed(), 0u) << "freed this round: kept";
  EXPECT_EQ(FrameCache::kept(1500), 8u);
  // Three at once this round: five were never needed.
  for (int i = 0; i < 3; ++i) frames.push_back(FrameCache::allocate(1500));
  for (void* frame : frames) FrameCache::deallocate(frame, 1500);
  EXPECT_EQ(FrameCache::shed(), 5u * 1536);
  EXPECT_EQ(FrameCache::kept(1500), 3u);
  void* reused = FrameCache::allocate(1500);  // what is kept still works
  FrameCache::deallocate(reused, 1500);
  EXPECT_EQ(FrameCache::shed(), 2u * 1536);
  EXPECT_EQ(FrameCache::shed(), 1536u) << "a quiet round";
  EXPECT_EQ(FrameCache::kept(1500), 0u);
#endif
}

TEST(FrameCache, CountsTheFramesInUseAndKeptBySizeClass) {
  std::thread([] {  // a thread of its own: the counts are the thread's
    void* frames[3] = {FrameCache::allocate(100), FrameCache::allocate(120), FrameCache::allocate(100)};
    FrameCache::deallocate(frames[1], 120);
    const auto counts = FrameCache::census();
#if defined(__SANITIZE_ADDRESS__)
    EXPECT_TRUE(counts.empty());  // nothing cached, nothing counted under ASan
#else
    ASSERT_EQ(counts.size(), 1u);
    EXPECT_EQ(counts[0].name, "task_frame_128");
    EXPECT_EQ(counts[0].size, 128u);
    EXPECT_EQ(counts[0].used, 2u);
    EXPECT_EQ(counts[0].free, 1u);
#endif
    FrameCache::deallocate(frames[0], 100);
    FrameCache::deallocate(frames[2], 100);
  }).join();
}

}  // namespace
}  // namespace breakwater::net
