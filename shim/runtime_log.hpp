// procview-runtime's messages, written where the real runtime logs and in
// its format, so containerd and Docker show them next to runc's own:
//   --log-format json   {"level":"info","msg":"procview: ...","time":"2026-11-22T17:53:38Z"}
//   --log-format text   time="2026-11-22T17:53:38Z" level=info msg="procview: ..."
// (runc's logrus formatters: JSON keys sorted, text values quoted Go-style
// when they hold anything but [A-Za-z0-9-._/@^+]). spdlog's patterns cannot
// produce either, hence this small writer.
//
// Without --log, warnings and errors go to stderr in text format (runc's own
// default); info and debug messages are dropped.
#pragma once

#include <ctime>
#include <optional>
#include <string>
#include <string_view>

#include "platform/unique_fd.hpp"

namespace procview::shim {

enum class LogLevel { debug, info, warning, error };
enum class LogFormat { text, json };

// "json" → json; anything else (absent, "text") → text, as runc does.
LogFormat parse_log_format(const std::optional<std::string>& flag);

// The file behind a --log value: runc takes a path; crun also takes
// "file:PATH", "journald:ID" and "syslog:ID" (nullopt: not a file the shim can append to).
std::optional<std::string> log_file_of(std::string_view log_flag);

// RFC 3339 with seconds, local time as broken down in `tm` with its UTC offset
// ("Z" when the offset is 0): 2026-11-22T17:53:38Z, 2026-11-22T18:53:38+01:00.
std::string format_rfc3339(const std::tm& tm, long utc_offset_seconds);

// One log line ending in '\n'. Invalid UTF-8 in `msg` is replaced in JSON.
std::string format_log_line(LogLevel level, std::string_view msg, std::string_view time, LogFormat format);

// The I/O edge: appends lines to the runtime's --log file (opened O_APPEND |
// O_CLOEXEC on first use, so the real runtime never inherits it).
class RuntimeLog {
public:
    RuntimeLog(const std::optional<std::string>& log_flag, LogFormat format, bool debug);
    void write(LogLevel level, std::string_view msg);
    void debug(std::string_view msg) { write(LogLevel::debug, msg); }
    void info(std::string_view msg) { write(LogLevel::info, msg); }
    void warning(std::string_view msg) { write(LogLevel::warning, msg); }
    void error(std::string_view msg) { write(LogLevel::error, msg); }

private:
    std::optional<std::string> file_;
    LogFormat format_;
    bool debug_;
    UniqueFd fd_;
    bool open_failed_ = false;
};

}  // namespace procview::shim
