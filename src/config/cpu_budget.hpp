#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace breakwater::config {

// How many CPUs this process may use, for `workers = 0`. The host's count alone
// misleads where it matters most: a container limited to 2 CPUs on a 64-core
// host would get 64 event loops taking turns on 2 CPUs' worth of time, each
// waking cold and batching less. So the count is the smallest of the online
// CPUs, the CPUs the affinity mask allows (taskset, cpuset) and the CPU time
// the cgroup's quota grants (cpu.max, or cpu.cfs_quota_us under cgroup v1),
// rounded up.
struct CpuBudget {
  int online = 0;               // 0: unknown
  int affinity = 0;             // 0: unknown
  std::optional<double> quota;  // in CPUs; none where no cgroup limits the process

  int usable() const;            // at least 1
  std::string describe() const;  // for the log: where the count comes from
};

// Reads the counts for this process; `root` is "/" but for tests.
CpuBudget read_cpu_budget(const std::string& root = "/");

// The tightest CPU limit of the cgroups above this process, from
// `root`/proc/self/cgroup and the cgroup file systems under
// `root`/sys/fs/cgroup.
std::optional<double> read_cgroup_cpu_limit(const std::string& root);

// cgroup v2's cpu.max: "max 100000" (none) or "<quota> <period>" in
// microseconds.
std::optional<double> parse_cpu_max(std::string_view text);

// cgroup v1's cpu.cfs_quota_us (-1: none) and cpu.cfs_period_us.
std::optional<double> parse_cfs_quota(std::string_view quota_us, std::string_view period_us);

}  // namespace breakwater::config
