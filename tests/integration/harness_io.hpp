// Byte-level helpers shared by the harness (test side) and the container
// helper (the process it re-executes): the line protocol between them and
// writes to cgroup files.
#pragma once

#include <cstddef>
#include <string>

namespace pvtest::io {

// Writes `value` to a file that exists (cgroup files); throws with errno text when `must`.
void write_host(const std::string& path, const std::string& value, bool must = true);
bool write_all(int fd, const std::string& data);
bool read_exact(int fd, std::string& out, std::size_t n);
// Waits up to 30 s for data: a test must fail, not hang, when a read blocks.
bool wait_readable(int fd);
// One line without its newline; "ERR 110" (ETIMEDOUT) when nothing came within 30 s.
std::string read_line(int fd);

}  // namespace pvtest::io
