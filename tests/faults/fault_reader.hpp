// Readers for the fault tests, beyond the integration harness's Container:
// one that keeps files open between requests (so a cgroup can vanish under
// an open file), spinning readers to kill mid-read, and the daemon's
// resource counts.
#pragma once

#include <sys/types.h>

#include <functional>
#include <string>

#include "harness.hpp"

namespace pvfault {

// A read's outcome: the content, or the errno (ETIMEDOUT when no answer came
// within the reader's timeout: a hang).
struct ReadResult {
    int err = 0;
    std::string content;
};

// pid 1 of a new pid namespace in `cgroup`, holding fds open between requests.
class HeldReader {
public:
    explicit HeldReader(const pvtest::TestCgroup& cgroup);
    ~HeldReader();
    HeldReader(const HeldReader&) = delete;
    HeldReader& operator=(const HeldReader&) = delete;

    // Opens `path` read-only; a slot number, or -errno.
    int open(const std::string& path);
    // lseek(0) then read to EOF on the slot's fd.
    ReadResult reread(int slot);
    void close(int slot);
    // Opens, reads and closes.
    ReadResult read(const std::string& path);
    // Moves the namespace's processes (the helper and pid 1) to `other`.
    void move_to(const pvtest::TestCgroup& other) const;
    [[nodiscard]] pid_t init_pid() const { return init_pid_; }

private:
    std::string request(const std::string& command, int timeout_ms);
    int sock_ = -1;
    pid_t helper_pid_ = -1;
    pid_t init_pid_ = -1;
};

// pid 1 of a new pid namespace in `cgroup` that reads `path` in `chunk`-byte
// reads, over and over, until killed. Kill it with kill_spinner.
struct Spinner {
    pid_t helper = -1;  // our child, parent of the namespace's pid 1
    pid_t init = -1;
};
Spinner spawn_spinner(const pvtest::TestCgroup& cgroup, const std::string& path, std::size_t chunk);
// pid 1 of a new pid namespace in `cgroup` running `body` (which must not return).
Spinner fork_in_namespace(const pvtest::TestCgroup& cgroup, const std::function<void()>& body);
// SIGKILLs pid 1 and reaps the helper; returns how long the helper took to go, in ms.
long kill_spinner(const Spinner& s);
// The same, waiting at most `bound_ms`: -1 when it had not died by then (it
// is still to be reaped: call kill_spinner again once it can die).
long kill_spinner(const Spinner& s, long bound_ms);

// The daemon's open fds, threads and resident memory (kB).
struct Usage {
    int fds = 0;
    int threads = 0;
    long rss_kb = 0;
};
Usage usage_of(pid_t pid);

// Occurrences of `needle` in `text`.
int count(const std::string& text, const std::string& needle);

}  // namespace pvfault
