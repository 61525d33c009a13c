#pragma once
// recv and send as bare system calls. glibc's wrappers are thread-cancellation
// points: in a process with threads each call switches asynchronous cancellation
// on and off around the system call, some 35 instructions more per call, four
// calls a transaction (callgrind). Breakwater never cancels a thread, so the relay's reads and writes
// go straight to the kernel (errno set as by the wrappers).

#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cstddef>

namespace breakwater::net {

inline ssize_t plain_recv(int fd, void* into, size_t size, int flags) {
  return ::syscall(SYS_recvfrom, fd, into, size, flags, nullptr, nullptr);
}

inline ssize_t plain_send(int fd, const void* from, size_t size, int flags) {
  return ::syscall(SYS_sendto, fd, from, size, flags, nullptr, 0);
}

}  // namespace breakwater::net
