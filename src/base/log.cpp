#include "base/log.hpp"

#include <fmt/format.h>

namespace breakwater::base {

std::string connection_prefix(char kind, uint64_t id, std::string_view database, std::string_view user,
                              std::string_view address) {
  return fmt::format("{}-{:#x}: {}/{}@{}", kind, id, database, user, address);
}

}  // namespace breakwater::base
