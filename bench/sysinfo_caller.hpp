// sysinfo(2) as a benchmark "read": the reader calls it instead of reading a
// file, natively or through procviewfs's sysinfo agent. For the agent, the
// reader installs the seccomp filter procview-runtime asks runc for (sysinfo
// → SECCOMP_RET_USER_NOTIF, everything else allowed) and hands its listener
// fd to the agent's socket the way runc does ({ociVersion, fds, pid,
// metadata, state} with the fd in SCM_RIGHTS).
#pragma once

#include <cstdint>
#include <string>

#include "core/result.hpp"

namespace procview::bench {

// Installs the notify filter on the calling process and sends its listener
// fd to `listener_path`; `name` becomes the container's name in the agent's log.
Result<void> hand_sysinfo_to_agent(const std::string& listener_path, const std::string& name);

// One sysinfo(2) call: the size of struct sysinfo, or -errno.
std::int64_t call_sysinfo_once();

}  // namespace procview::bench
