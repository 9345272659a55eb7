// Fuzz targets for JSON that comes from outside the daemon: the
// configuration file, and the OCI state and bundle config.json a runtime
// hands to procview-hook (written by whoever builds the container spec).
#include <nlohmann/json.hpp>

#include "core/config.hpp"
#include "fuzz_input.hpp"
#include "fuzz_targets.hpp"
#include "hook/mount_plan.hpp"
#include "hook/oci_state.hpp"

namespace procview::fuzz {

namespace {

bool relative_and_inside(const std::string& path) {
    if (path.empty() || path.front() == '/') return false;
    return path != ".." && path.rfind("../", 0) != 0 && path.find("/../") == std::string::npos;
}

}  // namespace

int fuzz_config(const uint8_t* data, std::size_t size) {
    auto text = as_text(data, size);
    auto config = parse_config(text);
    if (!config) return 0;
    FUZZ_CHECK(config->threads <= 1024);
    FUZZ_CHECK(config->hook.health_timeout_ms <= 60'000);
    for (const auto& name : config->hook.files) FUZZ_CHECK(is_known_view_name(name));
    FUZZ_CHECK(config->runtime.mode == "hook" || config->runtime.mode == "mounts");
    return 0;
}

// The state on stdin, then what the hook derives from it: opt-in and the
// mount plan from the procview.io/files annotation.
int fuzz_oci_state(const uint8_t* data, std::size_t size) {
    auto text = as_text(data, size);
    auto state = hook::parse_oci_state(text);
    if (!state) return 0;
    FUZZ_CHECK(state->pid > 0);
    FUZZ_CHECK(!state->id.empty() && state->id.find('\n') == std::string::npos);
    FUZZ_CHECK(!state->bundle.empty() && state->bundle.front() == '/');
    (void)hook::opted_in(state->annotations, {});
    auto files = hook::annotation(state->annotations, {}, procview::kFilesAnnotation);
    for (bool v2 : {false, true}) {
        auto plan = hook::plan_mounts(files, HookConfig{}.files, hook::HostFacts{v2});
        for (const auto& mount : plan.mounts) {
            FUZZ_CHECK(hook::is_view_name(mount.view));
            FUZZ_CHECK(relative_and_inside(mount.source));
            FUZZ_CHECK(relative_and_inside(mount.target));
        }
    }
    return 0;
}

// <bundle>/config.json: first part the bundle directory (made absolute),
// second the JSON. The rootfs must come out absolute and normalised, and a
// relative root.path must stay inside the bundle.
int fuzz_oci_bundle(const uint8_t* data, std::size_t size) {
    auto parts = split_parts(as_text(data, size), 2);
    std::string bundle = "/" + std::string(parts[0].value_or(""));
    std::string_view json_text = parts[1].value_or("");
    std::string normalized_bundle = hook::normalize_absolute_path(bundle);
    FUZZ_CHECK(hook::normalize_absolute_path(normalized_bundle) == normalized_bundle);
    auto config = hook::parse_bundle_config(json_text, normalized_bundle);
    if (!config) return 0;
    const std::string& rootfs = config->rootfs;
    FUZZ_CHECK(!rootfs.empty() && rootfs.front() == '/');
    FUZZ_CHECK(hook::normalize_absolute_path(rootfs) == rootfs);
    auto doc = nlohmann::json::parse(json_text.begin(), json_text.end(), nullptr, false);
    if (doc.is_object() && doc.contains("root") && doc["root"].is_object() && doc["root"].contains("path") &&
        doc["root"]["path"].is_string()) {
        std::string path = doc["root"]["path"].get<std::string>();
        if (!path.empty() && path.front() != '/') {
            std::string prefix = normalized_bundle == "/" ? "/" : normalized_bundle + "/";
            FUZZ_CHECK(rootfs == normalized_bundle || rootfs.rfind(prefix, 0) == 0);
        }
    }
    return 0;
}

}  // namespace procview::fuzz
