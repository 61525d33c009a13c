#pragma once
// PostgreSQL's MD5 password scheme: the stored secret is "md5" + md5(password + user);
// on the wire the client sends "md5" + md5(hex(md5(password + user)) + salt).

#include <array>
#include <cstdint>
#include <string>
#include <string_view>

namespace breakwater::auth {

std::string md5_hex(std::string_view data);
// "md5" + md5(password + user): the form pg_authid and auth_file hold.
std::string md5_secret(std::string_view user, std::string_view password);
// The response to AuthenticationMD5Password, from a plain password or an md5 secret.
std::string md5_response(std::string_view user, std::string_view password_or_secret,
                         const std::array<uint8_t, 4>& salt);
bool is_md5_secret(std::string_view secret);
// Comparison that takes the same time whatever the contents (for equal lengths).
bool constant_time_equals(std::string_view a, std::string_view b);

}  // namespace breakwater::auth
