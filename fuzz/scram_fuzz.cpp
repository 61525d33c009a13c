// SCRAM messages from an untrusted peer, both ways: a client talking to Breakwater,
// and a server answering Breakwater's login. The input is split at NUL bytes into
// the successive messages of one exchange.
#include <string_view>
#include <vector>

#include "auth/scram.hpp"

using namespace breakwater::auth::scram;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view input(reinterpret_cast<const char*>(data), size);
  std::vector<std::string_view> parts;
  for (size_t start = 0; parts.size() < 4;) {
    size_t nul = input.find('\0', start);
    parts.push_back(input.substr(start, nul == std::string_view::npos ? std::string_view::npos : nul - start));
    if (nul == std::string_view::npos) break;
    start = nul + 1;
  }
  while (parts.size() < 4) parts.emplace_back();

  // Few iterations: the fuzzer explores parsing, not PBKDF2.
  Secret secret = make_secret("pencil", "saltsalt", 2);
  ServerExchange server(secret, "server-nonce");
  if (server.client_first(parts[0])) (void)server.client_final(parts[1]);

  (void)parse_secret(parts[0]);

  // Keys, not a password: a server's iteration count would otherwise make PBKDF2 the subject.
  auto client = ClientExchange::with_keys(PassThroughKeys{}, "c");
  if (client.server_first(parts[2])) (void)client.server_final(parts[3]);
  return 0;
}
