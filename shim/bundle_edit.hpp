// The shim's I/O edge for create/run/restore: read the bundle's spec, decide,
// edit, and replace the file atomically. The decisions are spec_edit's.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "core/config.hpp"
#include "core/result.hpp"

namespace procview::shim {

struct BundleEditOutcome {
    bool changed = false;
    std::string summary;             // one line for the log: what was done and why
    std::vector<std::string> notes;  // views left out, each with its reason
    bool opted_in = false;           // procview is on for this container
    bool spec_has_time_namespace = false;  // the spec asks the runtime for one itself
};

// create/run of an opted-in container with config.sysinfo: add the sysinfo
// notify rule (seccomp_edit.hpp) naming the container `container_id`, if
// procviewfs's agent is serving. Not serving: no rule (the runtime would
// refuse to start the container on a dead listener), a note, or an Error
// under runtime.fail_closed.
struct SysinfoRequest {
    bool wanted = false;
    std::string container_id;
};


// `config_path` is the file the configuration came from ("" = built-in
// defaults); it is passed to the hook as --config. An Error means nothing was
// written: the spec is unreadable, not JSON, or procview cannot be set up for
// it (the hook is not executable, procviewfs is not serving in mounts mode).
Result<BundleEditOutcome> edit_bundle_spec(const std::string& spec_file, const Config& config,
                                           const std::string& config_path, const SysinfoRequest& sysinfo = {});

// Whether something accepts connections on the unix stream socket `path`
// owned by root: a non-blocking connect, closed at once (the agent takes a
// connection that sends nothing for a probe). Never blocks.
Result<void> check_listener_serving(const std::string& path);

// Writes `content` to a temporary file next to `path` with `path`'s mode and
// renames it over `path`, so a reader sees the old or the new spec, never half.
Result<void> replace_file(const std::string& path, std::string_view content);

}  // namespace procview::shim
