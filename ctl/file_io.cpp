#include "ctl/file_io.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <ctime>

#include "platform/fs.hpp"
#include "platform/unique_fd.hpp"

namespace procview::ctl {

namespace {

std::string dir_of(const std::string& path) {
    auto slash = path.rfind('/');
    if (slash == std::string::npos) return ".";
    return slash == 0 ? "/" : path.substr(0, slash);
}

Result<void> make_dirs(const std::string& dir) {
    struct stat st{};
    if (::stat(dir.c_str(), &st) == 0) {
        if (S_ISDIR(st.st_mode)) return {};
        return make_error(ENOTDIR, "create directory `" + dir + "`");
    }
    if (dir != "/" && dir != ".") {
        auto parent = make_dirs(dir_of(dir));
        if (!parent) return parent;
    }
    if (::mkdir(dir.c_str(), 0755) != 0 && errno != EEXIST) return make_error(errno, "create directory `" + dir + "`");
    return {};
}

Result<void> sync_dir(const std::string& dir) {
    UniqueFd fd(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    if (!fd) return make_error(errno, "open directory `" + dir + "`");
    if (::fsync(fd.get()) != 0) return make_error(errno, "fsync directory `" + dir + "`");
    return {};
}

Result<void> write_all(int fd, std::string_view text, const std::string& path) {
    while (!text.empty()) {
        ssize_t n = ::write(fd, text.data(), text.size());
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) return make_error(errno, "write `" + path + "`");
        text.remove_prefix(static_cast<size_t>(n));
    }
    return {};
}

// The temporary file is unlinked unless it was renamed into place.
struct TempFile {
    std::string path;
    bool placed = false;
    ~TempFile() {
        if (!placed && !path.empty()) ::unlink(path.c_str());
    }
};

// Writes `text` to a new temporary file in `dir`, fsynced; `like` (when
// set) gives mode and owner, else 0644. `path` names the file in errors.
Result<void> write_temp(TempFile& temp, const std::string& dir, const std::string& path, std::string_view text,
                        const struct stat* like) {
    std::string name = dir + "/.procview-ctl-XXXXXX";
    UniqueFd fd(::mkostemp(name.data(), O_CLOEXEC));
    if (!fd) return make_error(errno, "create a temporary file next to `" + path + "`");
    temp.path = name;
    auto written = write_all(fd.get(), text, name);
    if (!written) return written;
    mode_t mode = like ? (like->st_mode & 07777) : 0644;
    if (::fchmod(fd.get(), mode) != 0) return make_error(errno, "chmod `" + name + "`");
    if (like && ::fchown(fd.get(), like->st_uid, like->st_gid) != 0) return make_error(errno, "chown `" + name + "`");
    if (::fsync(fd.get()) != 0) return make_error(errno, "fsync `" + name + "`");
    return {};
}

}  // namespace

Result<std::optional<std::string>> read_if_exists(const std::string& path) {
    struct stat st{};
    if (::lstat(path.c_str(), &st) != 0) {
        if (errno == ENOENT) return std::optional<std::string>{};
        return make_error(errno, "stat `" + path + "`");
    }
    if (S_ISLNK(st.st_mode)) return make_error(ELOOP, "`" + path + "` is a symlink (pass its target with --config)");
    if (!S_ISREG(st.st_mode)) return make_error(EINVAL, "`" + path + "` is not a regular file");
    auto text = read_file(path);
    if (!text) return text.error();
    return std::optional<std::string>{std::move(*text)};
}

Result<void> write_atomically(const std::string& path, std::string_view text) {
    auto dirs = make_dirs(dir_of(path));
    if (!dirs) return dirs;
    struct stat st{};
    bool existed = ::lstat(path.c_str(), &st) == 0;
    TempFile temp;
    auto written = write_temp(temp, dir_of(path), path, text, existed ? &st : nullptr);
    if (!written) return written;
    if (::rename(temp.path.c_str(), path.c_str()) != 0) return make_error(errno, "rename into `" + path + "`");
    temp.placed = true;
    return sync_dir(dir_of(path));
}

std::string backup_base(const std::string& path, const std::string& stamp) {
    std::string dir = dir_of(path);
    if (!dir.ends_with(".d")) return path + ".procview-backup-" + stamp;
    return dir + "." + path.substr(dir.size() + 1) + ".procview-backup-" + stamp;
}

Result<std::string> back_up(const std::string& path, std::string_view text, const std::string& stamp) {
    struct stat st{};
    if (::lstat(path.c_str(), &st) != 0) return make_error(errno, "stat `" + path + "`");
    std::string base = backup_base(path, stamp);
    for (int n = 0; n < 100; ++n) {
        std::string candidate = n == 0 ? base : base + "-" + std::to_string(n);
        TempFile temp;
        auto written = write_temp(temp, dir_of(base), path, text, &st);
        if (!written) return written.error();
        // link() fails with EEXIST instead of replacing an older backup.
        if (::link(temp.path.c_str(), candidate.c_str()) == 0) {
            auto synced = sync_dir(dir_of(base));
            if (!synced) return synced.error();
            return candidate;
        }
        if (errno != EEXIST) return make_error(errno, "create backup `" + candidate + "`");
    }
    return make_error(EEXIST, "create backup `" + base + "`");
}

Result<void> remove_file(const std::string& path) {
    if (::unlink(path.c_str()) != 0 && errno != ENOENT) return make_error(errno, "remove `" + path + "`");
    return sync_dir(dir_of(path));
}

std::string backup_stamp() {
    std::time_t now = std::time(nullptr);
    std::tm utc{};
    ::gmtime_r(&now, &utc);
    char buf[32];
    std::strftime(buf, sizeof buf, "%Y%m%dT%H%M%SZ", &utc);
    return buf;
}

}  // namespace procview::ctl
