// Precompiled for every target that uses Asio: its headers are the largest part
// of what each of those files parses. Only headers whose content never depends
// on our code belong here.
#pragma once
#include <asio.hpp>
#include <asio/experimental/as_tuple.hpp>

#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <variant>
#include <vector>
