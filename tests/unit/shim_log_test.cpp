// procview-runtime's log lines must look like the real runtime's own, so
// containerd (which reads the last "error" line of log.json) and Docker show
// them. The expected lines are runc 1.1.5's output for `runc --log FILE
// --log-format {json,text} state nosuch` and `runc nosuchcmd` on this machine.
#include <doctest/doctest.h>

#include <ctime>

#include "shim/real_runtime.hpp"
#include "shim/runtime_log.hpp"

using namespace procview::shim;

namespace {
std::tm at(int year, int mon, int day, int h, int m, int s) {
    std::tm tm{};
    tm.tm_year = year - 1900;
    tm.tm_mon = mon - 1;
    tm.tm_mday = day;
    tm.tm_hour = h;
    tm.tm_min = m;
    tm.tm_sec = s;
    return tm;
}
}  // namespace

TEST_CASE("log lines in runc's formats") {
    CHECK(format_log_line(LogLevel::error, "container does not exist", "2026-11-22T17:53:38Z", LogFormat::json) ==
          "{\"level\":\"error\",\"msg\":\"container does not exist\",\"time\":\"2026-11-22T17:53:38Z\"}\n");
    CHECK(format_log_line(LogLevel::error, "container does not exist", "2026-11-22T17:53:38Z", LogFormat::text) ==
          "time=\"2026-11-22T17:53:38Z\" level=error msg=\"container does not exist\"\n");
    CHECK(format_log_line(LogLevel::error, "No help topic for 'nosuchcmd'\n", "2026-11-22T17:53:38Z",
                          LogFormat::text) ==
          "time=\"2026-11-22T17:53:38Z\" level=error msg=\"No help topic for 'nosuchcmd'\\n\"\n");
    // logrus leaves simple values unquoted.
    CHECK(format_log_line(LogLevel::info, "ok", "2026-11-22T17:53:38Z", LogFormat::text) ==
          "time=\"2026-11-22T17:53:38Z\" level=info msg=ok\n");
    CHECK(format_log_line(LogLevel::warning, "tab\there \"q\" back\\slash \x01", "T", LogFormat::text) ==
          "time=T level=warning msg=\"tab\\there \\\"q\\\" back\\\\slash \\x01\"\n");
    CHECK(format_log_line(LogLevel::debug, "a \"b\"\n", "T", LogFormat::json) ==
          "{\"level\":\"debug\",\"msg\":\"a \\\"b\\\"\\n\",\"time\":\"T\"}\n");
    // A path with invalid UTF-8 must not throw.
    CHECK(format_log_line(LogLevel::info, "bad \xff byte", "T", LogFormat::json).find("bad ") != std::string::npos);
}

TEST_CASE("RFC 3339 times") {
    CHECK(format_rfc3339(at(2026, 11, 22, 17, 53, 38), 0) == "2026-11-22T17:53:38Z");
    CHECK(format_rfc3339(at(2026, 1, 2, 3, 4, 5), 3600) == "2026-01-02T03:04:05+01:00");
    CHECK(format_rfc3339(at(2026, 1, 2, 3, 4, 5), -(9 * 3600 + 30 * 60)) == "2026-01-02T03:04:05-09:30");
}

TEST_CASE("--log and --log-format values") {
    CHECK(parse_log_format(std::string("json")) == LogFormat::json);
    CHECK(parse_log_format(std::string("text")) == LogFormat::text);
    CHECK(parse_log_format(std::nullopt) == LogFormat::text);
    CHECK(log_file_of("/run/x/log.json") == "/run/x/log.json");
    CHECK(log_file_of("file:/tmp/crun.log") == "/tmp/crun.log");
    CHECK_FALSE(log_file_of("journald:web").has_value());
    CHECK_FALSE(log_file_of("syslog:web").has_value());
    CHECK_FALSE(log_file_of("").has_value());
    CHECK_FALSE(log_file_of("file:").has_value());
}

TEST_CASE("real runtime candidates") {
    CHECK(runtime_candidates("", "/usr/local/bin:/usr/sbin") ==
          std::vector<std::string>{"/usr/local/bin/runc", "/usr/sbin/runc", "/usr/local/bin/crun", "/usr/sbin/crun"});
    CHECK(runtime_candidates("crun", "/a:/b/") == std::vector<std::string>{"/a/crun", "/b/crun"});
    CHECK(runtime_candidates("/opt/runc/bin/runc", "/a") == std::vector<std::string>{"/opt/runc/bin/runc"});
    CHECK(runtime_candidates("runc", "/a::/b") == std::vector<std::string>{"/a/runc", "./runc", "/b/runc"});
}
