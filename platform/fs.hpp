// Thin syscall wrappers: the only place files are opened and read.
// Every function returns an Error with errno and the path on failure.
#pragma once

#include <sys/types.h>

#include <cstddef>
#include <string>
#include <string_view>

#include "core/result.hpp"
#include "platform/unique_fd.hpp"

namespace procview {

// openat(dir, name, flags | O_CLOEXEC). dir may be AT_FDCWD.
Result<UniqueFd> open_at(int dir_fd, const std::string& name, int flags);
// An O_PATH|O_DIRECTORY fd for holding a directory (cgroup dirs, /proc).
Result<UniqueFd> open_directory(int dir_fd, const std::string& name);

// The whole file, read with one pread per 64 KiB from offset 0. Works for
// procfs, sysfs and cgroupfs files whose st_size is 0 or 4096.
Result<std::string> read_file_at(int dir_fd, const std::string& name);
Result<std::string> read_file(const std::string& path);
// Re-reads an already open file from offset 0 into `out` (cgroupfs and procfs
// regenerate their content on a read at offset 0).
Result<void> pread_whole(int fd, std::string& out);

// readlinkat into a string.
Result<std::string> read_link_at(int dir_fd, const std::string& name);

// Writes the whole string to dir/name (used by tests and scripts' helpers).
Result<void> write_file_at(int dir_fd, const std::string& name, std::string_view content);

}  // namespace procview
