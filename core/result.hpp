// Error and Result<T>: how every fallible call in procview reports failure.
//
// Contract (after crun's error_handling.md): a fallible function returns
// Result<T>; on failure the Error carries the errno that explains it (0 when
// the failure is not a system error, e.g. a parse error) and a message with
// context. Callers add their own context on the way up with `context()`, so a
// log line reads "meminfo for /kubepods/pod1: read `memory.max`: No such file
// or directory".
#pragma once

#include <cerrno>
#include <cstring>
#include <string>
#include <string_view>
#include <utility>
#include <variant>

namespace procview {

struct Error {
    int errnum = 0;          // errno value, or 0 for non-system errors
    std::string message;     // what was being done, with names

    // "outer: inner" — the error seen from one level up.
    [[nodiscard]] Error context(std::string_view outer) const {
        return Error{errnum, std::string(outer) + ": " + message};
    }
    // The message plus strerror(errnum) when there is one.
    [[nodiscard]] std::string describe() const {
        if (errnum == 0) return message;
        return message + ": " + std::strerror(errnum);
    }
};

inline Error make_error(int errnum, std::string message) { return Error{errnum, std::move(message)}; }
// A parse or validation failure: EINVAL with the message.
inline Error invalid(std::string message) { return Error{EINVAL, std::move(message)}; }

template <class T>
class [[nodiscard]] Result {
public:
    Result(T value) : state_(std::move(value)) {}            // NOLINT: implicit by design
    Result(Error error) : state_(std::move(error)) {}        // NOLINT: implicit by design

    [[nodiscard]] bool ok() const { return state_.index() == 0; }
    explicit operator bool() const { return ok(); }

    T& value() & { return std::get<0>(state_); }
    const T& value() const& { return std::get<0>(state_); }
    T&& value() && { return std::get<0>(std::move(state_)); }
    T& operator*() & { return value(); }
    const T& operator*() const& { return value(); }
    T&& operator*() && { return std::move(*this).value(); }
    T* operator->() { return &value(); }
    const T* operator->() const { return &value(); }

    [[nodiscard]] const Error& error() const { return std::get<1>(state_); }
    template <class U>
    T value_or(U&& fallback) const& { return ok() ? value() : static_cast<T>(std::forward<U>(fallback)); }

private:
    std::variant<T, Error> state_;
};

template <>
class [[nodiscard]] Result<void> {
public:
    Result() = default;
    Result(Error error) : error_(std::move(error)), failed_(true) {}  // NOLINT
    [[nodiscard]] bool ok() const { return !failed_; }
    explicit operator bool() const { return ok(); }
    [[nodiscard]] const Error& error() const { return error_; }

private:
    Error error_;
    bool failed_ = false;
};

}  // namespace procview
