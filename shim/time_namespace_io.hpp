// Time namespaces for opted-in containers: the system calls (see
// time_namespace.hpp for why and when). The shim is single-threaded, as
// setns(CLONE_NEWTIME) requires; both functions must run right before
// execve of the real runtime.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "core/result.hpp"

namespace procview::shim {

// unshare(CLONE_NEWTIME) and a boottime offset that starts the namespace's
// CLOCK_BOOTTIME at about kBoottimeMarginSeconds, then enters it (setns), so
// the runtime exec'd next and all its children run in it.
// On any failure the caller's namespace for children is put back, so the
// runtime runs exactly as without procview. Returns a line for the log.
Result<std::string> enter_new_time_namespace();

// Joins the time namespace of the container's init, found through the first
// state file of `state_files` that exists. nullopt: nothing to join (no
// state, the init is gone, or it shares the caller's namespace). Joined only
// when the runtime's recorded start time of the init reads the same from
// inside (else the caller's namespace is put back and that is the error).
Result<std::optional<std::string>> join_container_time_namespace(const std::vector<std::string>& state_files);

}  // namespace procview::shim
