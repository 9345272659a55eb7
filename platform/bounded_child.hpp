// Work that may block forever, run in a forked child the caller never waits
// on past a deadline.
//
// A process whose FUSE request the server has read but not answered sleeps
// uninterruptibly until the answer comes or the connection is aborted:
// SIGKILL is queued, not acted on. So whatever may touch a FUSE mount
// (statfs, open, open_tree, fstat of files below it) runs in a child, and the
// caller waits for it only until the deadline: then it SIGKILLs the child and
// abandons it (no waitpid). The child dies when its request ends; once the
// caller exits it is reparented and reaped by init or the subreaper. The
// child's stdin, stdout and stderr are /dev/null, so an abandoned child never
// holds a pipe its caller's caller reads to EOF (runc reads a hook's output
// until every writer is gone).
#pragma once

#include <chrono>
#include <functional>
#include <string>

#include "core/result.hpp"

namespace procview {

using Deadline = std::chrono::steady_clock::time_point;

struct ChildOutcome {
    std::string report;      // what the child wrote to its report fd before it ended or the deadline passed
    bool timed_out = false;  // the deadline passed first: the child was SIGKILLed and abandoned
    int status = 0;          // its wait status, when !timed_out
};

// Forks, runs `body(report_fd)` in the child and _exit()s with its return
// value. `body` runs in a child of a process that may have threads: in such
// callers it must use only async-signal-safe calls. The child is SIGKILLed
// if the caller dies first (PR_SET_PDEATHSIG). An Error only when the child
// cannot be started (pipe, fork).
Result<ChildOutcome> run_child_until(Deadline deadline, const std::function<int(int report_fd)>& body);

// Milliseconds from now to `deadline`, never negative: for messages and polls.
long long ms_left(Deadline deadline);

}  // namespace procview
