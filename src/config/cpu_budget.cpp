#include "config/cpu_budget.hpp"

#include <sched.h>

#include <algorithm>
#include <cmath>
#include <fstream>
#include <sstream>
#include <thread>
#include <vector>

#include "config/values.hpp"

namespace breakwater::config {
namespace {

std::optional<std::string> read_small_file(const std::string& path) {
  std::ifstream in(path);
  if (!in) return std::nullopt;
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

std::optional<long long> parse_count(std::string_view text) {
  auto value = parse_integer(trim(text), -1, LLONG_MAX);
  if (!value) return std::nullopt;
  return *value;
}

std::optional<double> limit_in_cpus(long long quota_us, long long period_us) {
  if (quota_us <= 0 || period_us <= 0) return std::nullopt;
  return static_cast<double>(quota_us) / static_cast<double>(period_us);
}

// "/a/b" -> "/a/b", "/a", "": a limit may sit on any ancestor, and where the
// file system shows the cgroup under another name (a container's own view
// mounted at the root) the walk still ends at the mount's root.
std::vector<std::string> self_and_ancestors(std::string path) {
  while (!path.empty() && path.back() == '/') path.pop_back();
  std::vector<std::string> chain{path};
  while (!path.empty()) {
    const size_t slash = path.rfind('/');
    path.erase(slash == std::string::npos ? 0 : slash);
    chain.push_back(path);
  }
  return chain;
}

void keep_tightest(std::optional<double>& tightest, std::optional<double> limit) {
  if (limit && (!tightest || *limit < *tightest)) tightest = limit;
}

std::optional<double> cgroup2_limit(const std::string& mount, const std::string& path) {
  std::optional<double> tightest;
  for (const auto& dir : self_and_ancestors(path)) {
    if (auto text = read_small_file(mount + dir + "/cpu.max")) keep_tightest(tightest, parse_cpu_max(*text));
  }
  return tightest;
}

std::optional<double> cgroup1_limit(const std::string& cgroup_root, const std::string& path) {
  std::optional<double> tightest;
  for (const char* mount : {"cpu", "cpu,cpuacct", "cpuacct,cpu"}) {
    for (const auto& dir : self_and_ancestors(path)) {
      std::string base = cgroup_root + mount + dir;
      auto quota = read_small_file(base + "/cpu.cfs_quota_us");
      auto period = read_small_file(base + "/cpu.cfs_period_us");
      if (quota && period) keep_tightest(tightest, parse_cfs_quota(*quota, *period));
    }
  }
  return tightest;
}

bool names_cpu_controller(std::string_view controllers) {
  while (!controllers.empty()) {
    size_t comma = controllers.find(',');
    if (controllers.substr(0, comma) == "cpu") return true;
    if (comma == std::string_view::npos) break;
    controllers.remove_prefix(comma + 1);
  }
  return false;
}

int affinity_count() {
  cpu_set_t set;
  CPU_ZERO(&set);
  if (::sched_getaffinity(0, sizeof set, &set) != 0) return 0;
  return CPU_COUNT(&set);
}

}  // namespace

std::optional<double> parse_cpu_max(std::string_view text) {
  text = trim(text);
  size_t space = text.find(' ');
  if (space == std::string_view::npos) return std::nullopt;
  std::string_view quota = text.substr(0, space);
  if (quota == "max") return std::nullopt;
  auto quota_us = parse_count(quota);
  auto period_us = parse_count(text.substr(space + 1));
  if (!quota_us || !period_us) return std::nullopt;
  return limit_in_cpus(*quota_us, *period_us);
}

std::optional<double> parse_cfs_quota(std::string_view quota_us, std::string_view period_us) {
  auto quota = parse_count(quota_us);
  auto period = parse_count(period_us);
  if (!quota || !period) return std::nullopt;
  return limit_in_cpus(*quota, *period);
}

std::optional<double> read_cgroup_cpu_limit(const std::string& root) {
  auto membership = read_small_file(root + "proc/self/cgroup");
  if (!membership) return std::nullopt;
  const std::string cgroup_root = root + "sys/fs/cgroup/";
  std::optional<double> tightest;
  std::istringstream lines(*membership);
  std::string line;
  while (std::getline(lines, line)) {
    // "<id>:<controllers>:<path>"; cgroup v2's line is "0::<path>".
    size_t first = line.find(':');
    size_t second = first == std::string::npos ? std::string::npos : line.find(':', first + 1);
    if (second == std::string::npos) continue;
    std::string_view controllers(line.data() + first + 1, second - first - 1);
    std::string path = line.substr(second + 1);
    if (line.compare(0, first, "0") == 0 && controllers.empty()) {
      keep_tightest(tightest, cgroup2_limit(cgroup_root, path));
      keep_tightest(tightest, cgroup2_limit(cgroup_root + "unified",
                                            path));  // hybrid hierarchy
    } else if (names_cpu_controller(controllers)) {
      keep_tightest(tightest, cgroup1_limit(cgroup_root, path));
    }
  }
  return tightest;
}

CpuBudget read_cpu_budget(const std::string& root) {
  CpuBudget budget;
  budget.online = static_cast<int>(std::thread::hardware_concurrency());
  budget.affinity = affinity_count();
  budget.quota = read_cgroup_cpu_limit(root);
  return budget;
}

int CpuBudget::usable() const {
  int cpus = online;
  if (affinity > 0 && (cpus == 0 || affinity < cpus)) cpus = affinity;
  if (quota) {
    int granted = std::max(1, static_cast<int>(std::ceil(*quota - 1e-9)));
    if (cpus == 0 || granted < cpus) cpus = granted;
  }
  return std::max(1, cpus);
}

std::string CpuBudget::describe() const {
  std::ostringstream text;
  text << online << " online";
  if (affinity > 0) text << ", " << affinity << " in the affinity mask";
  if (quota) text << ", cgroup quota " << *quota << " CPUs";
  return text.str();
}

}  // namespace breakwater::config
