#pragma once
// libpq-style "key=value key='quoted value'" strings, as used by [databases],
// [users] and [peers] entries.

#include <string>
#include <utility>
#include <vector>

#include "base/result.hpp"

namespace breakwater::config {

// Pairs in order; keys lower-cased. Quoted values take \' or '' for a quote and \\ for a backslash.
Result<std::vector<std::pair<std::string, std::string>>> parse_connstring(std::string_view text);

}  // namespace breakwater::config
