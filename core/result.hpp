// Error and Result<T>: how every fallible call in procview reports failure.
//
// Contract (after crun's error_handling.md): a fallible function returns
// Result<T>; on failure the Error carries a message with context and an
// errno that explains it, always a positive errno, never 0:
//   - a system call's failure: that call's errno, as it was;
//   - input that does not parse or validate (a file's text, JSON, a flag):
//     EINVAL, through invalid(); the message says what was wrong;
//   - other failures of our own pick the errno that names them: ETIMEDOUT
//     for a bound that passed, ECHILD for a helper that died, ENODATA for an
//     empty answer, EMEDIUMTYPE for the wrong filesystem.
// make_error() turns a 0 into EIO, so a breach of the contract can never
// reach a caller as "no error" (a FUSE reply of 0 is a success).
// Callers add their own context on the way up with `context()`, so a log line
// reads "meminfo for /kubepods/pod1: read `memory.max`: No such file or
// directory".
//
// At the FUSE edge (fusefs/filesystem.cpp) a view that cannot be made replies
// view_errno(): a parse failure becomes EIO, since the reader's read(2) asked
// nothing invalid (the text we read was bad); calls passed through to the
// host's sysfs (readlink, getattr, readdir) reply the host's errno unchanged.
#pragma once

#include <cerrno>
#include <cstring>
#include <string>
#include <string_view>
#include <utility>
#include <variant>

namespace procview {

struct Error {
    int errnum = EIO;        // a positive errno (see the contract above)
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

inline Error make_error(int errnum, std::string message) { return Error{errnum > 0 ? errnum : EIO, std::move(message)}; }
// A parse or validation failure: EINVAL with the message.
inline Error invalid(std::string message) { return Error{EINVAL, std::move(message)}; }
// The errno a reader gets for a view that could not be made: EIO for a parse
// failure (EINVAL), the error's own errno otherwise.
inline int view_errno(const Error& e) { return e.errnum == EINVAL || e.errnum <= 0 ? EIO : e.errnum; }

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
