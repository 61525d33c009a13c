#include "app/daemon.hpp"

#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>

namespace breakwater::app {

Result<Daemon> Daemon::detach() {
  int fds[2];
  if (::pipe(fds) != 0) return unexpected(std::string("pipe: ") + std::strerror(errno));
  pid_t pid = ::fork();
  if (pid < 0) return unexpected(std::string("fork: ") + std::strerror(errno));
  if (pid > 0) {
    ::close(fds[1]);
    std::string verdict;
    char buffer[512];
    ssize_t n;
    while ((n = ::read(fds[0], buffer, sizeof buffer)) > 0) verdict.append(buffer, static_cast<size_t>(n));
    if (verdict == "ok") std::_Exit(0);
    std::fprintf(stderr, "%s\n", verdict.empty() ? "breakwater exited during start-up" : verdict.c_str());
    std::_Exit(1);
  }
  ::close(fds[0]);
  ::setsid();
  // Second fork: the daemon can never reacquire a controlling terminal.
  pid = ::fork();
  if (pid < 0) std::_Exit(1);
  if (pid > 0) std::_Exit(0);
  int null = ::open("/dev/null", O_RDWR);
  if (null >= 0) {
    ::dup2(null, 0);
    ::dup2(null, 1);
    ::dup2(null, 2);
    if (null > 2) ::close(null);
  }
  return Daemon(fds[1]);
}

void Daemon::ready() {
  if (fd_ < 0) return;
  (void)!::write(fd_, "ok", 2);
  ::close(fd_);
  fd_ = -1;
}

void Daemon::failed(const std::string& message) {
  if (fd_ < 0) return;
  (void)!::write(fd_, message.data(), message.size());
  ::close(fd_);
  fd_ = -1;
}

Result<void> write_pidfile(const std::string& path) {
  // A pidfile naming a live process means another instance is running.
  std::ifstream existing(path);
  long old_pid = 0;
  if (existing >> old_pid && old_pid > 0 && ::kill(static_cast<pid_t>(old_pid), 0) == 0) {
    return unexpected("pidfile " + path + " exists and process " + std::to_string(old_pid) + " is running");
  }
  std::ofstream out(path, std::ios::trunc);
  if (!out) return unexpected("cannot write pidfile " + path);
  out << ::getpid() << "\n";
  return {};
}

void remove_pidfile(const std::string& path) {
  if (!path.empty()) ::unlink(path.c_str());
}

Result<void> switch_user(const std::string& user) {
  struct passwd* pw = ::getpwnam(user.c_str());
  if (pw == nullptr) return unexpected("unknown user \"" + user + "\"");
  if (::getuid() == pw->pw_uid) return {};
  if (::setgid(pw->pw_gid) != 0 || ::initgroups(pw->pw_name, pw->pw_gid) != 0 || ::setuid(pw->pw_uid) != 0) {
    return unexpected("cannot switch to user \"" + user + "\": " + std::strerror(errno));
  }
  return {};
}

}  // namespace breakwater::app
