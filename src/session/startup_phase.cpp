#include "session/startup_phase.hpp"

#include "config/values.hpp"
#include "protocol/sqlstate.hpp"

namespace breakwater::session {

using protocol::ClientError;
namespace sqlstate = protocol::sqlstate;

net::Task<Result<StartupRequest, ClientError>> read_startup(pool::MessageStream& stream, const ClientTls* tls,
                                                            bool unix_socket) {
  bool on_tls = false;
  // A client may try SSL, then GSS encryption, before its StartupMessage.
  for (int attempt = 0; attempt < 3; ++attempt) {
    auto packet = co_await stream.read_startup_packet();
    if (!packet && !stream.received_any()) {
      // A port probe or health check: nothing to answer, nothing worth a warning.
      co_return unexpected(ClientError{"", "client closed the connection before sending a startup packet"});
    }
    if (!packet) co_return unexpected(ClientError{sqlstate::kProtocolViolation, "bad startup packet: " + packet.error()});
    auto parsed = protocol::parse_startup_packet(*packet);
    if (!parsed) co_return unexpected(ClientError{sqlstate::kProtocolViolation, parsed.error()});
    if (std::holds_alternative<protocol::SslRequest>(*parsed) ||
        std::holds_alternative<protocol::GssEncRequest>(*parsed)) {
      if (stream.pending().size() != 0) {
        // Bytes after an encryption request would be read as plaintext: refuse.
        co_return unexpected(ClientError{sqlstate::kProtocolViolation, "unexpected data after encryption request"});
      }
      if (on_tls) co_return unexpected(ClientError{sqlstate::kProtocolViolation, "encryption requested twice"});
      if (std::holds_alternative<protocol::SslRequest>(*parsed) && tls != nullptr && tls->offered(unix_socket)) {
        static const uint8_t kYes = 'S';
        auto written = co_await stream.write(protocol::Bytes(&kYes, 1));
        if (!written) co_return unexpected(ClientError{sqlstate::kConnectionFailure, written.error()});
        auto channel = net::TlsChannel::create(tls->context, net::TlsChannel::Role::Accepting);
        if (!channel) co_return unexpected(ClientError{sqlstate::kConnectionFailure, channel.error()});
        // No ErrorResponse can reach a client whose handshake failed: log only.
        net::Socket& socket = stream.stream().socket();
        auto shaken = co_await net::await_asio(socket.get_executor(), (*channel)->handshake(socket));
        if (!shaken) co_return unexpected(ClientError{"", shaken.error()});
        stream.stream().start_tls(std::move(*channel));
        on_tls = true;
        continue;
      }
      static const uint8_t kNo = 'N';
      auto written = co_await stream.write(protocol::Bytes(&kNo, 1));
      if (!written) co_return unexpected(ClientError{sqlstate::kConnectionFailure, written.error()});
      continue;
    }
    StartupRequest request;
    if (auto* cancel = std::get_if<protocol::CancelRequest>(&*parsed)) {
      request.is_cancel = true;
      request.cancel = *cancel;
    } else {
      request.startup = std::move(std::get<protocol::StartupMessage>(*parsed));
    }
    request.tls = on_tls;
    co_return request;
  }
  co_return unexpected(ClientError{sqlstate::kProtocolViolation, "too many encryption requests"});
}

std::vector<std::string> tracked_parameter_names(const config::Config& config) {
  std::vector<std::string> names{"client_encoding", "DateStyle", "TimeZone", "standard_conforming_strings",
                                 "application_name"};
  for (const auto& extra : config.track_extra_parameters) {
    bool known = false;
    for (const auto& name : names) known = known || config::iequals(name, extra);
    if (!known) names.push_back(extra);
  }
  return names;
}

Result<ClientParameters, ClientError> check_startup_parameters(const protocol::StartupMessage& startup,
                                                               const config::Config& config,
                                                               const std::vector<std::string>& tracked) {
  ClientParameters params;
  auto ignored = [&](std::string_view name) {
    for (const auto& item : config.ignore_startup_parameters) {
      if (config::iequals(item, name)) return true;
    }
    return false;
  };
  for (const auto& [name, value] : startup.parameters) {
    if (name == "user") {
      params.user = value;
    } else if (name == "database") {
      params.database = value;
    } else if (ignored(name)) {
      continue;
    } else if (name == "replication") {
      return unexpected(ClientError{sqlstate::kProtocolViolation, "replication connections are not supported yet"});
    } else {
      auto it = std::find_if(tracked.begin(), tracked.end(), [&](const std::string& t) { return config::iequals(t, name); });
      if (it == tracked.end()) {
        return unexpected(ClientError{sqlstate::kProtocolViolation, "unsupported startup parameter: " + name});
      }
      params.tracked.emplace_back(*it, value);
    }
  }
  if (params.user.empty()) {
    return unexpected(ClientError{sqlstate::kInvalidAuthorization, "no user name in startup packet"});
  }
  if (params.database.empty()) params.database = params.user;
  return params;
}

}  // namespace breakwater::session
