#include "hook/oci_state.hpp"

#include <climits>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/json_depth.hpp"

namespace procview::hook {

namespace {

using nlohmann::json;

// nlohmann's messages start with "[json.exception.parse_error.101] "; the
// bracket is noise in a one-line error.
std::string json_error_text(const json::exception& e) {
    std::string_view what = e.what();
    if (auto close = what.find("] "); !what.empty() && what.front() == '[' && close != std::string_view::npos)
        what.remove_prefix(close + 2);
    return std::string(what);
}

Result<json> parse_object(std::string_view text, std::string_view what) {
    bool blank = text.find_first_not_of(" \t\r\n") == std::string_view::npos;
    if (blank) return invalid(std::string(what) + " is empty");
    if (auto depth = check_json_depth(text); !depth) return invalid(std::string(what) + ": " + depth.error().message);
    json doc;
    try {
        doc = json::parse(text.begin(), text.end());
    } catch (const json::exception& e) {
        return invalid(std::string(what) + " is not JSON: " + json_error_text(e));
    }
    if (!doc.is_object()) return invalid(std::string(what) + " is not a JSON object");
    return doc;
}

Result<std::string> required_string(const json& doc, const char* key, std::string_view what) {
    auto it = doc.find(key);
    if (it == doc.end()) return invalid(std::string(what) + ": missing `" + key + "`");
    if (!it->is_string()) return invalid(std::string(what) + ": `" + key + "` is not a string");
    return it->get<std::string>();
}

Result<Annotations> parse_annotations(const json& doc, std::string_view what) {
    Annotations out;
    auto it = doc.find("annotations");
    if (it == doc.end() || it->is_null()) return out;
    if (!it->is_object()) return invalid(std::string(what) + ": `annotations` is not an object");
    for (const auto& [key, value] : it->items()) {
        if (!value.is_string())
            return invalid(std::string(what) + ": annotation `" + key + "` is not a string");
        out.emplace(key, value.get<std::string>());
    }
    return out;
}

bool has_control_chars(std::string_view s) {
    for (unsigned char c : s)
        if (c < 0x20 || c == 0x7f) return true;
    return false;
}

}  // namespace

Result<OciState> parse_oci_state(std::string_view json_text) {
    constexpr std::string_view kWhat = "OCI state on stdin";
    auto doc = parse_object(json_text, kWhat);
    if (!doc) return doc.error();

    OciState state;
    auto id = required_string(*doc, "id", kWhat);
    if (!id) return id.error();
    if (id->empty()) return invalid(std::string(kWhat) + ": `id` is empty");
    // The id prefixes every log line: a newline in it would forge log lines.
    if (has_control_chars(*id)) return invalid(std::string(kWhat) + ": `id` holds control characters");
    state.id = std::move(*id);

    auto pid_it = doc->find("pid");
    if (pid_it == doc->end()) return invalid(std::string(kWhat) + ": missing `pid`");
    if (!pid_it->is_number_integer()) return invalid(std::string(kWhat) + ": `pid` is not an integer");
    auto pid = pid_it->get<long long>();
    if (pid <= 0 || pid > INT_MAX)
        return invalid(std::string(kWhat) + ": `pid` " + std::to_string(pid) + " is not a process id");
    state.pid = static_cast<pid_t>(pid);

    auto bundle = required_string(*doc, "bundle", kWhat);
    if (!bundle) return bundle.error();
    if (bundle->empty() || bundle->front() != '/')
        return invalid(std::string(kWhat) + ": `bundle` `" + *bundle + "` is not an absolute path");
    state.bundle = std::move(*bundle);

    auto status = required_string(*doc, "status", kWhat);
    if (!status) return status.error();
    // runc says "creating" at prestart/createRuntime, crun "created"; any
    // other status means the hook was registered at a stage where mounting
    // into the container is no longer safe or possible.
    if (*status != "creating" && *status != "created")
        return invalid(std::string(kWhat) + ": status `" + *status +
                       "`: procview-hook runs at createRuntime or prestart, before the container starts");
    state.status = std::move(*status);

    if (auto v = doc->find("ociVersion"); v != doc->end() && v->is_string()) state.oci_version = v->get<std::string>();
    if (auto r = doc->find("root"); r != doc->end() && r->is_string()) state.root = r->get<std::string>();

    auto annotations = parse_annotations(*doc, kWhat);
    if (!annotations) return annotations.error();
    state.annotations = std::move(*annotations);
    return state;
}

std::string normalize_absolute_path(std::string_view path) {
    std::vector<std::string_view> parts;
    while (!path.empty()) {
        auto slash = path.find('/');
        std::string_view part = path.substr(0, slash);
        if (part == "..") {
            if (!parts.empty()) parts.pop_back();
        } else if (!part.empty() && part != ".") {
            parts.push_back(part);
        }
        if (slash == std::string_view::npos) break;
        path.remove_prefix(slash + 1);
    }
    std::string out;
    for (auto part : parts) {
        out += '/';
        out += part;
    }
    return out.empty() ? "/" : out;
}

namespace {

// True when the relative path climbs above its starting directory at any point.
bool climbs_out(std::string_view relative) {
    int depth = 0;
    while (!relative.empty()) {
        auto slash = relative.find('/');
        std::string_view part = relative.substr(0, slash);
        if (part == "..") {
            if (--depth < 0) return true;
        } else if (!part.empty() && part != ".") {
            ++depth;
        }
        if (slash == std::string_view::npos) break;
        relative.remove_prefix(slash + 1);
    }
    return false;
}

}  // namespace

Result<BundleConfig> parse_bundle_config(std::string_view json_text, std::string_view bundle) {
    constexpr std::string_view kWhat = "config.json";
    auto doc = parse_object(json_text, kWhat);
    if (!doc) return doc.error();

    auto root = doc->find("root");
    if (root == doc->end()) return invalid(std::string(kWhat) + ": missing `root`");
    if (!root->is_object()) return invalid(std::string(kWhat) + ": `root` is not an object");
    auto path = required_string(*root, "path", "config.json root");
    if (!path) return path.error();
    if (path->empty()) return invalid(std::string(kWhat) + ": `root.path` is empty");

    BundleConfig config;
    if (path->front() == '/') {
        config.rootfs = normalize_absolute_path(*path);
    } else {
        if (climbs_out(*path))
            return invalid(std::string(kWhat) + ": `root.path` `" + *path + "` escapes the bundle `" +
                           std::string(bundle) + "`");
        config.rootfs = normalize_absolute_path(std::string(bundle) + "/" + *path);
    }
    if (config.rootfs == "/") return invalid(std::string(kWhat) + ": `root.path` is the host's root directory");

    auto annotations = parse_annotations(*doc, kWhat);
    if (!annotations) return annotations.error();
    config.annotations = std::move(*annotations);
    return config;
}

}  // namespace procview::hook
