#include "hook/resolve.hpp"

#include <fcntl.h>
#include <linux/openat2.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <string>

namespace procview::hook {

namespace {

Error resolve_error(int err, std::string_view relative) {
    std::string path(relative);
    switch (err) {
    case ELOOP: return make_error(err, "`" + path + "` is or passes through a symlink: not followed");
    case ENOENT: return make_error(err, "`" + path + "` does not exist in the container");
    case ENOTDIR: return make_error(err, "`" + path + "` passes through something that is not a directory");
    default: return make_error(err, "resolve `" + path + "` in the rootfs: " + std::strerror(err));
    }
}

Result<UniqueFd> open_with_openat2(int root_fd, std::string_view relative) {
    struct open_how how {};
    how.flags = O_PATH | O_CLOEXEC;
    // IN_ROOT: "/" and ".." stay inside the rootfs; NO_SYMLINKS: no symlink
    // anywhere, the last component included (no O_NOFOLLOW, so a final
    // symlink is ELOOP rather than an fd on the link).
    how.resolve = RESOLVE_IN_ROOT | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS;
    std::string path(relative);
    long fd;
    do fd = ::syscall(SYS_openat2, root_fd, path.c_str(), &how, sizeof how);
    while (fd < 0 && (errno == EINTR || errno == EAGAIN));
    if (fd < 0) return resolve_error(errno, relative);
    return UniqueFd(static_cast<int>(fd));
}

// For kernels before 5.6: every component opened with O_NOFOLLOW from the
// previous one's fd, so nothing can be swapped between check and use, and a
// symlink is seen (fstat on the O_PATH fd of the link) and refused.
Result<UniqueFd> open_with_walk(int root_fd, std::string_view relative) {
    UniqueFd current(::fcntl(root_fd, F_DUPFD_CLOEXEC, 0));
    if (!current) return make_error(errno, "dup the rootfs fd");
    std::string_view rest = relative;
    while (!rest.empty()) {
        auto slash = rest.find('/');
        std::string part(rest.substr(0, slash));
        rest = slash == std::string_view::npos ? std::string_view{} : rest.substr(slash + 1);
        if (part.empty() || part == ".") continue;
        if (part == "..") return make_error(EXDEV, "`" + std::string(relative) + "` holds `..`: refused");
        int fd = ::openat(current.get(), part.c_str(), O_PATH | O_NOFOLLOW | O_CLOEXEC);
        if (fd < 0) return resolve_error(errno, relative);
        UniqueFd next(fd);
        struct stat st {};
        if (::fstat(next.get(), &st) != 0) return make_error(errno, "fstat `" + part + "`");
        if (S_ISLNK(st.st_mode)) return resolve_error(ELOOP, relative);
        current = std::move(next);
    }
    return current;
}

}  // namespace

Result<UniqueFd> open_in_root(int root_fd, std::string_view relative, ResolveMethod method) {
    if (!relative.empty() && relative.front() == '/')
        return make_error(EINVAL, "`" + std::string(relative) + "` is not relative to the rootfs");
    switch (method) {
    case ResolveMethod::walk: return open_with_walk(root_fd, relative);
    case ResolveMethod::openat2: return open_with_openat2(root_fd, relative);
    case ResolveMethod::automatic: break;
    }
    auto r = open_with_openat2(root_fd, relative);
    if (!r && r.error().errnum == ENOSYS) return open_with_walk(root_fd, relative);
    return r;
}

}  // namespace procview::hook
