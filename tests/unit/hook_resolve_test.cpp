// open_in_root against a hostile tree in a temp dir: symlinks absolute and
// relative, a symlinked directory, a file where a directory should be.
// Both resolution methods (openat2 and the per-component walk) must agree.
#include <doctest/doctest.h>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>

#include "hook/resolve.hpp"

using namespace procview;
using namespace procview::hook;
namespace fs = std::filesystem;

namespace {

struct HostileTree {
    fs::path base;
    fs::path root;
    UniqueFd root_fd;

    HostileTree() {
        std::string tmpl = (fs::temp_directory_path() / "pvhook-resolve-XXXXXX").string();
        REQUIRE(::mkdtemp(tmpl.data()) != nullptr);
        base = tmpl;
        root = base / "rootfs";
        fs::create_directories(root / "proc" / "dir");
        std::ofstream(root / "proc" / "meminfo") << "MemTotal: 1 kB\n";
        std::ofstream(base / "outside") << "host secret\n";
        fs::create_symlink(base / "outside", root / "proc" / "abs-link");  // points at the "host"
        fs::create_symlink("meminfo", root / "proc" / "rel-link");        // stays inside, still refused
        fs::create_symlink("proc", root / "sys");                        // a symlinked directory
        root_fd.reset(::open(root.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC));
        REQUIRE(root_fd.valid());
    }
    ~HostileTree() {
        std::error_code ec;
        fs::remove_all(base, ec);
    }
};

int errno_of(const Result<UniqueFd>& r) { return r.ok() ? 0 : r.error().errnum; }

bool is_regular(const UniqueFd& fd) {
    struct stat st {};
    return ::fstat(fd.get(), &st) == 0 && S_ISREG(st.st_mode);
}

}  // namespace

TEST_CASE("open_in_root: both methods refuse the same hostile paths") {
    HostileTree t;
    for (auto method : {ResolveMethod::openat2, ResolveMethod::walk, ResolveMethod::automatic}) {
        CAPTURE(static_cast<int>(method));
        auto ok = open_in_root(t.root_fd.get(), "proc/meminfo", method);
        REQUIRE(ok.ok());
        CHECK(is_regular(*ok));

        auto dir = open_in_root(t.root_fd.get(), "proc/dir", method);
        CHECK(dir.ok());

        auto abs = open_in_root(t.root_fd.get(), "proc/abs-link", method);
        CHECK(errno_of(abs) == ELOOP);
        CHECK(abs.error().message == "`proc/abs-link` is or passes through a symlink: not followed");

        CHECK(errno_of(open_in_root(t.root_fd.get(), "proc/rel-link", method)) == ELOOP);
        CHECK(errno_of(open_in_root(t.root_fd.get(), "sys/meminfo", method)) == ELOOP);
        CHECK(errno_of(open_in_root(t.root_fd.get(), "sys", method)) == ELOOP);

        auto missing = open_in_root(t.root_fd.get(), "proc/pressure/io", method);
        CHECK(errno_of(missing) == ENOENT);
        CHECK(missing.error().message == "`proc/pressure/io` does not exist in the container");

        CHECK(errno_of(open_in_root(t.root_fd.get(), "proc/meminfo/x", method)) == ENOTDIR);
        CHECK(errno_of(open_in_root(t.root_fd.get(), "/proc/meminfo", method)) == EINVAL);
    }
}

TEST_CASE("open_in_root never leaves the rootfs through ..") {
    HostileTree t;
    // openat2 with RESOLVE_IN_ROOT clamps ".." at the rootfs: `outside`, next
    // to the rootfs, is not reachable.
    CHECK(errno_of(open_in_root(t.root_fd.get(), "../outside", ResolveMethod::openat2)) == ENOENT);
    CHECK(errno_of(open_in_root(t.root_fd.get(), "proc/../../outside", ResolveMethod::openat2)) == ENOENT);
    // The walk has no clamp, so it refuses ".." outright.
    CHECK(errno_of(open_in_root(t.root_fd.get(), "../outside", ResolveMethod::walk)) == EXDEV);
    CHECK(errno_of(open_in_root(t.root_fd.get(), "proc/../proc/meminfo", ResolveMethod::walk)) == EXDEV);
}
