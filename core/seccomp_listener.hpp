// The message an OCI runtime sends to linux.seccomp.listenerPath (runtime-spec
// config-linux.md "seccomp", ContainerProcessState): one JSON object, with the
// container's seccomp notify fd in SCM_RIGHTS, then EOF.
//
//   {"ociVersion":"1.0.2","fds":["seccompFd"],"pid":4242,
//    "metadata":"procview:ctr1","state":{"ociVersion":"1.0.2","id":"ctr1","status":"creating","pid":4242,
//    "bundle":"/run/…/ctr1","annotations":{…}}}
//
// Pure: text in, struct out; the agent (fusefs/sysinfo_agent.hpp) does the I/O.
#pragma once

#include <sys/types.h>

#include <cstddef>
#include <string>
#include <string_view>

#include "core/result.hpp"

namespace procview {

// Far above what runc or crun send (the state with its annotations); a peer
// sending more is not a runtime.
inline constexpr std::size_t kMaxListenerMessage = 256 * 1024;

struct ListenerMessage {
    std::string oci_version;
    pid_t pid = 0;           // the container's init, in the runtime's pid namespace
    std::string metadata;    // linux.seccomp.listenerMetadata, as written
    std::string id;          // state.id
    // A name for logs: the metadata when set, else the state's id.
    [[nodiscard]] std::string name() const { return metadata.empty() ? id : metadata; }
};

// Validates and parses the JSON: an object with a string ociVersion, fds
// exactly ["seccompFd"] (one fd, and it is the notify fd), a positive pid,
// an optional string metadata and a state object with a string id. Refuses
// more than kMaxListenerMessage bytes and nesting deeper than kMaxJsonDepth.
Result<ListenerMessage> parse_listener_message(std::string_view json);

}  // namespace procview
