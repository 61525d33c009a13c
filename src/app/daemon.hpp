#pragma once
// -d: run in the background. The parent waits until the child says it is serving
// (or why it is not), so a bad listen address still fails the command, not a log line.

#include <string>

#include "base/result.hpp"

namespace breakwater::app {

class Daemon {
 public:
  // Forks; returns in the child only. The parent exits with the child's verdict.
  static Result<Daemon> detach();
  void ready();                               // the child is serving: parent exits 0
  void failed(const std::string& message);    // parent prints message, exits 1

 private:
  explicit Daemon(int fd) : fd_(fd) {}
  int fd_ = -1;
};

Result<void> write_pidfile(const std::string& path);
void remove_pidfile(const std::string& path);
// Changes to `user` (and its group) when started as root.
Result<void> switch_user(const std::string& user);

}  // namespace breakwater::app
