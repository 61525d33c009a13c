#pragma once
// Standard base64 (RFC 4648, with padding), as SCRAM messages and secrets use it.

#include <optional>
#include <string>
#include <string_view>

namespace breakwater::auth {

std::string base64_encode(std::string_view bytes);
// nullopt for anything but canonical padded base64.
std::optional<std::string> base64_decode(std::string_view text);

}  // namespace breakwater::auth
