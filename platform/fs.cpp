#include "platform/fs.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>

namespace procview {

Result<UniqueFd> open_at(int dir_fd, const std::string& name, int flags) {
    int fd = ::openat(dir_fd, name.c_str(), flags | O_CLOEXEC);
    if (fd < 0) return make_error(errno, "open `" + name + "`");
    return UniqueFd(fd);
}

Result<UniqueFd> open_directory(int dir_fd, const std::string& name) {
    return open_at(dir_fd, name, O_PATH | O_DIRECTORY);
}

Result<void> pread_whole(int fd, std::string& out, ReadEnd end) {
    // A stack buffer, appended from: growing `out` by resize() would zero-fill
    // it first, a measurable cost at thousands of reads per second.
    char chunk[16 * 1024];
    out.clear();
    for (;;) {
        ssize_t n = ::pread(fd, chunk, sizeof chunk, static_cast<off_t>(out.size()));
        if (n < 0) {
            if (errno == EINTR) continue;
            int saved = errno;
            out.clear();
            return make_error(saved, "read");
        }
        // Read to the end: a seq_file returns one buffer's worth per read
        // (mountinfo, cpuinfo and stat on large hosts, big task lists), so a
        // short read is not the end of the file.
        if (n == 0) break;
        out.append(chunk, static_cast<std::size_t>(n));
        if (end == ReadEnd::short_read && static_cast<std::size_t>(n) < sizeof chunk) break;
    }
    return {};
}

Result<std::string> read_file_at(int dir_fd, const std::string& name) {
    auto fd = open_at(dir_fd, name, O_RDONLY);
    if (!fd) return fd.error();
    std::string out;
    if (auto r = pread_whole(fd->get(), out); !r) return make_error(r.error().errnum, "read `" + name + "`");
    return out;
}

Result<std::string> read_file(const std::string& path) { return read_file_at(AT_FDCWD, path); }

Result<std::string> read_link_at(int dir_fd, const std::string& name) {
    char buf[4096];
    ssize_t n = ::readlinkat(dir_fd, name.c_str(), buf, sizeof buf);
    if (n < 0) return make_error(errno, "readlink `" + name + "`");
    return std::string(buf, static_cast<std::size_t>(n));
}

Result<void> write_file_at(int dir_fd, const std::string& name, std::string_view content) {
    auto fd = open_at(dir_fd, name, O_WRONLY | O_TRUNC);
    if (!fd) return fd.error();
    while (!content.empty()) {
        ssize_t n = ::write(fd->get(), content.data(), content.size());
        if (n < 0) {
            if (errno == EINTR) continue;
            return make_error(errno, "write `" + name + "`");
        }
        content.remove_prefix(static_cast<std::size_t>(n));
    }
    return {};
}

}  // namespace procview
