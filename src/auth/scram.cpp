#include "auth/scram.hpp"

#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>

#include <charconv>
#include <vector>

#include "auth/base64.hpp"
#include "auth/md5.hpp"

namespace breakwater::auth::scram {
namespace {

std::string_view as_text(const Key& key) { return {reinterpret_cast<const char*>(key.data()), key.size()}; }

Key hmac(std::string_view key, std::string_view data) {
  Key out{};
  unsigned int length = 0;
  HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()), reinterpret_cast<const unsigned char*>(data.data()),
       data.size(), out.data(), &length);
  return out;
}

Key sha256(std::string_view data) {
  Key out{};
  unsigned int length = 0;
  EVP_Digest(data.data(), data.size(), out.data(), &length, EVP_sha256(), nullptr);
  return out;
}

Key salted_password(std::string_view password, std::string_view salt, int iterations) {
  Key out{};
  PKCS5_PBKDF2_HMAC(password.data(), static_cast<int>(password.size()),
                    reinterpret_cast<const unsigned char*>(salt.data()), static_cast<int>(salt.size()), iterations,
                    EVP_sha256(), static_cast<int>(out.size()), out.data());
  return out;
}

Key xor_keys(const Key& a, const Key& b) {
  Key out{};
  for (size_t i = 0; i < out.size(); ++i) out[i] = a[i] ^ b[i];
  return out;
}

std::optional<Key> decode_key(std::string_view text) {
  auto bytes = base64_decode(text);
  if (!bytes || bytes->size() != Key{}.size()) return std::nullopt;
  Key key{};
  std::copy(bytes->begin(), bytes->end(), key.begin());
  return key;
}

std::optional<int> parse_positive(std::string_view text) {
  int value = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || end != text.data() + text.size() || value <= 0) return std::nullopt;
  return value;
}

// "a=1,b=2" → {{'a', "1"}, {'b', "2"}}; nullopt when an item is not "x=...".
std::optional<std::vector<std::pair<char, std::string_view>>> attributes(std::string_view message) {
  std::vector<std::pair<char, std::string_view>> out;
  while (true) {
    size_t comma = message.find(',');
    std::string_view item = message.substr(0, comma);
    if (item.size() < 2 || item[1] != '=') return std::nullopt;
    out.emplace_back(item[0], item.substr(2));
    if (comma == std::string_view::npos) return out;
    message.remove_prefix(comma + 1);
  }
}

Unexpected<std::string> malformed(std::string_view what) {
  return unexpected("malformed SCRAM message (" + std::string(what) + ")");
}

}  // namespace

bool looks_like_secret(std::string_view text) { return text.rfind("SCRAM-SHA-256$", 0) == 0; }

std::optional<Secret> parse_secret(std::string_view text) {
  if (!looks_like_secret(text)) return std::nullopt;
  text.remove_prefix(std::string_view("SCRAM-SHA-256$").size());
  size_t dollar = text.find('$');
  if (dollar == std::string_view::npos) return std::nullopt;
  std::string_view iter_salt = text.substr(0, dollar), keys = text.substr(dollar + 1);
  size_t colon1 = iter_salt.find(':'), colon2 = keys.find(':');
  if (colon1 == std::string_view::npos || colon2 == std::string_view::npos) return std::nullopt;
  auto iterations = parse_positive(iter_salt.substr(0, colon1));
  auto salt = base64_decode(iter_salt.substr(colon1 + 1));
  auto stored = decode_key(keys.substr(0, colon2));
  auto server = decode_key(keys.substr(colon2 + 1));
  if (!iterations || !salt || salt->empty() || !stored || !server) return std::nullopt;
  return Secret{*iterations, std::move(*salt), *stored, *server};
}

std::string format_secret(const Secret& secret) {
  return "SCRAM-SHA-256$" + std::to_string(secret.iterations) + ":" + base64_encode(secret.salt) + "$" +
         base64_encode(as_text(secret.stored_key)) + ":" + base64_encode(as_text(secret.server_key));
}

Secret make_secret(std::string_view password, std::string_view salt, int iterations) {
  Key salted = salted_password(password, salt, iterations);
  Secret secret;
  secret.iterations = iterations;
  secret.salt = std::string(salt);
  secret.stored_key = sha256(as_text(hmac(as_text(salted), "Client Key")));
  secret.server_key = hmac(as_text(salted), "Server Key");
  return secret;
}

std::string random_bytes(size_t count) {
  std::string bytes(count, '\0');
  RAND_bytes(reinterpret_cast<unsigned char*>(bytes.data()), static_cast<int>(count));
  return bytes;
}

std::string make_nonce() { return base64_encode(random_bytes(18)); }

Secret decoy_secret(int iterations) {
  Secret secret;
  secret.iterations = iterations;
  secret.salt = random_bytes(16);
  std::string keys = random_bytes(64);
  std::copy(keys.begin(), keys.begin() + 32, secret.stored_key.begin());
  std::copy(keys.begin() + 32, keys.end(), secret.server_key.begin());
  return secret;
}

std::optional<PassThroughKeys> keys_from_password(const Secret& secret, std::string_view password) {
  const Key salted = salted_password(password, secret.salt, secret.iterations);
  PassThroughKeys keys{hmac(as_text(salted), "Client Key"), hmac(as_text(salted), "Server Key")};
  const bool stored_matches =
      constant_time_equals(as_text(sha256(as_text(keys.client_key))), as_text(secret.stored_key));
  const bool server_matches = constant_time_equals(as_text(keys.server_key), as_text(secret.server_key));
  if (!stored_matches || !server_matches) return std::nullopt;
  return keys;
}

