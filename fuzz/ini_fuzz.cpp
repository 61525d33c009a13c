// pgbouncer.ini text through the whole loader (reader, settings, connection strings).
#include "config/config_loader.hpp"

using namespace breakwater;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string text(reinterpret_cast<const char*>(data), size);
  auto reader = [&text](const std::string& path) -> Result<std::string> {
    if (path == "fuzz.ini" || path == "inc.ini") return text;
    return unexpected(std::string("no such file"));
  };
  (void)config::load_config("fuzz.ini", reader);
  return 0;
}
