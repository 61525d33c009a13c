#include "auth/hba.hpp"

#include <gtest/gtest.h>

#include <map>

namespace breakwater::auth {
namespace {

Result<HbaRules> parse(std::string_view text, std::map<std::string, std::string> files = {}) {
  return parse_hba("/etc/bw/hba.conf", text, [files](const std::string& path) -> Result<std::string> {
    auto it = files.find(path);
    if (it == files.end()) return unexpected("no such file");
    return it->second;
  });
}

HbaClient tcp(std::string ip, std::string database, std::string user) {
  return {false, false, parse_ip(ip), std::move(database), std::move(user)};
}

std::optional<HbaMethod> method_for(const HbaRules& rules, const HbaClient& client) {
  const HbaRule* rule = match_hba(rules, client);
  return rule ? std::optional(rule->method) : std::nullopt;
}

TEST(Hba, FirstMatchingRuleWins) {
  auto rules = parse(
      "# comment\n"
      "local   all      all                      peer\n"
      "host    app      alice   10.0.0.0/8       reject\n"
      "host    app,shop all     10.0.0.0 255.0.0.0 scram-sha-256   # trailing comment\n"
      "host    all      all     ::1/128          trust\n"
      "hostnossl all    all     0.0.0.0/0        md5\n");
  ASSERT_TRUE(rules) << rules.error();
  ASSERT_EQ(rules->rules.size(), 5u);
  EXPECT_EQ(rules->rules[2].line, 4);
  EXPECT_EQ(method_for(*rules, tcp("10.1.2.3", "app", "alice")), HbaMethod::Reject);
  EXPECT_EQ(method_for(*rules, tcp("10.1.2.3", "app", "bob")), HbaMethod::ScramSha256);
  EXPECT_EQ(method_for(*rules, tcp("10.1.2.3", "shop", "alice")), HbaMethod::ScramSha256);
  EXPECT_EQ(method_for(*rules, tcp("192.168.0.1", "app", "bob")), HbaMethod::Md5);
  EXPECT_EQ(method_for(*rules, tcp("::1", "x", "y")), HbaMethod::Trust);
  EXPECT_EQ(method_for(*rules, tcp("::2", "x", "y")), std::nullopt) << "no rule: refused";
  HbaClient local{true, false, std::nullopt, "app", "alice"};
  EXPECT_EQ(method_for(*rules, local), HbaMethod::Peer);
  HbaClient tls = tcp("192.168.0.1", "app", "bob");
  tls.tls = true;
  EXPECT_EQ(method_for(*rules, tls), std::nullopt) << "hostnossl does not match TLS clients";
}

TEST(Hba, KeywordsQuotedNamesAndFiles) {
  auto rules = parse(
      "host sameuser all 127.0.0.1/32 trust\n"
      "host \"all\" @admins 127.0.0.1/32 md5\n"
      "host replication all 127.0.0.1/32 trust\n",
      {{"/etc/bw/admins", "root, carol\n# not a comment in PostgreSQL, but a name here is fine\ndave\n"}});
  ASSERT_TRUE(rules) << rules.error();
  EXPECT_EQ(method_for(*rules, tcp("127.0.0.1", "alice", "alice")), HbaMethod::Trust);
  EXPECT_EQ(method_for(*rules, tcp("127.0.0.1", "all", "carol")), HbaMethod::Md5) << "\"all\" is a database name";
  EXPECT_EQ(method_for(*rules, tcp("127.0.0.1", "app", "carol")), std::nullopt);
  EXPECT_EQ(method_for(*rules, tcp("127.0.0.1", "all", "dave")), HbaMethod::Md5);
  EXPECT_EQ(method_for(*rules, tcp("127.0.0.1", "replication", "x")), std::nullopt)
      << "the replication keyword matches no (non-replication) connection";
}

TEST(Hba, LineContinuation) {
  auto rules = parse("host all \\\n  all 127.0.0.1/32 trust\n");
  ASSERT_TRUE(rules) << rules.error();
  EXPECT_EQ(rules->rules[0].line, 1);
  EXPECT_EQ(method_for(*rules, tcp("127.0.0.1", "d", "u")), HbaMethod::Trust);
}

TEST(Hba, BadLinesRefuseTheFileWithFileAndLine) {
  struct Case {
    std::string_view text, error;
  };
  for (const auto& c : std::vector<Case>{
           {"hosts all all all trust\n", "/etc/bw/hba.conf:1: unknown connection type \"hosts\""},
           {"\nhost all all 127.0.0.1/33 trust\n", "/etc/bw/hba.conf:2: invalid CIDR mask"},
           {"host all all example.com trust\n", "/etc/bw/hba.conf:1: invalid IP address"},
           {"host all all all ident\n", "/etc/bw/hba.conf:1: unsupported authentication method \"ident\""},
           {"host all all all peer\n", "/etc/bw/hba.conf:1: peer authentication is only for local"},
           {"host samerole all all trust\n", "/etc/bw/hba.conf:1: \"samerole\" is not supported"},
           {"host all +admins all trust\n", "/etc/bw/hba.conf:1: group names"},
           {"host all all all\n", "/etc/bw/hba.conf:1: missing authentication method"},
           {"host all all\n", "/etc/bw/hba.conf:1: too few fields"},
           {"local all all trust map=x\n", "/etc/bw/hba.conf:1: user name maps"},
           {"host all @missing all trust\n", "/etc/bw/hba.conf:1: cannot read /etc/bw/missing"},
           {"host \"all all all trust\n", "/etc/bw/hba.conf:1: unterminated quoted string"},
       }) {
    auto rules = parse(c.text);
    ASSERT_FALSE(rules) << c.text;
    EXPECT_EQ(rules.error().rfind(c.error, 0), 0u) << rules.error();
  }
}

}  // namespace
}  // namespace breakwater::auth
