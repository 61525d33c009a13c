// auth_hba_file: pg_hba.conf text from whoever can write the file, then the rules it
// yields matched against clients of every kind. An @file names one of two lists, the
// second taken from the input after its first NUL byte; any other name is an error.
#include <string>
#include <string_view>

#include "auth/hba.hpp"

using namespace breakwater;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view input(reinterpret_cast<const char*>(data), size);
  const size_t nul = input.find('\0');
  const std::string_view text = input.substr(0, nul);
  const std::string listed(nul == std::string_view::npos ? std::string_view{} : input.substr(nul + 1));
  auto read = [&](const std::string& path) -> Result<std::string> {
    if (path == "/etc/bw/users") return std::string("alice\n\"bob smith\", carol # team\n");
    if (path == "/etc/bw/listed") return listed;
    return unexpected(std::string("no such file: ") + path);
  };
  auto rules = auth::parse_hba("/etc/bw/hba.conf", text, read);
  (void)auth::parse_ip(text);
  if (!rules) return 0;

  auth::HbaClient clients[4];
  clients[0].unix_socket = true;
  clients[1].address = auth::parse_ip("127.0.0.1");
  clients[2].address = auth::parse_ip("fe80::1:2");
  clients[2].tls = true;
  clients[3].address = auth::parse_ip("10.1.2.3");
  const char* names[] = {"alice", "postgres", "bob smith", "all"};
  for (int i = 0; i < 4; ++i) {
    clients[i].database = names[(i + 1) % 4];
    clients[i].user = names[i];
    (void)auth::match_hba(*rules, clients[i]);
  }
  return 0;
}
