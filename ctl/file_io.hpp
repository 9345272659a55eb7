// procview-ctl's I/O edge: the only code that reads or changes files.
// Writes are atomic (a temporary file next to the target, fsync, rename,
// fsync of the directory) and keep the mode and owner of the file replaced.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "core/result.hpp"

namespace procview::ctl {

// The file's text, nullopt when it does not exist. A symlink or anything but
// a regular file is an error: replacing it by rename would silently cut the
// link (point --config at the link's target instead).
Result<std::optional<std::string>> read_if_exists(const std::string& path);

// Replaces (or creates, mode 0644, with missing parent directories 0755)
// `path` with `text`.
Result<void> write_atomically(const std::string& path, std::string_view text);

// Copies the file as it is now to PATH.procview-backup-STAMP (STAMP-1, -2...
// when taken), same mode and owner; returns the backup's path. A file in a
// drop-in directory (DIR.d/NAME) is backed up beside the directory, as
// DIR.d.NAME.procview-backup-STAMP: engines read every file in some of those
// directories (CRI-O), and a backup there would bring the setting back.
Result<std::string> back_up(const std::string& path, std::string_view text, const std::string& stamp);
// The backup's name before any -N suffix.
std::string backup_base(const std::string& path, const std::string& stamp);

// unlink, then fsync of the directory.
Result<void> remove_file(const std::string& path);

// "20261207T041518Z": now, UTC, for backup names.
std::string backup_stamp();

}  // namespace procview::ctl
