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
// How a file's end shows. Multi-record seq_files (mountinfo, /proc/stat on
// big hosts, cgroup.procs) return one buffer's worth per read, so only a read
// of 0 bytes is the end. A single-record cgroup file (memory.stat, cpu.max:
// one show() per read, its buffer grown until the whole text fits) returns
// all of it at once, so a read shorter than asked for is the end: that saves
// a second syscall per file on the hot path.
enum class ReadEnd { at_zero, short_read };

// Re-reads an already open file from offset 0 into `out` (cgroupfs and procfs
// regenerate their content on a read at offset 0).
Result<void> pread_whole(int fd, std::string& out, ReadEnd end = ReadEnd::at_zero);

// readlinkat into a string.
Result<std::string> read_link_at(int dir_fd, const std::string& name);

// Writes the whole string to dir/name (used by tests and scripts' helpers).
Result<void> write_file_at(int dir_fd, const std::string& name, std::string_view content);

}  // namespace procview
