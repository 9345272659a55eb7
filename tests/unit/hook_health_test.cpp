// check_procview_serving on things that are not procviewfs, and the
// bounded child it runs in. The serving, dead, hung and never-answering
// cases need a FUSE server and run in tests/e2e/hook (down_test.sh,
// deadline_test.sh).
#include <doctest/doctest.h>

#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <string>

#include "platform/health.hpp"

using namespace std::chrono_literals;

TEST_CASE("health: a plain directory is not a FUSE mount") {
    std::string tmpl = (std::filesystem::temp_directory_path() / "pvhook-health-XXXXXX").string();
    REQUIRE(::mkdtemp(tmpl.data()) != nullptr);
    const auto started = std::chrono::steady_clock::now();
    auto r = procview::check_procview_serving(tmpl, 50ms);
    const auto took = std::chrono::steady_clock::now() - started;
    std::filesystem::remove(tmpl);
    REQUIRE_FALSE(r.ok());
    CHECK(r.error().errnum == EMEDIUMTYPE);
    CHECK(r.error().message.find("`" + tmpl + "` is not a FUSE mount (filesystem type 0x") == 0);
    CHECK(r.error().message.find("procviewfs is not mounted there") != std::string::npos);
    CHECK(took < 1s);
}

TEST_CASE("health: a missing mountpoint is ENOENT from statfs") {
    auto r = procview::check_procview_serving("/nonexistent/pvhook-mountpoint", 50ms);
    REQUIRE_FALSE(r.ok());
    CHECK(r.error().errnum == ENOENT);
    CHECK(r.error().describe() == "statfs `/nonexistent/pvhook-mountpoint`: No such file or directory");
}

TEST_CASE("health: procfs is not FUSE either") {
    auto r = procview::check_procview_serving("/proc", 50ms);
    REQUIRE_FALSE(r.ok());
    CHECK(r.error().message == "`/proc` is not a FUSE mount (filesystem type 0x9fa0): procviewfs is not mounted there");
}

TEST_CASE("run_child_until: the report and exit status of a child that finishes") {
    auto r = procview::run_child_until(std::chrono::steady_clock::now() + 5s, [](int fd) {
        return ::write(fd, "done\n", 5) == 5 ? 7 : 1;
    });
    REQUIRE(r.ok());
    CHECK_FALSE(r->timed_out);
    CHECK(r->report == "done\n");
    CHECK(WIFEXITED(r->status));
    CHECK(WEXITSTATUS(r->status) == 7);
}

TEST_CASE("run_child_until: a child that never ends is given up at the deadline, its partial report kept") {
    const auto started = std::chrono::steady_clock::now();
    auto r = procview::run_child_until(started + 200ms, [](int fd) {
        if (::write(fd, "0 M \n", 5) != 5) return 1;
        for (;;) ::pause();
    });
    const auto took = std::chrono::steady_clock::now() - started;
    REQUIRE(r.ok());
    CHECK(r->timed_out);
    CHECK(r->report == "0 M \n");
    CHECK(took >= 200ms);
    CHECK(took < 1s);
}
