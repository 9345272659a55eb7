#include "shim/spec_edit.hpp"

#include <algorithm>
#include <array>

#include "core/catalog.hpp"
#include "core/json_depth.hpp"

namespace procview::shim {
namespace {

using Json = nlohmann::ordered_json;

std::string_view file_name(std::string_view path) {
    auto slash = path.rfind('/');
    return slash == std::string_view::npos ? path : path.substr(slash + 1);
}

// "/proc/meminfo/" and "/proc/meminfo" name the same place.
std::string_view without_trailing_slashes(std::string_view path) {
    while (path.size() > 1 && path.ends_with('/')) path.remove_suffix(1);
    return path;
}

std::string join_mountpoint(std::string_view mountpoint, std::string_view relative) {
    std::string out(without_trailing_slashes(mountpoint));
    if (!out.ends_with('/')) out += '/';
    out += relative;
    return out;
}

}  // namespace

Result<Spec> parse_spec(std::string_view text) {
    // Before parsing: dump_spec and the edit would recurse once per level.
    if (auto depth = check_json_depth(text); !depth) return depth.error();
    Spec spec;
    try {
        spec = Spec::parse(text);
    } catch (const Json::exception& e) {  // parse_error, and out_of_range for a number too large ("1e999")
        return invalid(std::string("not JSON: ") + e.what());
    }
    if (!spec.is_object()) return invalid("not a JSON object");
    if (spec.contains("hooks")) {
        const auto& hooks = spec["hooks"];
        if (!hooks.is_object()) return invalid("`hooks` is not an object");
        if (hooks.contains("createRuntime") && !hooks["createRuntime"].is_array())
            return invalid("`hooks.createRuntime` is not an array");
    }
    if (spec.contains("mounts") && !spec["mounts"].is_array()) return invalid("`mounts` is not an array");
    if (spec.contains("annotations") && !spec["annotations"].is_object())
        return invalid("`annotations` is not an object");
    return spec;
}

std::string dump_spec(const Spec& spec) { return spec.dump(-1, ' ', false, Json::error_handler_t::replace); }

std::optional<std::string> spec_annotation(const Spec& spec, std::string_view key) {
    auto annotations = spec.find("annotations");
    if (annotations == spec.end() || !annotations->is_object()) return std::nullopt;
    auto value = annotations->find(std::string(key));
    if (value == annotations->end() || !value->is_string()) return std::nullopt;
    return value->get<std::string>();
}

OptIn decide_opt_in(const Spec& spec, bool enable_all) {
    auto value = spec_annotation(spec, kEnabledAnnotation);
    if (value == "true") return enable_all ? OptIn::runtime : OptIn::annotation;
    if (value == "false") return enable_all ? OptIn::opted_out : OptIn::no;
    return enable_all ? OptIn::runtime : OptIn::no;
}

bool is_enabled(OptIn decision) { return decision == OptIn::annotation || decision == OptIn::runtime; }

std::string_view describe(OptIn decision) {
    switch (decision) {
        case OptIn::no: return "not opted in (no procview.io/enabled=true annotation, runtime.enable_all off)";
        case OptIn::annotation: return "opted in by the procview.io/enabled annotation";
        case OptIn::runtime: return "opted in by runtime.enable_all";
        case OptIn::opted_out: return "opted out by procview.io/enabled=false";
    }
    return "?";
}

bool mark_opted_in(Spec& spec) {
    if (spec_annotation(spec, kEnabledAnnotation) == "true") return false;
    if (!spec.contains("annotations")) spec["annotations"] = Json::object();
    spec["annotations"][std::string(kEnabledAnnotation)] = "true";
    return true;
}

Spec make_hook(const HookEntry& hook) {
    Json args = Json::array({"procview-hook"});
    if (!hook.config_path.empty()) {
        args.push_back("--config");
        args.push_back(hook.config_path);
    }
    args.push_back("createRuntime");
    Json entry = Json::object();
    entry["path"] = hook.path;
    entry["args"] = std::move(args);
    entry["timeout"] = kHookTimeoutSeconds;
    return entry;
}

bool has_procview_hook(const Spec& spec, std::string_view hook_path) {
    auto hooks = spec.find("hooks");
    if (hooks == spec.end() || !hooks->is_object()) return false;
    for (const auto& [stage, list] : hooks->items()) {
        if (!list.is_array()) continue;
        for (const auto& hook : list) {
            if (!hook.is_object() || !hook.contains("path") || !hook["path"].is_string()) continue;
            const auto& path = hook["path"].get_ref<const std::string&>();
            if (path == hook_path || file_name(path) == file_name(hook_path)) return true;
        }
    }
    return false;
}

bool add_procview_hook(Spec& spec, const HookEntry& hook) {
    if (has_procview_hook(spec, hook.path)) return false;
    if (!spec.contains("hooks")) spec["hooks"] = Json::object();
    auto& hooks = spec["hooks"];
    if (!hooks.contains("createRuntime")) hooks["createRuntime"] = Json::array();
    hooks["createRuntime"].push_back(make_hook(hook));
    return true;
}

MountSelection select_mounts(const std::optional<std::string>& files_annotation,
                             const std::vector<std::string>& config_files, std::string_view mountpoint,
                             std::string_view container_dir) {
    std::vector<std::string> names = files_annotation ? split_view_names(*files_annotation) : config_files;
    MountSelection out;
    bool want_cpu_dir = std::find(names.begin(), names.end(), "cpu") != names.end();
    std::vector<std::string_view> taken;
    for (const auto& name : names) {
        if (std::find(taken.begin(), taken.end(), name) != taken.end()) continue;
        const View* view = find_view(name);
        if (!view) {
            out.notes.push_back(name + ": not a procview file name");
            continue;
        }
        taken.push_back(view->name);
        if (!view->config_mount) {
            out.notes.push_back(name + ": runc refuses config.json mounts of /" + std::string(view->paths[0].path) +
                                " (use mode \"hook\")");
            continue;
        }
        if (name == "cpu_online" && want_cpu_dir) continue;  // the cpu directory carries `online`
        for (const auto& p : view->paths) {
            bool own = !container_dir.empty() && p.path.starts_with("proc/");
            out.mounts.push_back(
                BindMount{name, join_mountpoint(own ? container_dir : mountpoint, p.path), "/" + std::string(p.path)});
        }
    }
    return out;
}

std::string self_container_dir(std::string_view mountpoint) { return join_mountpoint(mountpoint, "containers/self"); }

bool spec_has_user_namespace(const Spec& spec) {
    auto linux = spec.find("linux");
    if (linux == spec.end() || !linux->is_object()) return false;
    auto namespaces = linux->find("namespaces");
    if (namespaces == linux->end() || !namespaces->is_array()) return false;
    return std::any_of(namespaces->begin(), namespaces->end(), [](const Json& ns) {
        return ns.is_object() && ns.contains("type") && ns["type"] == "user";
    });
}

std::vector<std::string> add_procview_mounts(Spec& spec, const std::vector<BindMount>& mounts) {
    if (mounts.empty()) return {};
    if (!spec.contains("mounts")) spec["mounts"] = Json::array();
    auto& list = spec["mounts"];
    auto covered = [&](std::string_view destination) {
        return std::any_of(list.begin(), list.end(), [&](const Json& m) {
            return m.is_object() && m.contains("destination") && m["destination"].is_string() &&
                   without_trailing_slashes(m["destination"].get_ref<const std::string&>()) == destination;
        });
    };
    std::vector<std::string> added;
    for (const auto& mount : mounts) {
        if (covered(mount.destination)) continue;
        Json entry = Json::object();
        entry["destination"] = mount.destination;
        entry["type"] = "bind";
        entry["source"] = mount.source;
        entry["options"] = Json::array({"rbind", "ro", "nosuid", "nodev", "noexec"});
        list.push_back(std::move(entry));
        added.push_back(mount.view);
    }
    return added;
}

}  // namespace procview::shim
