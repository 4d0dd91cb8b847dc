// Errors as values: Status carries a code and a human message; StatusOr<T> carries a value or a
// Status. Both are [[nodiscard]]: ignoring one is a compile error (write `(void)` to say it is
// deliberate). Reading the value of a StatusOr that holds an error aborts the process with the
// error's message in every build type: it is a broken invariant, never a way to handle input.
// Immutable after construction; safe to copy between threads.
#pragma once

#include <optional>
#include <string>
#include <utility>

namespace axon {

enum class StatusCode {
  kOk = 0,
  kInvalidArgument,    // the caller sent something malformed (HTTP 400)
  kUnauthenticated,    // no or wrong credentials (HTTP 401)
  kNotFound,           // HTTP 404
  kAlreadyExists,      // HTTP 409
  kResourceExhausted,  // a limit was reached: too large, too many (HTTP 413/429/503 by context)
  kUnavailable,        // try again later (HTTP 503)
  kInternal,           // a bug or an unexpected failure (HTTP 500)
};

class [[nodiscard]] Status {
 public:
  Status() = default;
  Status(StatusCode code, std::string message) : code_(code), message_(std::move(message)) {}

  bool ok() const { return code_ == StatusCode::kOk; }
  StatusCode code() const { return code_; }
  const std::string& message() const { return message_; }

 private:
  StatusCode code_ = StatusCode::kOk;
  std::string message_;
};

inline Status OkStatus() { return {}; }
inline Status InvalidArgument(std::string m) {
  return {StatusCode::kInvalidArgument, std::move(m)};
}
inline Status Unauthenticated(std::string m) {
  return {StatusCode::kUnauthenticated, std::move(m)};
}
inline Status NotFound(std::string m) { return {StatusCode::kNotFound, std::move(m)}; }
inline Status AlreadyExists(std::string m) { return {StatusCode::kAlreadyExists, std::move(m)}; }
inline Status ResourceExhausted(std::string m) {
  return {StatusCode::kResourceExhausted, std::move(m)};
}
inline Status Unavailable(std::string m) { return {StatusCode::kUnavailable, std::move(m)}; }
inline Status Internal(std::string m) { return {StatusCode::kInternal, std::move(m)}; }

// The HTTP status code that best describes `code`.
int HttpStatusFor(StatusCode code);

namespace internal {
// Prints "StatusOr::value() on an error: <message>" to stderr and aborts.
[[noreturn]] void DieOnBadAccess(const Status& status);
}  // namespace internal

template <typename T>
class [[nodiscard]] StatusOr {
 public:
  StatusOr(T value) : value_(std::move(value)) {}         // NOLINT(google-explicit-constructor)
  StatusOr(Status status) : status_(std::move(status)) {  // NOLINT(google-explicit-constructor)
    if (status_.ok()) status_ = Status(StatusCode::kInternal, "StatusOr made from an OK Status");
  }

  bool ok() const { return value_.has_value(); }
  const Status& status() const { return status_; }
  T& value() & { return Checked(); }
  const T& value() const& { return Checked(); }
  T&& value() && { return std::move(Checked()); }
  T* operator->() { return &Checked(); }
  const T* operator->() const { return &Checked(); }
  T& operator*() { return Checked(); }
  const T& operator*() const { return Checked(); }

 private:
  T& Checked() {
    if (!value_) internal::DieOnBadAccess(status_);
    return *value_;
  }
  const T& Checked() const {
    if (!value_) internal::DieOnBadAccess(status_);
    return *value_;
  }

  Status status_;
  std::optional<T> value_;
};

}  // namespace axon