// ---------------------------------------------------------------- server side

ServerExchange::ServerExchange(Secret secret, std::string server_nonce)
    : secret_(std::move(secret)), server_nonce_(std::move(server_nonce)) {}

Result<std::string> ServerExchange::client_first(std::string_view message) {
  // gs2-header: cbind-flag "," [authzid] ","
  if (message.starts_with("p=")) return unexpected("channel binding is not supported without TLS");
  if (!message.starts_with("n,") && !message.starts_with("y,")) return malformed("gs2 header");
  size_t authzid_end = message.find(',', 2);
  if (authzid_end == std::string_view::npos) return malformed("gs2 header");
  if (authzid_end != 2) return unexpected("SCRAM authorization identities are not supported");
  gs2_header_ = std::string(message.substr(0, authzid_end + 1));
  client_first_bare_ = std::string(message.substr(authzid_end + 1));
  auto items = attributes(client_first_bare_);
  if (!items || items->size() < 2 || (*items)[0].first != 'n' || (*items)[1].first != 'r' ||
      (*items)[1].second.empty()) {
    return malformed("client-first-message");
  }
  nonce_ = std::string((*items)[1].second) + server_nonce_;
  server_first_ = "r=" + nonce_ + ",s=" + base64_encode(secret_.salt) + ",i=" + std::to_string(secret_.iterations);
  return server_first_;
}

Result<std::string> ServerExchange::client_final(std::string_view message) {
  size_t proof_at = message.rfind(",p=");
  if (server_first_.empty() || proof_at == std::string_view::npos) return malformed("client-final-message");
  std::string_view without_proof = message.substr(0, proof_at);
  auto items = attributes(without_proof);
  if (!items || items->size() < 2 || (*items)[0].first != 'c' || (*items)[1].first != 'r') {
    return malformed("client-final-message");
  }
  if ((*items)[0].second != base64_encode(gs2_header_)) return unexpected("SCRAM channel binding check failed");
  if ((*items)[1].second != nonce_) return unexpected("SCRAM nonce mismatch");
  auto proof = decode_key(message.substr(proof_at + 3));
  if (!proof) return malformed("proof");

  const std::string auth_message = client_first_bare_ + "," + server_first_ + "," + std::string(without_proof);
  const Key client_signature = hmac(as_text(secret_.stored_key), auth_message);
  const Key client_key = xor_keys(*proof, client_signature);
  if (!constant_time_equals(as_text(sha256(as_text(client_key))), as_text(secret_.stored_key))) {
    return unexpected("SCRAM proof is wrong");
  }
  client_key_ = client_key;
  return "v=" + base64_encode(as_text(hmac(as_text(secret_.server_key), auth_message)));
}

// ---------------------------------------------------------------- client side

ClientExchange ClientExchange::with_password(std::string_view password, std::string client_nonce) {
  ClientExchange exchange;
  exchange.password_ = std::string(password);
  exchange.client_nonce_ = std::move(client_nonce);
  exchange.client_first_bare_ = "n=,r=" + exchange.client_nonce_;
  return exchange;
}

ClientExchange ClientExchange::with_keys(const PassThroughKeys& keys, std::string client_nonce) {
  ClientExchange exchange;
  exchange.client_key_ = keys.client_key;
  exchange.server_key_ = keys.server_key;
  exchange.client_nonce_ = std::move(client_nonce);
  exchange.client_first_bare_ = "n=,r=" + exchange.client_nonce_;
  return exchange;
}

std::string ClientExchange::client_first() const { return "n,," + client_first_bare_; }

Result<std::string> ClientExchange::server_first(std::string_view message) {
  auto items = attributes(message);
  if (!items || items->size() < 3 || (*items)[0].first != 'r' || (*items)[1].first != 's' ||
      (*items)[2].first != 'i') {
    return malformed("server-first-message");
  }
  std::string_view nonce = (*items)[0].second;
  if (!nonce.starts_with(client_nonce_) || nonce.size() == client_nonce_.size()) {
    return unexpected("SCRAM server nonce is invalid");
  }
  auto salt = base64_decode((*items)[1].second);
  auto iterations = parse_positive((*items)[2].second);
  if (!salt || !iterations) return malformed("server-first-message");
  if (password_) {
    const Key salted = salted_password(*password_, *salt, *iterations);
    client_key_ = hmac(as_text(salted), "Client Key");
    server_key_ = hmac(as_text(salted), "Server Key");
  }
  const std::string without_proof = "c=biws,r=" + std::string(nonce);
  auth_message_ = client_first_bare_ + "," + std::string(message) + "," + without_proof;
  const Key stored_key = sha256(as_text(client_key_));
  const Key proof = xor_keys(client_key_, hmac(as_text(stored_key), auth_message_));
  return without_proof + ",p=" + base64_encode(as_text(proof));
}

Result<void> ClientExchange::server_final(std::string_view message) const {
  if (message.starts_with("e=")) return unexpected("server refused SCRAM: " + std::string(message.substr(2)));
  if (!message.starts_with("v=") || auth_message_.empty()) return malformed("server-final-message");
  const std::string expected = base64_encode(as_text(hmac(as_text(server_key_), auth_message_)));
  if (!constant_time_equals(message.substr(2), expected)) return unexpected("SCRAM server signature is wrong");
  return {};
}

}  // namespace breakwater::auth::scram
