#include "shim/runtime_log.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>

#include <nlohmann/json.hpp>

namespace procview::shim {
namespace {

std::string_view level_name(LogLevel level) {
    switch (level) {
        case LogLevel::debug: return "debug";
        case LogLevel::info: return "info";
        case LogLevel::warning: return "warning";
        case LogLevel::error: return "error";
    }
    return "info";
}

// logrus TextFormatter.needsQuoting.
bool needs_quoting(std::string_view text) {
    if (text.empty()) return false;
    for (unsigned char c : text) {
        bool plain = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
                     c == '.' || c == '_' || c == '/' || c == '@' || c == '^' || c == '+';
        if (!plain) return true;
    }
    return false;
}

// Go's %q for the characters a log message holds: escapes quotes,
// backslashes and control characters; keeps UTF-8 as is.
std::string go_quote(std::string_view text) {
    static constexpr char kHex[] = "0123456789abcdef";
    std::string out = "\"";
    for (unsigned char c : text) {
        switch (c) {
            case '"': out += "\\\""; break;
            case '\\': out += "\\\\"; break;
            case '\n': out += "\\n"; break;
            case '\t': out += "\\t"; break;
            case '\r': out += "\\r"; break;
            default:
                if (c < 0x20 || c == 0x7f) {
                    out += "\\x";
                    out += kHex[c >> 4];
                    out += kHex[c & 0xf];
                } else {
                    out += static_cast<char>(c);
                }
        }
    }
    out += '"';
    return out;
}

std::string text_value(std::string_view value) { return needs_quoting(value) ? go_quote(value) : std::string(value); }

void write_all(int fd, std::string_view text) {
    while (!text.empty()) {
        ssize_t n = ::write(fd, text.data(), text.size());
        if (n < 0) {
            if (errno == EINTR) continue;
            return;  // a log that cannot be written must not stop the container
        }
        text.remove_prefix(static_cast<std::size_t>(n));
    }
}

std::string now_rfc3339() {
    std::time_t now = std::time(nullptr);
    std::tm tm{};
    localtime_r(&now, &tm);
    return format_rfc3339(tm, tm.tm_gmtoff);
}

}  // namespace

LogFormat parse_log_format(const std::optional<std::string>& flag) {
    return flag && *flag == "json" ? LogFormat::json : LogFormat::text;
}

std::optional<std::string> log_file_of(std::string_view log_flag) {
    if (log_flag.empty()) return std::nullopt;
    if (log_flag.starts_with("file:")) {
        log_flag.remove_prefix(5);
        return log_flag.empty() ? std::nullopt : std::optional<std::string>(log_flag);
    }
    if (log_flag.starts_with("journald:") || log_flag.starts_with("syslog:")) return std::nullopt;
    return std::string(log_flag);
}

std::string format_rfc3339(const std::tm& tm, long utc_offset_seconds) {
    char buf[64];
    std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday,
                  tm.tm_hour, tm.tm_min, tm.tm_sec);
    std::string out = buf;
    if (utc_offset_seconds == 0) return out + "Z";
    long minutes = (utc_offset_seconds < 0 ? -utc_offset_seconds : utc_offset_seconds) / 60;
    std::snprintf(buf, sizeof buf, "%c%02ld:%02ld", utc_offset_seconds < 0 ? '-' : '+', minutes / 60, minutes % 60);
    return out + buf;
}

std::string format_log_line(LogLevel level, std::string_view msg, std::string_view time, LogFormat format) {
    if (format == LogFormat::json) {
        nlohmann::ordered_json line = nlohmann::ordered_json::object();
        line["level"] = level_name(level);
        line["msg"] = msg;
        line["time"] = time;
        return line.dump(-1, ' ', false, nlohmann::ordered_json::error_handler_t::replace) + "\n";
    }
    std::string out = "time=" + text_value(time);
    out += " level=";
    out += level_name(level);
    out += " msg=" + text_value(msg) + "\n";
    return out;
}

RuntimeLog::RuntimeLog(const std::optional<std::string>& log_flag, LogFormat format, bool debug)
    : file_(log_flag ? log_file_of(*log_flag) : std::nullopt), format_(format), debug_(debug) {}

void RuntimeLog::write(LogLevel level, std::string_view msg) {
    if (level == LogLevel::debug && !debug_) return;
    if (file_ && !fd_ && !open_failed_) {
        int fd = ::open(file_->c_str(), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
        if (fd >= 0) fd_.reset(fd);
        else open_failed_ = true;
    }
    if (fd_) {
        write_all(fd_.get(), format_log_line(level, msg, now_rfc3339(), format_));
        return;
    }
    if (level == LogLevel::warning || level == LogLevel::error || debug_)
        write_all(STDERR_FILENO, format_log_line(level, msg, now_rfc3339(), LogFormat::text));
}

}  // namespace procview::shim
