#include "pool/welcome_parameters.hpp"

#include "protocol/message_writer.hpp"

namespace breakwater::pool {

WelcomeParameters::WelcomeParameters(ParameterMap reported) : values(std::move(reported)) {
  size_t size = 0;
  for (const auto& [name, value] : values.items()) size += 7 + name.size() + value.size();
  parameter_status.reserve(size);
  for (const auto& [name, value] : values.items()) protocol::write_parameter_status(parameter_status, name, value);
}

}  // namespace breakwater::pool
