#include "auth/md5.hpp"

#include <openssl/evp.h>
#include <openssl/crypto.h>

namespace breakwater::auth {

std::string md5_hex(std::string_view data) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  EVP_Digest(data.data(), data.size(), digest, &length, EVP_md5(), nullptr);
  static const char kHex[] = "0123456789abcdef";
  std::string out;
  out.reserve(length * 2);
  for (unsigned i = 0; i < length; ++i) {
    out.push_back(kHex[digest[i] >> 4]);
    out.push_back(kHex[digest[i] & 15]);
  }
  return out;
}

bool is_md5_secret(std::string_view secret) {
  if (secret.size() != 35 || secret.substr(0, 3) != "md5") return false;
  for (char c : secret.substr(3)) {
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  }
  return true;
}

std::string md5_secret(std::string_view user, std::string_view password) {
  std::string input(password);
  input.append(user);
  return "md5" + md5_hex(input);
}

std::string md5_response(std::string_view user, std::string_view password_or_secret,
                         const std::array<uint8_t, 4>& salt) {
  std::string secret = is_md5_secret(password_or_secret) ? std::string(password_or_secret)
                                                           : md5_secret(user, password_or_secret);
  std::string input = secret.substr(3);
  input.append(reinterpret_cast<const char*>(salt.data()), salt.size());
  return "md5" + md5_hex(input);
}

bool constant_time_equals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  return CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}

}  // namespace breakwater::auth
