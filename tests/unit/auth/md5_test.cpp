#include "auth/md5.hpp"

#include <gtest/gtest.h>

namespace breakwater::auth {
namespace {

TEST(Md5, SecretMatchesPostgres) {
  // PgBouncer's documented example: user admin, password 1234.
  EXPECT_EQ(md5_secret("admin", "1234"), "md545f2603610af569b6155c45067268c6b");
  EXPECT_TRUE(is_md5_secret("md545f2603610af569b6155c45067268c6b"));
  EXPECT_FALSE(is_md5_secret("md5short"));
  EXPECT_FALSE(is_md5_secret("plain-password-of-thirty-five-chars"));
}

TEST(Md5, ResponseFromPasswordOrSecretIsTheSame) {
  std::array<uint8_t, 4> salt{0x01, 0x02, 0x03, 0x04};
  std::string from_password = md5_response("admin", "1234", salt);
  EXPECT_EQ(from_password, md5_response("admin", "md545f2603610af569b6155c45067268c6b", salt));
  EXPECT_EQ(from_password, "md5" + md5_hex("45f2603610af569b6155c45067268c6b" + std::string("\x01\x02\x03\x04")));
  EXPECT_NE(from_password, md5_response("admin", "12345", salt));
}

TEST(Md5, ConstantTimeEquals) {
  EXPECT_TRUE(constant_time_equals("abc", "abc"));
  EXPECT_FALSE(constant_time_equals("abc", "abd"));
  EXPECT_FALSE(constant_time_equals("abc", "abcd"));
}

}  // namespace
}  // namespace breakwater::auth
