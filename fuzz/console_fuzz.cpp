// Console command text (anything a client sends as a simple query to the console).
#include "admin/console_command.hpp"

using namespace breakwater;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  auto command = admin::parse_console_command(text);
  // A parsed command is never longer than what it was read from.
  if (command && command->verb.size() + command->argument.size() + command->value.size() > size) __builtin_trap();
  return 0;
}
