#include "session/session_timeouts.hpp"

namespace breakwater::session {
namespace {

bool past(SteadyTime since, double seconds, SteadyTime now) {
  return seconds > 0 && now - since > std::chrono::duration<double>(seconds);
}

double pick(const std::optional<double>& user_value, double global) {
  return user_value && *user_value > 0 ? *user_value : global;
}

}  // namespace

ClientTimeouts client_timeouts(const config::Config& config, const std::string& user) {
  ClientTimeouts timeouts{config.query_timeout, config.idle_transaction_timeout, config.transaction_timeout,
                          config.client_idle_timeout, config.client_login_timeout};
  if (const config::UserEntry* entry = config.find_user(user)) {
    timeouts.query = pick(entry->query_timeout, timeouts.query);
    timeouts.idle_transaction = pick(entry->idle_transaction_timeout, timeouts.idle_transaction);
    timeouts.transaction = pick(entry->transaction_timeout, timeouts.transaction);
    timeouts.client_idle = pick(entry->client_idle_timeout, timeouts.client_idle);
  }
  return timeouts;
}

bool any_client_timeout(const config::Config& config) {
  if (client_timeouts(config, std::string()).any()) return true;
  for (const auto& [name, entry] : config.users) {
    if (client_timeouts(config, name).any()) return true;
  }
  return false;
}

const char* expired_timeout(const ClientTimeouts& timeouts, const SessionActivity& activity, SteadyTime now) {
  switch (activity.phase) {
    case SessionActivity::Phase::LoggingIn:
      return past(activity.connected_at, timeouts.login, now) ? "client_login_timeout" : nullptr;
    case SessionActivity::Phase::Idle:
      return past(activity.idle_since, timeouts.client_idle, now) ? "client_idle_timeout" : nullptr;
    case SessionActivity::Phase::Waiting:
      return past(activity.waiting_since, timeouts.query, now) ? "query_timeout" : nullptr;
    case SessionActivity::Phase::Linked:
      break;
  }
  const bool busy = activity.query_running || activity.in_transaction;
  if (busy && past(activity.query_start, timeouts.query, now)) return "query timeout";
  if (activity.in_transaction && !activity.query_running &&
      past(activity.query_start, timeouts.idle_transaction, now)) {
    return "idle transaction timeout";
  }
  if (activity.in_transaction && past(activity.transaction_start, timeouts.transaction, now)) {
    return "transaction timeout";
  }
  return nullptr;
}

}  // namespace breakwater::session
