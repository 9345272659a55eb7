// open_mount_root and make_parent_mount_slave on a scratch tree, in a
// private mount namespace of a forked child (root only; skipped otherwise).
// The e2e proof that views stay in the container is
// tests/e2e/hook/propagation_test.sh.
#include <doctest/doctest.h>

#include <fcntl.h>
#include <sched.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <string>

#include "hook/propagation.hpp"
#include "platform/fs.hpp"

namespace {

using namespace procview;

bool same_file(int fd, const std::string& path) {
    struct stat a {}, b {};
    return ::fstat(fd, &a) == 0 && ::stat(path.c_str(), &b) == 0 && a.st_ino == b.st_ino && a.st_dev == b.st_dev;
}

// The optional fields of the mount at `path` in this namespace's mountinfo.
std::string propagation_of(const std::string& path) {
    auto text = read_file("/proc/self/mountinfo");
    if (!text) return "?";
    std::string out = "?";
    std::size_t pos = 0;
    while (pos < text->size()) {
        auto nl = text->find('\n', pos);
        std::string line = text->substr(pos, nl - pos);
        pos = nl == std::string::npos ? text->size() : nl + 1;
        if (line.find(" " + path + " ") == std::string::npos) continue;
        auto dash = line.find(" - ");
        auto opts = line.find(' ', line.find(" " + path + " ") + path.size() + 2);  // after the mount options
        out = line.substr(opts + 1, dash - opts - 1);
    }
    return out;
}

// Runs `check` in a child in a private mount namespace; its exit status
// is the number of failed expectations (doctest cannot report from there).
int in_private_namespace(const std::function<int()>& check) {
    pid_t pid = ::fork();
    if (pid == 0) {
        if (::unshare(CLONE_NEWNS) != 0 || ::mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr) != 0) _exit(100);
        _exit(check());
    }
    int status = 0;
    ::waitpid(pid, &status, 0);
    return WIFEXITED(status) ? WEXITSTATUS(status) : 99;
}

}  // namespace

TEST_CASE("propagation: the mount root above a target, and a shared parent made a slave") {
    if (::geteuid() != 0) {
        MESSAGE("skipped: needs root (mount namespaces)");
        return;
    }
    std::string tmpl = (std::filesystem::temp_directory_path() / "pvhook-prop-XXXXXX").string();
    REQUIRE(::mkdtemp(tmpl.data()) != nullptr);
    const std::string top = tmpl + "/proc";
    const int failures = in_private_namespace([&] {
        int bad = 0;
        std::filesystem::create_directories(top);
        if (::mount("tmpfs", top.c_str(), "tmpfs", 0, nullptr) != 0) return 100;
        std::filesystem::create_directories(top + "/pressure");
        std::ofstream(top + "/pressure/cpu") << "x";
        std::ofstream(top + "/meminfo") << "x";
        // a file bound onto itself is a mount root of its own
        if (::mount((top + "/meminfo").c_str(), (top + "/meminfo").c_str(), nullptr, MS_BIND, nullptr) != 0) return 101;
        if (::mount(nullptr, top.c_str(), nullptr, MS_SHARED, nullptr) != 0) return 102;
        UniqueFd root(::open(tmpl.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC));
        UniqueFd cpu(::open((top + "/pressure/cpu").c_str(), O_PATH | O_CLOEXEC));
        UniqueFd meminfo(::open((top + "/meminfo").c_str(), O_PATH | O_CLOEXEC));
        auto r = hook::open_mount_root(root.get(), "proc/pressure/cpu", cpu.get(), hook::ResolveMethod::automatic);
        bad += !(r && same_file(r->get(), top));
        auto m = hook::open_mount_root(root.get(), "proc/meminfo", meminfo.get(), hook::ResolveMethod::automatic);
        bad += !(m && same_file(m->get(), top + "/meminfo") && !same_file(m->get(), top));
        bad += propagation_of(top).find("shared:") == std::string::npos;  // the setup
        bad += !hook::make_parent_mount_slave(root.get(), "proc/pressure/cpu", cpu.get(), hook::ResolveMethod::walk).ok();
        bad += propagation_of(top).find("shared:") != std::string::npos;
        return bad;
    });
    std::filesystem::remove_all(tmpl);
    CHECK(failures == 0);
}
