#include "config/cpu_budget.hpp"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

namespace breakwater::config {
namespace {

namespace fs = std::filesystem;

// A scratch tree standing for "/": proc/self/cgroup and sys/fs/cgroup/...
class FakeRoot {
 public:
  FakeRoot()
      : root_(fs::temp_directory_path() / ("bw-cpu-" + std::to_string(::getpid()) + "-" + std::to_string(next_++))) {
    fs::create_directories(root_);
  }
  ~FakeRoot() { fs::remove_all(root_); }
  void write(const std::string& path, const std::string& text) {
    fs::create_directories((root_ / path).parent_path());
    std::ofstream(root_ / path) << text;
  }
  std::string root() const { return root_.string() + "/"; }

 private:
  static inline int next_ = 0;
  fs::path root_;
};

TEST(CpuBudget, CpuMaxIsQuotaOverPeriod) {
  EXPECT_DOUBLE_EQ(*parse_cpu_max("200000 100000\n"), 2.0);
  EXPECT_DOUBLE_EQ(*parse_cpu_max("150000 100000"), 1.5);
  EXPECT_FALSE(parse_cpu_max("max 100000\n"));
  EXPECT_FALSE(parse_cpu_max("garbage"));
  EXPECT_FALSE(parse_cpu_max("100000 0"));
}

TEST(CpuBudget, CfsQuotaOfMinusOneIsNoLimit) {
  EXPECT_DOUBLE_EQ(*parse_cfs_quota("50000\n", "100000\n"), 0.5);
  EXPECT_FALSE(parse_cfs_quota("-1\n", "100000\n"));
  EXPECT_FALSE(parse_cfs_quota("x", "100000"));
}

TEST(CpuBudget, TheSmallestCountWinsAndAQuotaRoundsUp) {
  EXPECT_EQ((CpuBudget{64, 64, 2.0}).usable(), 2);
  EXPECT_EQ((CpuBudget{64, 64, 1.5}).usable(), 2);
  EXPECT_EQ((CpuBudget{64, 64, 0.25}).usable(), 1);
  EXPECT_EQ((CpuBudget{16, 4, std::nullopt}).usable(), 4);
  EXPECT_EQ((CpuBudget{16, 4, 8.0}).usable(), 4);
  EXPECT_EQ((CpuBudget{0, 0, std::nullopt}).usable(), 1);
  EXPECT_EQ((CpuBudget{0, 0, 3.0}).usable(), 3);
}

TEST(CpuBudget, CgroupV2LimitOnTheProcessGroupOrAnAncestor) {
  FakeRoot fake;
  fake.write("proc/self/cgroup", "0::/kubepods/pod1/app\n");
  fake.write("sys/fs/cgroup/cpu.max", "max 100000\n");
  fake.write("sys/fs/cgroup/kubepods/pod1/cpu.max", "300000 100000\n");
  fake.write("sys/fs/cgroup/kubepods/pod1/app/cpu.max", "max 100000\n");
  EXPECT_DOUBLE_EQ(*read_cgroup_cpu_limit(fake.root()), 3.0);
  fake.write("sys/fs/cgroup/kubepods/cpu.max", "100000 100000\n");
  EXPECT_DOUBLE_EQ(*read_cgroup_cpu_limit(fake.root()),
                   1.0);  // the tightest of the chain
}

TEST(CpuBudget, ContainerViewEndsAtTheMountRoot) {
  // Without a cgroup namespace /proc/self/cgroup names the host's path, while
  // the container's own group is mounted at /sys/fs/cgroup.
  FakeRoot fake;
  fake.write("proc/self/cgroup", "0::/system.slice/docker-abc.scope\n");
  fake.write("sys/fs/cgroup/cpu.max", "200000 100000\n");
  EXPECT_DOUBLE_EQ(*read_cgroup_cpu_limit(fake.root()), 2.0);
}

TEST(CpuBudget, CgroupV1CfsQuota) {
  FakeRoot fake;
  fake.write("proc/self/cgroup", "4:memory:/job\n3:cpu,cpuacct:/job\n0::/\n");
  fake.write("sys/fs/cgroup/cpu,cpuacct/cpu.cfs_quota_us", "-1\n");
  fake.write("sys/fs/cgroup/cpu,cpuacct/cpu.cfs_period_us", "100000\n");
  fake.write("sys/fs/cgroup/cpu,cpuacct/job/cpu.cfs_quota_us", "250000\n");
  fake.write("sys/fs/cgroup/cpu,cpuacct/job/cpu.cfs_period_us", "100000\n");
  EXPECT_DOUBLE_EQ(*read_cgroup_cpu_limit(fake.root()), 2.5);
}

TEST(CpuBudget, NoLimitWhereNoneIsSetOrNothingIsReadable) {
  FakeRoot fake;
  EXPECT_FALSE(read_cgroup_cpu_limit(fake.root()));  // no proc/self/cgroup
  fake.write("proc/self/cgroup", "1:cpuacct:/\n2:cpuset:/\n0::/\n");
  fake.write("sys/fs/cgroup/cpuacct/cpu.cfs_quota_us",
             "50000\n");  // not the cpu controller
  fake.write("sys/fs/cgroup/cpuacct/cpu.cfs_period_us", "100000\n");
  EXPECT_FALSE(read_cgroup_cpu_limit(fake.root()));
  fake.write("sys/fs/cgroup/cpu.max", "max 100000\n");
  EXPECT_FALSE(read_cgroup_cpu_limit(fake.root()));
}

TEST(CpuBudget, ThisProcessHasAtLeastOneUsableCpu) {
  CpuBudget budget = read_cpu_budget();
  EXPECT_GE(budget.affinity, 1);
  EXPECT_GE(budget.usable(), 1);
  EXPECT_LE(budget.usable(), std::max(budget.online, 1));
}

}  // namespace
}  // namespace breakwater::config
