#pragma once
// An error meant for a client: sent as an ErrorResponse before the pooler closes
// (FATAL) or continues (ERROR). Built from the named SQLSTATEs in sqlstate.hpp.

#include <string>

#include "protocol/message_writer.hpp"

namespace breakwater::protocol {

struct ClientError {
  std::string sqlstate;
  std::string message;
  std::string detail = {};
  std::string severity = "FATAL";

  ErrorSpec spec() const { return {severity, sqlstate, message, detail}; }
};

}  // namespace breakwater::protocol
