// auth_file (userlist.txt): lines of quoted fields, whatever the file holds.
#include <string_view>

#include "auth/userlist.hpp"

using namespace breakwater;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  auto users = auth::parse_userlist("/etc/bw/userlist.txt", text);
  for (const auto& [user, secret] : users.secrets) (void)users.find(user);
  return 0;
}
