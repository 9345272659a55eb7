// platform/unique_dir: a DIR* closed exactly once, the fd with it.
#include <doctest/doctest.h>

#include <fcntl.h>
#include <sys/stat.h>

#include <cerrno>
#include <filesystem>

#include "platform/unique_dir.hpp"

using namespace procview;

namespace {
// Whether fd is open in this process.
bool is_open(int fd) { return fd >= 0 && ::fcntl(fd, F_GETFD) >= 0; }
}  // namespace

TEST_CASE("UniqueDir: closes its stream and fd once, moves ownership, reports errno") {
    int fd = -1;
    {
        UniqueDir d = UniqueDir::open_at(AT_FDCWD, "/proc/self");
        REQUIRE(d);
        fd = d.fd();
        CHECK(is_open(fd));
        CHECK((::fcntl(fd, F_GETFD) & FD_CLOEXEC) != 0);
        int seen = 0;
        while (auto* e = d.next()) seen += std::string_view(e->d_name) == "status";
        CHECK(seen == 1);
        UniqueDir moved = std::move(d);
        CHECK_FALSE(d);  // NOLINT: moved-from is empty by contract
        CHECK(d.next() == nullptr);
        CHECK(moved.fd() == fd);
    }
    CHECK_FALSE(is_open(fd));

    errno = 0;
    UniqueDir missing = UniqueDir::open_at(AT_FDCWD, "/nonexistent-procview-dir");
    CHECK_FALSE(missing);
    CHECK(errno == ENOENT);

    // adopt() takes the fd even when it is no directory: closed, not leaked.
    UniqueFd file(::open("/proc/self/status", O_RDONLY | O_CLOEXEC));
    int file_fd = file.get();
    REQUIRE(is_open(file_fd));
    CHECK_FALSE(UniqueDir::adopt(std::move(file)));
    CHECK(errno == ENOTDIR);
    CHECK_FALSE(is_open(file_fd));
}
