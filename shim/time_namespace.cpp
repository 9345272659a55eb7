#include "shim/time_namespace.hpp"

#include <algorithm>
#include <array>

#include "core/json_depth.hpp"
#include "core/text.hpp"

namespace procview::shim {
namespace {

constexpr int64_t kNsPerSecond = 1'000'000'000;

// runc 1.1 (urfave/cli commands) and crun 1.8 subcommands that name an existing container.
constexpr std::array<std::string_view, 11> kContainerSubcommands{
    "start", "state", "kill", "delete", "exec", "pause", "resume", "update", "ps", "events", "checkpoint"};

std::optional<uint64_t> json_u64(const Spec& object, std::string_view key) {
    auto it = object.find(std::string(key));
    if (it == object.end()) return std::nullopt;
    if (it->is_number_unsigned()) return it->get<uint64_t>();
    if (it->is_number_integer() && it->get<int64_t>() >= 0) return static_cast<uint64_t>(it->get<int64_t>());
    return std::nullopt;
}

std::string join(std::string_view dir, std::string_view id, std::string_view file) {
    std::string out(dir);
    if (!out.ends_with('/')) out += '/';
    out += id;
    out += '/';
    out += file;
    return out;
}

// runc and crun refuse such ids; never read or write outside the state directory for one.
bool valid_id(std::string_view id) {
    return !id.empty() && id.find('/') == std::string_view::npos && id != "." && id != "..";
}

// The runtime's state root when --root is not given.
std::optional<std::string> default_root(std::string_view name, bool as_root,
                                        const std::optional<std::string>& xdg_runtime_dir) {
    if (as_root) return "/run/" + std::string(name);
    if (xdg_runtime_dir && !xdg_runtime_dir->empty()) return *xdg_runtime_dir + "/" + std::string(name);
    return std::nullopt;
}

// A runtime whose file name holds "crun" keeps crun's state layout.
bool prefers_crun(std::string_view runtime_path) {
    auto slash = runtime_path.rfind('/');
    std::string_view base = slash == std::string_view::npos ? runtime_path : runtime_path.substr(slash + 1);
    return base.find("crun") != std::string_view::npos;
}

}  // namespace

bool spec_requests_time_namespace(const Spec& spec) {
    auto linux_section = spec.find("linux");
    if (linux_section == spec.end() || !linux_section->is_object()) return false;
    auto namespaces = linux_section->find("namespaces");
    if (namespaces == linux_section->end() || !namespaces->is_array()) return false;
    return std::any_of(namespaces->begin(), namespaces->end(), [](const Spec& ns) {
        return ns.is_object() && ns.contains("type") && ns["type"].is_string() && ns["type"] == "time";
    });
}

ClockOffset new_container_boottime_offset(int64_t own_boottime_ns, const ClockOffset& own_offset) {
    int64_t own_offset_ns = own_offset.seconds * kNsPerSecond + own_offset.nanoseconds;
    int64_t host_ns = std::max<int64_t>(0, own_boottime_ns - own_offset_ns);
    return ClockOffset{-(host_ns / kNsPerSecond) + kBoottimeMarginSeconds, 0};
}

bool subcommand_joins_container(std::string_view subcommand) {
    return std::find(kContainerSubcommands.begin(), kContainerSubcommands.end(), subcommand) !=
           kContainerSubcommands.end();
}

Result<RecordedInit> parse_runtime_state(std::string_view text) {
    if (auto depth = check_json_depth(text); !depth) return depth.error().context("state");
    Spec state;
    try {
        state = Spec::parse(text);
    } catch (const Spec::exception& e) {  // parse_error, and out_of_range for a number too large
        return invalid(std::string("state is not JSON: ") + e.what());
    }
    if (!state.is_object()) return invalid("state is not a JSON object");
    RecordedInit out;
    std::optional<uint64_t> pid;
    if (state.contains("init_process_pid")) {  // runc
        pid = json_u64(state, "init_process_pid");
        out.start_ticks = json_u64(state, "init_process_start");
    } else if (state.contains("pid")) {  // crun
        pid = json_u64(state, "pid");
        out.start_ticks = json_u64(state, "process-start-time");
    }
    if (!pid || *pid == 0 || *pid > 0x3fffffff) return invalid("state records no init pid");
    out.pid = static_cast<pid_t>(*pid);
    return out;
}

std::string format_time_namespace_record(const NamespaceId& ns) {
    return std::to_string(ns.dev) + " " + std::to_string(ns.ino) + "\n";
}

std::optional<NamespaceId> parse_time_namespace_record(std::string_view text) {
    auto dev = consume_u64(text);
    if (!dev || !text.starts_with(' ')) return std::nullopt;
    text.remove_prefix(1);
    auto ino = consume_u64(text);
    if (!ino || text != "\n" || *ino == 0) return std::nullopt;
    return NamespaceId{*dev, *ino};
}

std::optional<std::string> time_namespace_record_path(const std::optional<std::string>& root, std::string_view id,
                                                      std::string_view runtime_path, bool as_root,
                                                      const std::optional<std::string>& xdg_runtime_dir) {
    if (!valid_id(id)) return std::nullopt;
    auto dir = root ? root : default_root(prefers_crun(runtime_path) ? "crun" : "runc", as_root, xdg_runtime_dir);
    if (!dir || dir->empty()) return std::nullopt;
    std::string out = *dir;
    if (!out.ends_with('/')) out += '/';
    return out + ".procview-timens:" + std::string(id);
}

bool delete_is_forced(const std::vector<std::string>& runtime_args, std::size_t subcommand_index) {
    for (std::size_t i = subcommand_index + 1; i < runtime_args.size(); ++i) {
        std::string_view arg = runtime_args[i];
        if (arg == "--") break;
        if (arg == "-f" || arg == "--force" || arg == "-force" || arg == "--force=true" || arg == "-force=true")
            return true;
    }
    return false;
}

std::vector<std::string> state_file_candidates(const std::optional<std::string>& root, std::string_view id,
                                               std::string_view runtime_path, bool as_root,
                                               const std::optional<std::string>& xdg_runtime_dir) {
    std::vector<std::string> out;
    if (!valid_id(id)) return out;
    auto add = [&](std::string_view name, std::string_view file) {
        auto dir = root ? root : default_root(name, as_root, xdg_runtime_dir);
        if (dir) out.push_back(join(*dir, id, file));
    };
    if (prefers_crun(runtime_path)) {
        add("crun", "status");
        add("runc", "state.json");
    } else {
        add("runc", "state.json");
        add("crun", "status");
    }
    return out;
}

}  // namespace procview::shim
