#include "session/param_sync.hpp"

#include <cctype>
#include <mutex>

#include "config/values.hpp"
#include "pool/server_connector.hpp"
#include "protocol/message_writer.hpp"
#include "protocol/sqlstate.hpp"

namespace breakwater::session {
namespace {

// What PostgreSQL would report for a value a client asked for, where the
// spelling is known to change: encoding names ("utf-8" is reported "UTF8").
std::string canonical_value(std::string_view name, std::string_view value) {
  if (!config::iequals(name, "client_encoding")) return std::string(value);
  std::string out;
  for (char c : value) {
    if (std::isalnum(static_cast<unsigned char>(c))) out.push_back(static_cast<char>(std::toupper(static_cast<unsigned char>(c))));
  }
  if (out == "UNICODE") out = "UTF8";
  return out;
}

bool reports_unchanged(const pool::ParameterMap& reported, const ParameterList& startup) {
  for (const auto& [name, value] : startup) {
    // ParameterMap::set matches names exactly: another spelling would be a new entry.
    const std::string* current = reported.find(name);
    if (current == nullptr || *current != canonical_value(name, value)) return false;
  }
  return true;
}

}  // namespace

std::shared_ptr<const pool::WelcomeParameters> welcome_values(
    const std::shared_ptr<const pool::WelcomeParameters>& cached, const ParameterList& startup) {
  if (reports_unchanged(cached->values, startup)) return cached;
  // Clients of one application ask for the same values (its application_name):
  // each worker keeps the last variant it made, so a storm of them makes one.
  struct Variant {
    std::shared_ptr<const pool::WelcomeParameters> base, told;
    ParameterList startup;
  };
  thread_local Variant last;
  if (last.base == cached && last.startup == startup) return last.told;
  pool::ParameterMap reported = cached->values;
  for (const auto& [name, value] : startup) reported.set(name, canonical_value(name, value));
  last = {cached, std::make_shared<const pool::WelcomeParameters>(std::move(reported)), startup};
  return last.told;
}

ParameterList tracked_values(const pool::ParameterMap& reported, const std::vector<std::string>& tracked) {
  ParameterList wanted;
  for (const auto& name : tracked) {
    if (const std::string* value = reported.find_any_case(name)) wanted.emplace_back(name, *value);
  }
  return wanted;
}

WantedParameters wanted_after_welcome(const std::shared_ptr<const pool::WelcomeParameters>& told,
                                      const std::vector<std::string>& tracked) {
  struct Made {
    std::shared_ptr<const pool::WelcomeParameters> told;
    std::vector<std::string> tracked;
    WantedParameters wanted;
  };
  thread_local Made last;
  if (last.told != told || last.tracked != tracked) {
    last = {told, tracked, WantedParameters(tracked_values(told->values, tracked))};
  }
  return last.wanted;
}

protocol::ByteBuffer welcome_message(std::span<const uint8_t> parameter_status, protocol::BackendKeyData key) {
  // One allocation: AuthenticationOk (9 bytes), the ParameterStatus messages,
  // BackendKeyData (13), ReadyForQuery (6).
  protocol::ByteBuffer out;
  out.reserve(9 + parameter_status.size() + 13 + 6);
  protocol::write_authentication(out, protocol::AuthCode::Ok);
  out.insert(out.end(), parameter_status.begin(), parameter_status.end());
  protocol::write_backend_key_data(out, key);
  protocol::write_ready_for_query(out, 'I');
  return out;
}

ParameterList with_reported_values(ParameterList wanted, const pool::ParameterMap& reported,
                                   const std::vector<std::string>& tracked) {
  for (const auto& name : tracked) {
    bool known = false;
    for (const auto& [key, value] : wanted) known = known || config::iequals(key, name);
    if (const std::string* value = reported.find_any_case(name); value != nullptr && !known) {
      wanted.emplace_back(name, *value);
    }
  }
  return wanted;
}

std::string quote_literal(std::string_view value) {
  bool has_backslash = value.find('\\') != std::string_view::npos;
  std::string out = has_backslash ? "E'" : "'";
  for (char c : value) {
    if (c == '\'') out.push_back('\'');
    if (c == '\\') out.push_back('\\');
    out.push_back(c);
  }
  out.push_back('\'');
  return out;
}

WantedParameters::WantedParameters(ParameterList values) {
  // One last list for all workers, not one each: a server that moves from one
  // worker's client to another's is then still in line with the same pointer,
  // and its next link compares and SETs nothing. Taken once per login.
  static std::mutex mutex;
  static std::shared_ptr<const ParameterList> last;
  std::lock_guard lock(mutex);
  if (last && *last == values) {
    values_ = last;
    return;
  }
  values_ = std::make_shared<const ParameterList>(std::move(values));
  last = values_;
}

const ParameterList& WantedParameters::list() const {
  static const ParameterList kNone;
  return values_ ? *values_ : kNone;
}

void WantedParameters::adopt_from(const pool::ParameterMap& server) {
  if (!values_) return;
  std::shared_ptr<ParameterList> changed;
  for (size_t i = 0; i < values_->size(); ++i) {
    const auto& [name, value] = (*values_)[i];
    const std::string* reported = server.find_any_case(name);
    if (reported == nullptr || *reported == value) continue;
    if (!changed) changed = std::make_shared<ParameterList>(*values_);
    (*changed)[i].second = *reported;
  }
  if (changed) values_ = std::move(changed);
}

std::string build_sync_query(const pool::ParameterMap& server, const ParameterList& wanted) {
  std::string sql;
  for (const auto& [name, value] : wanted) {
    const std::string* current = server.find_any_case(name);
    if (current != nullptr && *current == value) continue;
    if (!sql.empty()) sql += ";";
    sql += "SET " + name + " TO " + quote_literal(value);
  }
  return sql;
}

net::Task<Result<void, protocol::ClientError>> sync_parameters(pool::ServerConnection& server,
                                                               const ParameterList& wanted,
                                                               const config::Config& config) {
  std::string sql = build_sync_query(server.params, wanted);
  if (sql.empty()) co_return Result<void, protocol::ClientError>{};
  auto ran = co_await pool::run_simple_query(server, sql, static_cast<uint32_t>(config.max_packet_size));
  if (!ran) {
    co_return unexpected(protocol::ClientError{protocol::sqlstate::kProtocolViolation,
                                               "cannot apply startup parameters: " + ran.error()});
  }
  co_return Result<void, protocol::ClientError>{};
}

}  // namespace breakwater::session
