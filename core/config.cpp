// parse_config: JSON text onto the defaults, every key checked.
#include "core/config.hpp"

#include <array>
#include <limits>
#include <nlohmann/json.hpp>

#include "core/json_depth.hpp"

namespace procview {

namespace {

using Json = nlohmann::json;

constexpr std::array<std::string_view, 6> kLogLevels{"trace", "debug", "info", "warn", "error", "off"};
constexpr unsigned kMaxThreads = 1024;
constexpr unsigned kMaxCacheWindowMs = 60'000;

Error key_error(std::string_view key, std::string_view what) {
    return invalid("config: `" + std::string(key) + "` " + std::string(what));
}

Result<void> read_string(const Json& value, std::string_view key, std::string& out) {
    if (!value.is_string()) return key_error(key, "must be a string");
    out = value.get<std::string>();
    return {};
}

Result<void> read_bool(const Json& value, std::string_view key, bool& out) {
    if (!value.is_boolean()) return key_error(key, "must be true or false");
    out = value.get<bool>();
    return {};
}

Result<void> read_unsigned(const Json& value, std::string_view key, unsigned& out, unsigned max) {
    // is_number_integer covers both signed and unsigned JSON integers; floats are rejected.
    if (!value.is_number_integer()) return key_error(key, "must be a non-negative integer");
    if (value.is_number_unsigned() ? value.get<uint64_t>() > max : value.get<int64_t>() < 0 || value.get<int64_t>() > max)
        return key_error(key, "must be an integer from 0 to " + std::to_string(max));
    out = static_cast<unsigned>(value.get<uint64_t>());
    return {};
}

template <std::size_t N>
bool one_of(std::string_view value, const std::array<std::string_view, N>& allowed) {
    for (auto a : allowed)
        if (a == value) return true;
    return false;
}

Result<void> read_files(const Json& value, std::string_view key, std::vector<std::string>& out) {
    if (!value.is_array()) return key_error(key, "must be an array of view names");
    std::vector<std::string> files;
    for (const auto& item : value) {
        if (!item.is_string()) return key_error(key, "must hold only strings");
        const auto& name = item.get_ref<const std::string&>();
        if (!is_known_view_name(name))
            return key_error(key, "holds unknown view `" + name + "` (known: " + view_names() + ")");
        files.push_back(name);
    }
    out = std::move(files);
    return {};
}

Result<void> parse_hook(const Json& object, HookConfig& hook) {
    if (!object.is_object()) return key_error("hook", "must be an object");
    for (const auto& [key, value] : object.items()) {
        Result<void> r;
        if (key == "files") r = read_files(value, "hook.files", hook.files);
        else if (key == "fail_closed") r = read_bool(value, "hook.fail_closed", hook.fail_closed);
        else if (key == "per_container") r = read_bool(value, "hook.per_container", hook.per_container);
        else if (key == "containers_mountpoint") {
            r = read_string(value, "hook.containers_mountpoint", hook.containers_mountpoint);
            if (r && !hook.containers_mountpoint.empty() && hook.containers_mountpoint[0] != '/')
                r = key_error("hook.containers_mountpoint", "must be an absolute path or \"\"");
        }
        else if (key == "health_timeout_ms")
            r = read_unsigned(value, "hook.health_timeout_ms", hook.health_timeout_ms, 60'000);
        else if (key == "timeout_ms") {
            r = read_unsigned(value, "hook.timeout_ms", hook.timeout_ms, 60'000);
            if (r && hook.timeout_ms == 0) r = key_error("hook.timeout_ms", "must be an integer from 1 to 60000");
        } else if (key == "log_file") r = read_string(value, "hook.log_file", hook.log_file);
        else return invalid("config: unknown key `hook." + key + "`");
        if (!r) return r;
    }
    return {};
}

Result<void> parse_runtime(const Json& object, RuntimeConfig& runtime) {
    if (!object.is_object()) return key_error("runtime", "must be an object");
    for (const auto& [key, value] : object.items()) {
        Result<void> r;
        if (key == "runtime") r = read_string(value, "runtime.runtime", runtime.runtime);
        else if (key == "enable_all") r = read_bool(value, "runtime.enable_all", runtime.enable_all);
        else if (key == "mode") {
            r = read_string(value, "runtime.mode", runtime.mode);
            if (r && runtime.mode != "hook" && runtime.mode != "mounts")
                r = key_error("runtime.mode", "must be \"hook\" or \"mounts\", not \"" + runtime.mode + "\"");
        } else if (key == "hook_path") r = read_string(value, "runtime.hook_path", runtime.hook_path);
        else if (key == "fail_closed") r = read_bool(value, "runtime.fail_closed", runtime.fail_closed);
        else if (key == "time_namespace") r = read_bool(value, "runtime.time_namespace", runtime.time_namespace);
        else return invalid("config: unknown key `runtime." + key + "`");
        if (!r) return r;
    }
    return {};
}

// A cap: at least 1, at most 2^24 (more would exhaust the daemon's fds or memory long before).
Result<void> read_positive(const Json& value, std::string_view key, unsigned& out) {
    if (auto r = read_unsigned(value, key, out, 1U << 24); !r) return r;
    if (out == 0) return key_error(key, "must be at least 1");
    return {};
}

Result<void> parse_top(const Json& object, Config& config) {
    for (const auto& [key, value] : object.items()) {
        Result<void> r;
        if (key == "mountpoint") r = read_string(value, key, config.mountpoint);
        else if (key == "cgroup_root") r = read_string(value, key, config.cgroup_root);
        else if (key == "proc_root") r = read_string(value, key, config.proc_root);
        else if (key == "sys_cpu_root") r = read_string(value, key, config.sys_cpu_root);
        else if (key == "swap") r = read_bool(value, key, config.swap);
        else if (key == "loadavg") r = read_bool(value, key, config.loadavg);
        else if (key == "cpu_quota") r = read_bool(value, key, config.cpu_quota);
        else if (key == "threads") r = read_unsigned(value, key, config.threads, kMaxThreads);
        else if (key == "log_level") {
            r = read_string(value, key, config.log_level);
            if (r && !one_of(config.log_level, kLogLevels))
                r = key_error(key, "must be one of trace debug info warn error off, not \"" + config.log_level + "\"");
        } else if (key == "log_file") r = read_string(value, key, config.log_file);
        else if (key == "seccomp") r = read_bool(value, key, config.seccomp);
        else if (key == "max_open_per_container") r = read_positive(value, key, config.max_open_per_container);
        else if (key == "max_open") r = read_positive(value, key, config.max_open);
        else if (key == "max_containers") r = read_positive(value, key, config.max_containers);
        else if (key == "cache_window_ms") r = read_unsigned(value, key, config.cache_window_ms, kMaxCacheWindowMs);
        else if (key == "sysinfo") r = read_bool(value, key, config.sysinfo);
        else if (key == "sysinfo_listener_path") {
            r = read_string(value, key, config.sysinfo_listener_path);
            // A sockaddr_un path: absolute, and short enough for sun_path.
            if (r && (config.sysinfo_listener_path.empty() || config.sysinfo_listener_path[0] != '/' ||
                      config.sysinfo_listener_path.size() > 100))
                r = key_error(key, "must be an absolute path of at most 100 characters");
        } else if (key == "hook") r = parse_hook(value, config.hook);
        else if (key == "runtime") r = parse_runtime(value, config.runtime);
        else return invalid("config: unknown key `" + key + "`");
        if (!r) return r;
    }
    return {};
}

}  // namespace

bool is_known_view_name(std::string_view name) { return find_view(name) != nullptr; }

Result<LoadedConfig> load_config(const std::optional<std::string>& named, const ReadConfigFile& read) {
    const std::string path = named ? *named : std::string(kDefaultConfigPath);
    auto text = read(path);
    if (!text) {
        if (!named && text.error().errnum == ENOENT) return LoadedConfig{Config{}, ""};
        return text.error().context("config");
    }
    auto config = parse_config(*text);
    if (!config) return config.error().context("config `" + path + "`");
    return LoadedConfig{std::move(*config), path};
}

Result<Config> parse_config(std::string_view json_text) {
    if (auto depth = check_json_depth(json_text, /*allow_comments=*/true); !depth)
        return invalid("config: " + depth.error().message);
    // Comments allowed: the documented example in config.hpp carries them.
    Json root = Json::parse(json_text.begin(), json_text.end(), nullptr, /*allow_exceptions=*/false,
                            /*ignore_comments=*/true);
    if (root.is_discarded()) {
        return invalid("config: malformed JSON: " + json_syntax_error(json_text, /*allow_comments=*/true));
    }
    if (!root.is_object()) return invalid("config: the top level must be a JSON object");
    Config config;
    if (auto r = parse_top(root, config); !r) return r.error();
    const auto hook = root.find("hook");
    if (hook == root.end() || !hook->contains("containers_mountpoint"))
        config.hook.containers_mountpoint = containers_mountpoint_for(config.mountpoint);
    return config;
}

}  // namespace procview
