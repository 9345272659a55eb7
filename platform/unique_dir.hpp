// An owned directory stream (DIR*), closed exactly once; the RAII twin of
// UniqueFd for readdir loops.
#pragma once

#include <dirent.h>
#include <fcntl.h>

#include <cerrno>
#include <utility>

#include "platform/unique_fd.hpp"

namespace procview {

class UniqueDir {
public:
    UniqueDir() = default;
    ~UniqueDir() { reset(); }
    UniqueDir(const UniqueDir&) = delete;
    UniqueDir& operator=(const UniqueDir&) = delete;
    UniqueDir(UniqueDir&& other) noexcept : dir_(std::exchange(other.dir_, nullptr)) {}
    UniqueDir& operator=(UniqueDir&& other) noexcept {
        if (this != &other) {
            reset();
            dir_ = std::exchange(other.dir_, nullptr);
        }
        return *this;
    }

    // A stream over `fd`, which it then owns; invalid (fd closed, errno set)
    // when `fd` is invalid or fdopendir fails.
    static UniqueDir adopt(UniqueFd fd) {
        UniqueDir out;
        if (!fd) return out;
        if (DIR* d = ::fdopendir(fd.get())) {
            fd.release();  // closedir closes it now
            out.dir_ = d;
        }
        return out;
    }
    // `path` below `dir_fd` opened as a directory (O_CLOEXEC); `flags` adds
    // to O_RDONLY | O_DIRECTORY | O_CLOEXEC (O_NOFOLLOW…). Invalid with errno set on failure.
    static UniqueDir open_at(int dir_fd, const char* path, int flags = 0) {
        return adopt(UniqueFd(::openat(dir_fd, path, O_RDONLY | O_DIRECTORY | O_CLOEXEC | flags)));
    }

    [[nodiscard]] DIR* get() const { return dir_; }
    [[nodiscard]] bool valid() const { return dir_ != nullptr; }
    explicit operator bool() const { return valid(); }
    // The stream's own fd (for openat below it); -1 when invalid.
    [[nodiscard]] int fd() const { return dir_ ? ::dirfd(dir_) : -1; }
    // The next entry, nullptr at the end.
    dirent* next() { return dir_ ? ::readdir(dir_) : nullptr; }
    void reset() {
        if (dir_) {
            int saved = errno;
            ::closedir(dir_);
            errno = saved;
        }
        dir_ = nullptr;
    }

private:
    DIR* dir_ = nullptr;
};

}  // namespace procview
