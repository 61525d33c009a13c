#include "auth/hba.hpp"

#include <arpa/inet.h>

#include <charconv>

namespace breakwater::auth {
namespace {

using Field = std::vector<HbaName>;

// Splits one logical line into fields; a field is a comma-separated list of names.
Result<std::vector<Field>> tokenize(std::string_view line) {
  std::vector<Field> fields;
  size_t i = 0;
  bool continue_field = false;
  while (true) {
    while (i < line.size() && (line[i] == ' ' || line[i] == '\t' || line[i] == '\r')) ++i;
    if (i >= line.size() || line[i] == '#') break;
    HbaName name;
    name.keyword = true;  // until a quote shows it is a plain name
    bool quoted = false;
    while (i < line.size() && line[i] != ' ' && line[i] != '\t' && line[i] != '\r' && line[i] != ',' &&
           (line[i] != '#' || quoted)) {
      if (line[i] == '"') {
        if (quoted && i + 1 < line.size() && line[i + 1] == '"') {
          name.text += '"';
          i += 2;
          continue;
        }
        quoted = !quoted;
        name.keyword = false;
        ++i;
        continue;
      }
      name.text += line[i++];
      while (quoted && i < line.size() && line[i] != '"') name.text += line[i++];
    }
    if (quoted) return unexpected("unterminated quoted string");
    if (continue_field) {
      fields.back().push_back(std::move(name));
    } else {
      fields.push_back({std::move(name)});
    }
    continue_field = i < line.size() && line[i] == ',';
    if (continue_field) ++i;
  }
  return fields;
}

bool prefix_mask(int bits, int total_bits, std::array<uint8_t, 16>& mask) {
  if (bits < 0 || bits > total_bits) return false;
  mask.fill(0);
  for (int i = 0; i < bits; ++i) mask[i / 8] |= static_cast<uint8_t>(0x80 >> (i % 8));
  return true;
}

Result<HbaMethod> parse_method(std::string_view text) {
  if (text == "trust") return HbaMethod::Trust;
  if (text == "reject") return HbaMethod::Reject;
  if (text == "password") return HbaMethod::Password;
  if (text == "md5") return HbaMethod::Md5;
  if (text == "scram-sha-256") return HbaMethod::ScramSha256;
  if (text == "cert") return HbaMethod::Cert;
  if (text == "peer") return HbaMethod::Peer;
  return unexpected("unsupported authentication method \"" + std::string(text) + "\"");
}

std::string folder_of(const std::string& path) {
  size_t slash = path.rfind('/');
  return slash == std::string::npos ? std::string() : path.substr(0, slash + 1);
}

// Expands @file items into the names the file lists (whitespace or comma separated).
Result<Field> expand_files(const Field& field, const std::string& hba_path, const HbaFileReader& read) {
  Field out;
  for (const auto& name : field) {
    if (name.text.empty() || name.text[0] != '@' || !name.keyword) {
      out.push_back(name);
      continue;
    }
    std::string path = name.text.substr(1);
    if (path.empty() || path[0] != '/') path = folder_of(hba_path) + path;
    auto text = read(path);
    if (!text) return unexpected("cannot read " + path + ": " + text.error());
    size_t start = 0;
    std::string_view all = *text;
    while (start <= all.size()) {
      size_t end = all.find('\n', start);
      auto listed = tokenize(all.substr(start, end == std::string_view::npos ? std::string_view::npos : end - start));
      if (!listed) return unexpected(path + ": " + listed.error());
      for (const auto& f : *listed) out.insert(out.end(), f.begin(), f.end());
      if (end == std::string_view::npos) break;
      start = end + 1;
    }
  }
  return out;
}

Result<void> check_names(const Field& field, bool database) {
  for (const auto& name : field) {
    if (!name.keyword) continue;
    if (name.text == "samerole" || name.text == "samegroup") {
      return unexpected("\"" + name.text + "\" is not supported");
    }
    if (!database && !name.text.empty() && name.text[0] == '+') return unexpected("group names (+group) are not supported");
  }
  return {};
}

Result<std::optional<HbaAddress>> parse_address(const std::vector<Field>& fields, size_t& next) {
  if (next >= fields.size() || fields[next].size() != 1) return unexpected("missing address");
  const std::string& text = fields[next][0].text;
  ++next;
  if (text == "all") return std::optional<HbaAddress>{};
  if (text == "samehost" || text == "samenet") return unexpected("\"" + text + "\" is not supported");
  size_t slash = text.find('/');
  auto address = parse_ip(text.substr(0, slash));
  if (!address) return unexpected("invalid IP address \"" + text + "\" (host names are not supported)");
  const int total_bits = address->v6 ? 128 : 32;
  if (slash != std::string::npos) {
    int bits = -1;
    std::string_view digits = std::string_view(text).substr(slash + 1);
    auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), bits);
    if (ec != std::errc() || end != digits.data() + digits.size() || !prefix_mask(bits, total_bits, address->mask)) {
      return unexpected("invalid CIDR mask in \"" + text + "\"");
    }
  } else {
    // A separate netmask column.
    if (next >= fields.size() || fields[next].size() != 1) return unexpected("missing netmask");
    auto mask = parse_ip(fields[next][0].text);
    if (!mask || mask->v6 != address->v6) return unexpected("invalid netmask \"" + fields[next][0].text + "\"");
    address->mask = mask->bytes;
    ++next;
  }
  for (size_t i = 0; i < 16; ++i) address->bytes[i] &= address->mask[i];
  return std::optional<HbaAddress>{*address};
}

