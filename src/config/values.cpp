#include "config/values.hpp"

#include <cctype>
#include <charconv>
#include <cmath>

namespace breakwater::config {

std::string_view trim(std::string_view text) {
  while (!text.empty() && std::isspace(static_cast<unsigned char>(text.front()))) text.remove_prefix(1);
  while (!text.empty() && std::isspace(static_cast<unsigned char>(text.back()))) text.remove_suffix(1);
  return text;
}

namespace {
// ASCII only, as setting names and PostgreSQL's parameter names are: no locale
// lookup per character (logins compare every startup parameter's name).
char ascii_lower(char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c; }
}  // namespace

bool iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    if (ascii_lower(a[i]) != ascii_lower(b[i])) return false;
  }
  return true;
}

std::string to_lower(std::string_view text) {
  std::string out(text);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

Result<long long> parse_integer(std::string_view text, long long min, long long max) {
  text = trim(text);
  long long value = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec == std::errc::result_out_of_range) return unexpected("value out of range: \"" + std::string(text) + "\"");
  if (ec != std::errc() || end != text.data() + text.size() || text.empty()) {
    return unexpected("invalid integer: \"" + std::string(text) + "\"");
  }
  if (value < min || value > max) {
    return unexpected("value " + std::string(text) + " out of range (" + std::to_string(min) + ".." +
                      std::to_string(max) + ")");
  }
  return value;
}

Result<long long> parse_octal(std::string_view text) {
  text = trim(text);
  long long value = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value, 8);
  if (ec != std::errc() || end != text.data() + text.size() || text.empty() || value > 07777) {
    return unexpected("invalid file mode: \"" + std::string(text) + "\"");
  }
  return value;
}

Result<bool> parse_bool(std::string_view text) {
  text = trim(text);
  for (auto yes : {"1", "on", "true", "yes"}) {
    if (iequals(text, yes)) return true;
  }
  for (auto no : {"0", "off", "false", "no"}) {
    if (iequals(text, no)) return false;
  }
  return unexpected("invalid boolean: \"" + std::string(text) + "\"");
}

Result<double> parse_seconds(std::string_view text) {
  text = trim(text);
  size_t unit_at = 0;
  while (unit_at < text.size() && (std::isdigit(static_cast<unsigned char>(text[unit_at])) || text[unit_at] == '.')) {
    ++unit_at;
  }
  std::string_view number = text.substr(0, unit_at);
  std::string_view unit = trim(text.substr(unit_at));
  double value = 0;
  auto [end, ec] = std::from_chars(number.data(), number.data() + number.size(), value);
  if (number.empty() || ec != std::errc() || end != number.data() + number.size() || !std::isfinite(value)) {
    return unexpected("invalid time value: \"" + std::string(text) + "\"");
  }
  double scale = 1;
  if (unit.empty() || unit == "s") {
    scale = 1;
  } else if (unit == "us") {
    scale = 1e-6;
  } else if (unit == "ms") {
    scale = 1e-3;
  } else if (unit == "min") {
    scale = 60;
  } else if (unit == "h") {
    scale = 3600;
  } else if (unit == "d") {
    scale = 86400;
  } else {
    return unexpected("invalid time unit \"" + std::string(unit) + "\" (use us, ms, s, min, h or d)");
  }
  return value * scale;
}

std::vector<std::string> parse_list(std::string_view text) {
  std::vector<std::string> items;
  while (!text.empty()) {
    size_t comma = text.find(',');
    std::string_view item = trim(text.substr(0, comma));
    if (!item.empty()) items.emplace_back(item);
    if (comma == std::string_view::npos) break;
    text.remove_prefix(comma + 1);
  }
  return items;
}

Result<PoolMode> parse_pool_mode(std::string_view text) {
  text = trim(text);
  if (iequals(text, "session")) return PoolMode::Session;
  if (iequals(text, "transaction")) return PoolMode::Transaction;
  if (iequals(text, "statement")) return PoolMode::Statement;
  return unexpected("invalid pool_mode \"" + std::string(text) + "\" (session, transaction or statement)");
}

Result<AuthType> parse_auth_type(std::string_view text) {
  text = trim(text);
  static const std::pair<const char*, AuthType> kNames[] = {
      {"any", AuthType::Any},   {"trust", AuthType::Trust},         {"plain", AuthType::Plain},
      {"md5", AuthType::Md5},   {"scram-sha-256", AuthType::ScramSha256}, {"cert", AuthType::Cert},
      {"hba", AuthType::Hba},   {"pam", AuthType::Pam},             {"ldap", AuthType::Ldap}};
  for (const auto& [name, type] : kNames) {
    if (iequals(text, name)) return type;
  }
  return unexpected("invalid auth_type \"" + std::string(text) + "\"");
}

Result<TlsMode> parse_tls_mode(std::string_view text) {
  text = trim(text);
  static const std::pair<const char*, TlsMode> kNames[] = {
      {"disable", TlsMode::Disable}, {"allow", TlsMode::Allow},         {"prefer", TlsMode::Prefer},
      {"require", TlsMode::Require}, {"verify-ca", TlsMode::VerifyCa}, {"verify-full", TlsMode::VerifyFull}};
  for (const auto& [name, mode] : kNames) {
    if (iequals(text, name)) return mode;
  }
  return unexpected("invalid TLS mode \"" + std::string(text) + "\"");
}

const char* to_string(PoolMode mode) {
  switch (mode) {
    case PoolMode::Session: return "session";
    case PoolMode::Transaction: return "transaction";
    case PoolMode::Statement: return "statement";
  }
  return "?";
}

const char* to_string(AuthType type) {
  switch (type) {
    case AuthType::Any: return "any";
    case AuthType::Trust: return "trust";
    case AuthType::Plain: return "plain";
    case AuthType::Md5: return "md5";
    case AuthType::ScramSha256: return "scram-sha-256";
    case AuthType::Cert: return "cert";
    case AuthType::Hba: return "hba";
    case AuthType::Pam: return "pam";
    case AuthType::Ldap: return "ldap";
  }
  return "?";
}

const char* to_string(TlsMode mode) {
  switch (mode) {
    case TlsMode::Disable: return "disable";
    case TlsMode::Allow: return "allow";
    case TlsMode::Prefer: return "prefer";
    case TlsMode::Require: return "require";
    case TlsMode::VerifyCa: return "verify-ca";
    case TlsMode::VerifyFull: return "verify-full";
  }
  return "?";
}

}  // namespace breakwater::config
