// Time namespaces for opted-in containers: the system calls (see
// time_namespace.hpp for why and when). The shim is single-threaded, as
// setns(CLONE_NEWTIME) requires; the namespace changes must run right before
// execve of the real runtime.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "core/result.hpp"

namespace procview::shim {

// unshare(CLONE_NEWTIME) and a boottime offset that starts the namespace's
// CLOCK_BOOTTIME at about kBoottimeMarginSeconds, then enters it (setns), so
// the runtime exec'd next and all its children run in it; then records the
// namespace at `record_path` (time_namespace_record_path), mode 0600, for
// later calls to recognise it.
// On any failure the caller's namespace for children is put back, so the
// runtime runs exactly as without procview. Returns a line for the log.
Result<std::string> enter_new_time_namespace(const std::string& record_path);

struct TimeNamespaceJoin {
    enum class Outcome {
        none,      // nothing to join: no state, the init is gone, or it shares the caller's namespace
        joined,    // the caller now runs in the container's time namespace
        not_ours,    // owned by another user namespace, or not the recorded one: left alone
        unrecorded,  // no record: made by someone else (a runtime with timeOffsets), left alone
    };
    Outcome outcome = Outcome::none;
    std::string detail;  // for the log; empty for none
};

// Joins the time namespace of the container's init, found through the first
// state file of `state_files` that exists, only when it is the namespace
// procview-runtime made for this container: owned by the caller's own user
// namespace (NS_GET_USERNS) and the one recorded at `record_path` (the record
// must belong to the caller's euid and be writable by nobody else). Then,
// when the runtime recorded the init's start time, it must read the same from
// inside (else the caller's namespace is put back and that is the error).
Result<TimeNamespaceJoin> join_container_time_namespace(const std::vector<std::string>& state_files,
                                                        const std::string& record_path);

// Removes the record (delete of the container); a missing record is fine.
Result<void> remove_time_namespace_record(const std::string& record_path);

}  // namespace procview::shim
