// CHECK(expr): return the error of a Result<void> expression (rt's TRY needs a value).
#pragma once

#define SONDE_CAPNP_CHECK(expr)                        \
  do {                                                 \
    auto _check_result = (expr);                       \
    if (!_check_result.ok()) return _check_result.error(); \
  } while (0)
