// [databases] values: connection strings and the entry built from them.
#include "config/config_loader.hpp"
#include "config/connstring.hpp"

using namespace breakwater;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  (void)config::parse_connstring(text);
  std::vector<std::string> warnings;
  (void)config::parse_database_entry("db", text, warnings);
  return 0;
}
