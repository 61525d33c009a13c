#pragma once
// SCRAM-SHA-256 (RFC 5802, RFC 7677) as PostgreSQL speaks it: no channel binding
// over plain TCP (gs2 header "n,," or "y,,"), and the user name inside the messages
// is ignored in favour of the startup packet's.
//
// Both ends are here: ServerExchange checks a client against a stored secret (and
// recovers its ClientKey, so that Breakwater can log in to PostgreSQL with it, never
// knowing the password); ClientExchange logs in to PostgreSQL with a password or with
// such keys. Every step is a pure function of its input: no sockets, no clock.
//
// Passwords are used as given: SASLprep normalisation of non-ASCII passwords is not
// applied (ASCII passwords, the usual case, are unchanged by it).

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "base/result.hpp"

namespace breakwater::auth::scram {

constexpr std::string_view kMechanism = "SCRAM-SHA-256";
using Key = std::array<uint8_t, 32>;

// "SCRAM-SHA-256$<iterations>:<salt>$<StoredKey>:<ServerKey>", base64 parts.
struct Secret {
  int iterations = 0;
  std::string salt;  // raw bytes
  Key stored_key{};
  Key server_key{};
};
bool looks_like_secret(std::string_view text);
std::optional<Secret> parse_secret(std::string_view text);
std::string format_secret(const Secret& secret);
Secret make_secret(std::string_view password, std::string_view salt, int iterations);

// A fresh random nonce (printable, no ',').
std::string make_nonce();
std::string random_bytes(size_t count);
// A secret no password matches: unknown users go through the whole exchange and
// fail at its end, as with PostgreSQL, so that user names cannot be probed.
Secret decoy_secret(int iterations);

// What a client that proved itself with SCRAM leaves behind: enough to log in to a
// PostgreSQL holding the same secret, as that client.
struct PassThroughKeys {
  Key client_key{};
  Key server_key{};
};

// The keys a password gives against a stored secret; nullopt when it does not match
// (a cleartext login checked against a SCRAM secret can then log in with SCRAM too).
std::optional<PassThroughKeys> keys_from_password(const Secret& secret, std::string_view password);

class ServerExchange {
 public:
  ServerExchange(Secret secret, std::string server_nonce);

  // The client's SASLInitialResponse data; answers the server-first-message.
  Result<std::string> client_first(std::string_view message);
  // The client's SASLResponse data; answers the server-final-message ("v=...")
  // when the proof is right.
  Result<std::string> client_final(std::string_view message);

  // After a successful client_final: the keys that let Breakwater log in as this client.
  PassThroughKeys pass_through_keys() const { return {client_key_, secret_.server_key}; }

 private:
  Secret secret_;
  std::string server_nonce_;
  std::string gs2_header_, client_first_bare_, server_first_, nonce_;
  Key client_key_{};
};

class ClientExchange {
 public:
  static ClientExchange with_password(std::string_view password, std::string client_nonce);
  // Pass-through: the ClientKey and ServerKey of a client that proved itself to us.
  static ClientExchange with_keys(const PassThroughKeys& keys, std::string client_nonce);

  std::string client_first() const;
  // The server-first-message; answers the client-final-message.
  Result<std::string> server_first(std::string_view message);
  // The server-final-message: checks the server's signature.
  Result<void> server_final(std::string_view message) const;

 private:
  ClientExchange() = default;
  std::optional<std::string> password_;
  Key client_key_{}, server_key_{};
  std::string client_nonce_, client_first_bare_, auth_message_;
};

}  // namespace breakwater::auth::scram
