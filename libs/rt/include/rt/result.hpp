// SPDX-License-Identifier: MIT
// Result<T>: a value or a Linux errno, for code built without exceptions (kernel, servers, libs).
#pragma once

#include <stdint.h>

#include "rt/errno.hpp"

namespace rt {

// Errors travel as values: a negative-free errno plus an optional static message for people.
struct Error {
  int code = 0;                   // a Linux errno (positive), see errno.hpp
  const char* message = nullptr;  // static string, never owned
};

template <typename T>
class [[nodiscard]] Result {
 public:
  Result(T value) : value_(static_cast<T&&>(value)), ok_(true) {}  // NOLINT: implicit by design
  Result(Error error) : error_(error), ok_(false) {}               // NOLINT: implicit by design

  bool ok() const { return ok_; }
  explicit operator bool() const { return ok_; }
  T& value() { return value_; }
  const T& value() const { return value_; }
  T& operator*() { return value_; }
  T* operator->() { return &value_; }
  Error error() const { return error_; }

 private:
  T value_{};
  Error error_{};
  bool ok_;
};

template <>
class [[nodiscard]] Result<void> {
 public:
  Result() : ok_(true) {}
  Result(Error error) : error_(error), ok_(false) {}  // NOLINT: implicit by design
  bool ok() const { return ok_; }
  explicit operator bool() const { return ok_; }
  Error error() const { return error_; }

 private:
  Error error_{};
  bool ok_;
};

inline Error err(int code, const char* message = nullptr) { return Error{code, message}; }

// Between Result and the kernel's convention of 0 or a negated errno (what a Linux system call
// or a BPF helper returns): the negated errno of a failed result, 0 for a success.
template <typename T>
long to_negated_errno(const Result<T>& result) {
  return result.ok() ? 0 : -static_cast<long>(result.error().code);
}
// A negative status is the negated errno of an error; zero and positive statuses are success.
inline Result<void> from_negated_errno(long status) {
  if (status < 0) return err(static_cast<int>(-status));
  return {};
}

}  // namespace rt

namespace rt::detail {
// What TRY's expression evaluates to: the value of a Result<T>, nothing for Result<void>.
template <typename T>
T&& try_value(Result<T>& result) {
  return static_cast<T&&>(result.value());
}
inline void try_value(Result<void>&) {}
}  // namespace rt::detail

// Propagates an error from an expression returning Result<T> (T may be void); evaluates to
// the value.
#define TRY(expr)                                      \
  ({                                                   \
    auto _try_result = (expr);                         \
    if (!_try_result.ok()) return _try_result.error(); \
    ::rt::detail::try_value(_try_result);              \
  })
