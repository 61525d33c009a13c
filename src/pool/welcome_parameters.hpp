#pragma once
// A pool's server parameters as new clients are told them (PgBouncer's cached
// "welcome" values), with their ParameterStatus messages serialized once: a
// login storm's clients, most of which ask for nothing different, then cost no
// copy of the map and no message writing.

#include "pool/server_connection.hpp"
#include "protocol/bytes.hpp"

namespace breakwater::pool {

struct WelcomeParameters {
  explicit WelcomeParameters(ParameterMap reported);

  ParameterMap values;
  protocol::ByteBuffer parameter_status;  // one ParameterStatus per value, in the map's order
};

}  // namespace breakwater::pool
