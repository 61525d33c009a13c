#include "app/cli.hpp"

#include <gtest/gtest.h>

#include <vector>

namespace breakwater::app {
namespace {

Result<CliOptions> parse(std::vector<const char*> args) {
  args.insert(args.begin(), "breakwater");
  return parse_cli(static_cast<int>(args.size()), args.data());
}

TEST(Cli, PgBouncerSwitches) {
  auto options = parse({"-d", "-q", "-v", "-v", "-u", "postgres", "/etc/pgbouncer/pgbouncer.ini"});
  ASSERT_TRUE(options) << options.error();
  EXPECT_TRUE(options->daemon);
  EXPECT_TRUE(options->quiet);
  EXPECT_EQ(options->verbose, 2);
  EXPECT_EQ(options->user, "postgres");
  EXPECT_EQ(options->config_file, "/etc/pgbouncer/pgbouncer.ini");
}

TEST(Cli, CombinedShortFlags) {
  auto options = parse({"-vvq", "x.ini"});
  ASSERT_TRUE(options) << options.error();
  EXPECT_EQ(options->verbose, 2);
  EXPECT_TRUE(options->quiet);
}

TEST(Cli, VersionAndHelpPrintAndExit) {
  EXPECT_NE(parse({"-V"})->print_and_exit.find("Breakwater"), std::string::npos);
  EXPECT_NE(parse({"-h"})->print_and_exit.find("-d"), std::string::npos);
}

TEST(Cli, MissingConfigOrUnknownFlagIsAnError) {
  EXPECT_FALSE(parse({}));
  EXPECT_FALSE(parse({"--bogus", "x.ini"}));
}

}  // namespace
}  // namespace breakwater::app
