#pragma once
// A small expected-like type for the pure layers (protocol/, config/, auth/):
// they return values, never throw. The API is the std::expected subset we use,
// so this becomes an alias once the project moves to C++23.

#include <string>
#include <type_traits>
#include <utility>
#include <variant>

namespace breakwater {

template <typename E>
class Unexpected {
 public:
  explicit Unexpected(E error) : error_(std::move(error)) {}
  E& error() & { return error_; }
  E&& error() && { return std::move(error_); }

 private:
  E error_;
};

template <typename T, typename E = std::string>
class [[nodiscard]] Result {
 public:
  Result(T value) : data_(std::in_place_index<0>, std::move(value)) {}  // NOLINT: implicit like expected
  Result(Unexpected<E> error) : data_(std::in_place_index<1>, std::move(error).error()) {}  // NOLINT

  bool has_value() const { return data_.index() == 0; }
  explicit operator bool() const { return has_value(); }

  T& value() & { return std::get<0>(data_); }
  const T& value() const& { return std::get<0>(data_); }
  T&& value() && { return std::get<0>(std::move(data_)); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }

  const E& error() const { return std::get<1>(data_); }

 private:
  std::variant<T, E> data_;
};

// Result<void>: success or an error.
template <typename E>
class [[nodiscard]] Result<void, E> {
 public:
  Result() = default;
  Result(Unexpected<E> error) : error_(std::move(error).error()), failed_(true) {}  // NOLINT

  bool has_value() const { return !failed_; }
  explicit operator bool() const { return has_value(); }
  const E& error() const { return error_; }

 private:
  E error_{};
  bool failed_ = false;
};

// Text errors (string literals included) become std::string, the pure layers' error type.
template <typename E>
auto unexpected(E&& error) {
  if constexpr (std::is_convertible_v<E, std::string>) {
    return Unexpected<std::string>(std::string(std::forward<E>(error)));
  } else {
    return Unexpected<std::decay_t<E>>(std::forward<E>(error));
  }
}

}  // namespace breakwater
