#include "hook/propagation.hpp"

#include <fcntl.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <cstdint>
#include <string>

#include "platform/fs.hpp"

namespace procview::hook {

namespace {

constexpr int kMaxDepth = 64;  // targets are a few components deep; a guard, not a limit

// The mount's id: statx (Linux 5.8+), else /proc/self/fdinfo (3.15+).
Result<std::uint64_t> mount_id(int fd) {
    struct statx stx {};
    if (::statx(fd, "", AT_EMPTY_PATH | AT_SYMLINK_NOFOLLOW | AT_STATX_DONT_SYNC, STATX_MNT_ID, &stx) == 0 &&
        (stx.stx_mask & STATX_MNT_ID) != 0)
        return static_cast<std::uint64_t>(stx.stx_mnt_id);
    auto text = read_file("/proc/self/fdinfo/" + std::to_string(fd));
    if (!text) return text.error().context("mount id");
    auto at = text->find("mnt_id:");
    if (at == std::string::npos) return invalid("mount id: no mnt_id in fdinfo");
    std::string_view rest = std::string_view(*text).substr(at + 7);
    while (!rest.empty() && (rest.front() == ' ' || rest.front() == '\t')) rest.remove_prefix(1);
    std::uint64_t id = 0;
    if (std::from_chars(rest.data(), rest.data() + rest.size(), id).ec != std::errc{})
        return invalid("mount id: malformed fdinfo");
    return id;
}

bool same_inode(int a, int b) {
    struct stat sa {}, sb {};
    return ::fstat(a, &sa) == 0 && ::fstat(b, &sb) == 0 && sa.st_ino == sb.st_ino && sa.st_dev == sb.st_dev;
}

UniqueFd dup_fd(int fd) { return UniqueFd(::fcntl(fd, F_DUPFD_CLOEXEC, 0)); }

}  // namespace

Result<UniqueFd> open_mount_root(int root_fd, std::string_view target, int target_fd, ResolveMethod resolve) {
    auto id = mount_id(target_fd);
    if (!id) return id.error();
    const auto slash = target.rfind('/');
    auto dir = slash == std::string_view::npos ? Result<UniqueFd>(dup_fd(root_fd))
                                               : open_in_root(root_fd, target.substr(0, slash), resolve);
    if (!dir) return dir.error();
    if (!*dir) return make_error(errno, "dup the rootfs fd");
    auto dir_id = mount_id(dir->get());
    if (!dir_id) return dir_id.error();
    if (*dir_id != *id) return dup_fd(target_fd);  // the target is a mount's root (a file bound onto itself)
    UniqueFd current = std::move(*dir);
    for (int depth = 0; depth < kMaxDepth; ++depth) {
        UniqueFd up(::openat(current.get(), "..", O_PATH | O_DIRECTORY | O_CLOEXEC));
        if (!up) return make_error(errno, "open `..` above `" + std::string(target) + "`");
        auto up_id = mount_id(up.get());
        if (!up_id) return up_id.error();
        if (*up_id != *id || same_inode(up.get(), current.get())) return current;
        current = std::move(up);
    }
    return make_error(ELOOP, "no mount root above `" + std::string(target) + "`");
}

Result<void> make_parent_mount_slave(int root_fd, std::string_view target, int target_fd, ResolveMethod resolve) {
    auto top = open_mount_root(root_fd, target, target_fd, resolve);
    if (!top) return top.error().context("find the mount holding `" + std::string(target) + "`");
    struct mount_attr attr {};
    attr.propagation = MS_SLAVE;
    if (::syscall(SYS_mount_setattr, top->get(), "", AT_EMPTY_PATH, &attr, sizeof attr) == 0) return {};
    if (errno != ENOSYS) return make_error(errno, "make the mount holding `" + std::string(target) + "` a slave");
    // Before 5.12: mount(2) through the fd's magic link.
    const std::string path = "/proc/self/fd/" + std::to_string(top->get());
    if (::mount(nullptr, path.c_str(), nullptr, MS_SLAVE, nullptr) != 0)
        return make_error(errno, "make the mount holding `" + std::string(target) + "` a slave");
    return {};
}

}  // namespace procview::hook
