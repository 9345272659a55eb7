// sysinfo(2) for a container: the seccomp part of procview-runtime's edit.
//
// The container's filter gets {"names": ["sysinfo"], "action":
// "SCMP_ACT_NOTIFY"} and linux.seccomp.listenerPath/listenerMetadata, so the
// runtime (runc ≥ 1.1, crun ≥ 0.19) hands the filter's notify fd to
// procviewfs's agent, which answers sysinfo from the container's cgroup
// (fusefs/sysinfo_agent.hpp). Pure: spec in, spec out.
//
// Merging into an existing profile (Docker's, containerd's, podman's
// defaults): every other rule, the default action, architectures and flags
// stay as they were; "sysinfo" is taken out of whichever rules name it (a
// rule left with no name goes) and the notify rule is appended, so the
// container's sysinfo reaches the agent whatever the profile said about it.
// No profile: a minimal one allowing everything else, for the native
// architectures. A profile that already has a different listenerPath is
// left alone (another agent owns the container's notifications: one
// listener per filter).
#pragma once

#include <string>
#include <vector>

#include "core/result.hpp"
#include "shim/spec_edit.hpp"

namespace procview::shim {

struct SysinfoNotify {
    std::string listener_path;  // config sysinfo_listener_path
    std::string metadata;       // names the container in the agent's logs
};

enum class SysinfoEdit {
    added,           // the spec now notifies sysinfo to listener_path
    already,         // it already did (an edited spec given again)
    other_listener,  // a different listenerPath is set: left unchanged
};

// The spec must have passed parse_spec. Errors (nothing changed): `linux`
// or `linux.seccomp` or its `syscalls` of the wrong type, a rule that is
// not an object, or whose `names` is not an array of strings.
Result<SysinfoEdit> add_sysinfo_notify(Spec& spec, const SysinfoNotify& notify);

// The architectures of a profile procview writes from nothing: the native
// one and the ones its kernel runs as compat (x86-64: X86_64, X86, X32).
std::vector<std::string> native_seccomp_architectures();

}  // namespace procview::shim
