// The two inputs of an OCI hook, parsed: the container state on stdin and the
// bundle's config.json. Pure: text in, struct out; no syscalls.
#pragma once

#include <sys/types.h>

#include <map>
#include <optional>
#include <string>
#include <string_view>

#include "core/result.hpp"

namespace procview::hook {

using Annotations = std::map<std::string, std::string>;

// The state a runtime writes on a hook's stdin (runtime-spec runtime.md).
// runc sends status "creating" at createRuntime/prestart; crun sends
// "created" and an extra "root" (config.json's root.path as written).
struct OciState {
    std::string oci_version;
    std::string id;
    std::string status;
    pid_t pid = 0;
    std::string bundle;               // absolute path of the bundle directory
    std::optional<std::string> root;  // crun only
    Annotations annotations;
};

// Errors name the problem in one line: empty input, not JSON, not an object,
// a missing or mistyped field (`id`, `pid`, `bundle`), a pid that is not a
// positive integer, a relative bundle, control characters in the id (it is
// put on every log line), a status a pre-start hook never sees.
Result<OciState> parse_oci_state(std::string_view json_text);

// What the hook needs from <bundle>/config.json.
struct BundleConfig {
    std::string rootfs;       // root.path resolved against the bundle, normalised, absolute
    Annotations annotations;  // config.json's annotations (the state's usually repeat them)
};

// `bundle` is the state's absolute bundle path. A relative root.path is
// resolved against it and must stay inside it ("../x" is refused: a runtime
// would follow it out of the bundle, and we do not guess where). An absolute
// root.path is taken as written (podman --rootfs uses one), normalised.
Result<BundleConfig> parse_bundle_config(std::string_view json_text, std::string_view bundle);

// How the hook prints an Error on its one line: parse and validation
// failures (EINVAL, core's invalid()) by their message alone, system errors
// with strerror appended.
inline std::string error_text(const Error& e) { return e.errnum == EINVAL ? e.message : e.describe(); }

// "/a//b/./c/../d/" → "/a/b/d". `path` must be absolute; ".." at the root stays at the root.
std::string normalize_absolute_path(std::string_view path);

}  // namespace procview::hook