Result<HbaRule> parse_rule(const std::vector<Field>& fields, const std::string& path, const HbaFileReader& read) {
  HbaRule rule;
  const std::string& type = fields[0][0].text;
  if (type == "local") {
    rule.connection = HbaConnection::Local;
  } else if (type == "host") {
    rule.connection = HbaConnection::Host;
  } else if (type == "hostssl") {
    rule.connection = HbaConnection::HostSsl;
  } else if (type == "hostnossl") {
    rule.connection = HbaConnection::HostNoSsl;
  } else {
    return unexpected("unknown connection type \"" + type + "\"");
  }
  if (fields.size() < 4) return unexpected("too few fields");
  auto databases = expand_files(fields[1], path, read);
  if (!databases) return unexpected(databases.error());
  auto users = expand_files(fields[2], path, read);
  if (!users) return unexpected(users.error());
  if (auto ok = check_names(*databases, true); !ok) return unexpected(ok.error());
  if (auto ok = check_names(*users, false); !ok) return unexpected(ok.error());
  rule.databases = std::move(*databases);
  rule.users = std::move(*users);
  size_t next = 3;
  if (rule.connection != HbaConnection::Local) {
    auto address = parse_address(fields, next);
    if (!address) return unexpected(address.error());
    rule.address = *address;
  }
  if (next >= fields.size() || fields[next].size() != 1) return unexpected("missing authentication method");
  auto method = parse_method(fields[next][0].text);
  if (!method) return unexpected(method.error());
  rule.method = *method;
  if (rule.method == HbaMethod::Peer && rule.connection != HbaConnection::Local) {
    return unexpected("peer authentication is only for local connections");
  }
  if (rule.method == HbaMethod::Cert && rule.connection != HbaConnection::HostSsl) {
    return unexpected("cert authentication is only for hostssl connections");
  }
  for (++next; next < fields.size(); ++next) {
    for (const auto& option : fields[next]) {
      if (option.text.rfind("map=", 0) == 0) return unexpected("user name maps (map=) are not supported yet");
      return unexpected("unknown authentication option \"" + option.text + "\"");
    }
  }
  return rule;
}

bool name_matches(const std::vector<HbaName>& names, std::string_view value, std::string_view user, bool database) {
  for (const auto& name : names) {
    if (name.keyword && name.text == "all") return true;
    if (database && name.keyword && name.text == "sameuser" && value == user) return true;
    if (database && name.keyword && name.text == "replication") continue;  // no replication connections here
    if (name.text == value) return true;
  }
  return false;
}

bool address_matches(const HbaAddress& rule, const HbaAddress& client) {
  if (rule.v6 != client.v6) return false;
  for (size_t i = 0; i < 16; ++i) {
    if ((client.bytes[i] & rule.mask[i]) != rule.bytes[i]) return false;
  }
  return true;
}

}  // namespace

const char* to_string(HbaMethod method) {
  switch (method) {
    case HbaMethod::Trust: return "trust";
    case HbaMethod::Reject: return "reject";
    case HbaMethod::Password: return "password";
    case HbaMethod::Md5: return "md5";
    case HbaMethod::ScramSha256: return "scram-sha-256";
    case HbaMethod::Cert: return "cert";
    case HbaMethod::Peer: return "peer";
  }
  return "?";
}

std::optional<HbaAddress> parse_ip(std::string_view text) {
  std::string copy(text);
  HbaAddress address;
  if (inet_pton(AF_INET, copy.c_str(), address.bytes.data()) == 1) {
    prefix_mask(32, 32, address.mask);
    return address;
  }
  if (inet_pton(AF_INET6, copy.c_str(), address.bytes.data()) == 1) {
    address.v6 = true;
    prefix_mask(128, 128, address.mask);
    return address;
  }
  return std::nullopt;
}

Result<HbaRules> parse_hba(const std::string& path, std::string_view text, const HbaFileReader& read) {
  HbaRules rules;
  rules.path = path;
  int line_number = 0;
  std::string logical;
  int logical_start = 0;
  size_t start = 0;
  while (start <= text.size()) {
    size_t end = text.find('\n', start);
    std::string_view line = text.substr(start, end == std::string_view::npos ? std::string_view::npos : end - start);
    ++line_number;
    if (logical.empty()) logical_start = line_number;
    if (!line.empty() && line.back() == '\\') {  // continues on the next line
      logical.append(line.substr(0, line.size() - 1));
    } else {
      logical.append(line);
      auto fields = tokenize(logical);
      if (!fields) return unexpected(path + ":" + std::to_string(logical_start) + ": " + fields.error());
      if (!fields->empty()) {
        auto rule = parse_rule(*fields, path, read);
        if (!rule) return unexpected(path + ":" + std::to_string(logical_start) + ": " + rule.error());
        rule->line = logical_start;
        rules.rules.push_back(std::move(*rule));
      }
      logical.clear();
    }
    if (end == std::string_view::npos) break;
    start = end + 1;
  }
  return rules;
}

const HbaRule* match_hba(const HbaRules& rules, const HbaClient& client) {
  for (const auto& rule : rules.rules) {
    switch (rule.connection) {
      case HbaConnection::Local:
        if (!client.unix_socket) continue;
        break;
      case HbaConnection::Host:
        if (client.unix_socket) continue;
        break;
      case HbaConnection::HostSsl:
        if (client.unix_socket || !client.tls) continue;
        break;
      case HbaConnection::HostNoSsl:
        if (client.unix_socket || client.tls) continue;
        break;
    }
    if (!name_matches(rule.databases, client.database, client.user, true)) continue;
    if (!name_matches(rule.users, client.user, client.user, false)) continue;
    if (rule.address && (!client.address || !address_matches(*rule.address, *client.address))) continue;
    return &rule;
  }
  return nullptr;
}

}  // namespace breakwater::auth
