#include "shim/runc_args.hpp"

#include <algorithm>
#include <array>

namespace procview::shim {
namespace {

constexpr std::string_view kOwnConfigFlag = "--procview-config";
constexpr std::string_view kOwnEnableFlag = "--procview-enable";

// Global flags that take a value (runc main.go, crun.c). Every other global
// flag is a bool; an unknown flag is taken as a bool too, so at worst its
// value is mistaken for the subcommand and the shim passes the call through.
constexpr std::array<std::string_view, 7> kGlobalValueFlags{
    "root", "log", "log-format", "criu", "rootless", "cgroup-manager", "log-level"};

struct SubcommandFlags {
    std::string_view subcommand;
    std::vector<std::string_view> value_flags;
};

// Subcommand flags that take a value, from runc 1.1 and crun 1.8 (flags only
// one of them has are harmless to the other). Only needed to tell a flag's
// value from the container id.
const std::vector<SubcommandFlags>& subcommand_value_flags() {
    static const std::vector<SubcommandFlags> table{
        {"create", {"bundle", "b", "console-socket", "pid-file", "preserve-fds", "config", "f"}},
        {"run", {"bundle", "b", "console-socket", "pid-file", "preserve-fds", "config", "f"}},
        {"restore",
         {"bundle", "b", "console-socket", "pid-file", "image-path", "work-path", "manage-cgroups-mode", "empty-ns",
          "lsm-profile", "lsm-mount-context", "parent-path", "page-server", "status-fd"}},
        {"checkpoint",
         {"image-path", "work-path", "parent-path", "page-server", "manage-cgroups-mode", "empty-ns", "status-fd"}},
        {"exec",
         {"process", "p", "console-socket", "cwd", "env", "e", "user", "u", "additional-gids", "g", "pid-file",
          "process-label", "apparmor", "cap", "c", "preserve-fds", "cgroup"}},
        {"update",
         {"resources", "r", "blkio-weight", "cpu-period", "cpu-quota", "cpu-share", "cpu-rt-period",
          "cpu-rt-runtime", "cpuset-cpus", "cpuset-mems", "kernel-memory", "kernel-memory-tcp", "memory",
          "memory-reservation", "memory-swap", "pids-limit", "l3-cache-schema", "mem-bw-schema", "cpu-idle"}},
        {"events", {"interval"}},
        {"ps", {"format", "f"}},
        {"list", {"format", "f"}},
    };
    return table;
}

// A flag as written: "--log-format=json" → {name "log-format", value "json"}.
struct Flag {
    std::string_view name;
    std::optional<std::string_view> joined_value;
    bool single_dash = false;
};

bool looks_like_flag(std::string_view arg) { return arg.size() > 1 && arg[0] == '-'; }

Flag split_flag(std::string_view arg) {
    Flag flag;
    flag.single_dash = arg.substr(0, 2) != "--";
    arg.remove_prefix(flag.single_dash ? 1 : 2);
    if (auto eq = arg.find('='); eq != std::string_view::npos) {
        flag.joined_value = arg.substr(eq + 1);
        arg = arg.substr(0, eq);
    }
    flag.name = arg;
    return flag;
}

bool contains(const auto& names, std::string_view name) {
    return std::find(names.begin(), names.end(), name) != names.end();
}

// Strips our own options from the front; returns where the runtime's arguments start.
Result<std::size_t> take_own_options(const std::vector<std::string>& args, RuncCommandLine& out) {
    std::size_t i = 0;
    while (i < args.size()) {
        std::string_view arg = args[i];
        if (arg == kOwnConfigFlag) {
            if (i + 1 >= args.size() || args[i + 1].empty())
                return invalid(std::string(kOwnConfigFlag) + " needs a file name");
            out.procview_config = args[i + 1];
            i += 2;
        } else if (arg == kOwnEnableFlag) {
            out.procview_enable = true;
            ++i;
        } else if (arg.starts_with(std::string(kOwnConfigFlag) + "=")) {
            auto value = arg.substr(kOwnConfigFlag.size() + 1);
            if (value.empty()) return invalid(std::string(kOwnConfigFlag) + " needs a file name");
            out.procview_config = std::string(value);
            ++i;
        } else {
            break;
        }
    }
    return i;
}

// Global flags up to the subcommand. Returns the subcommand's index in
// runtime_args, or nullopt when there is none.
std::optional<std::size_t> scan_global_flags(RuncCommandLine& out) {
    const auto& args = out.runtime_args;
    for (std::size_t i = 0; i < args.size(); ++i) {
        std::string_view arg = args[i];
        if (arg == "--") return i + 1 < args.size() ? std::optional(i + 1) : std::nullopt;
        if (!looks_like_flag(arg)) return i;
        Flag flag = split_flag(arg);
        std::optional<std::string_view> value = flag.joined_value;
        if (!value && contains(kGlobalValueFlags, flag.name)) {
            if (i + 1 >= args.size()) return std::nullopt;  // dangling value flag: the runtime will complain
            value = args[++i];
        }
        if (flag.name == "root" && value) out.root = std::string(*value);
        if (flag.name == "log" && value) out.log_path = std::string(*value);
        if (flag.name == "log-format" && value) out.log_format = std::string(*value);
        if (flag.name == "debug") out.debug = !value || *value == "true" || *value == "1";
    }
    return std::nullopt;
}

// crun (argp) accepts a short option's value glued to it: "-b/path".
std::optional<Flag> crun_joined_short(std::string_view arg, const std::vector<std::string_view>& value_flags) {
    if (arg.size() <= 2 || arg[0] != '-' || arg[1] == '-') return std::nullopt;
    std::string_view letter = arg.substr(1, 1);
    if (!contains(value_flags, letter)) return std::nullopt;
    return Flag{letter, arg.substr(2), true};
}

void scan_subcommand_args(RuncCommandLine& out, std::size_t first) {
    const auto& args = out.runtime_args;
    static const std::vector<std::string_view> kNone;
    const auto& table = subcommand_value_flags();
    auto row = std::find_if(table.begin(), table.end(), [&](const auto& r) { return r.subcommand == out.subcommand; });
    const auto& value_flags = row == table.end() ? kNone : row->value_flags;

    for (std::size_t i = first; i < args.size(); ++i) {
        std::string_view arg = args[i];
        if (arg == "--") {
            if (!out.container_id && i + 1 < args.size()) out.container_id = args[i + 1];
            return;
        }
        if (!looks_like_flag(arg)) {
            if (!out.container_id) out.container_id = std::string(arg);
            // exec's command line follows its container id: nothing after it is ours.
            if (out.subcommand == "exec") return;
            continue;
        }
        Flag flag = split_flag(arg);
        std::optional<std::string_view> value = flag.joined_value;
        if (!value && !contains(value_flags, flag.name)) {
            auto glued = crun_joined_short(arg, value_flags);
            if (!glued) continue;  // a bool flag
            flag = *glued;
            value = flag.joined_value;
        }
        if (!value) {
            if (i + 1 >= args.size()) return;
            value = args[++i];
        }
        if (flag.name == "bundle" || flag.name == "b") out.bundle = std::string(*value);
        if ((flag.name == "config" || flag.name == "f") && subcommand_reads_bundle(out.subcommand))
            out.spec_file = std::string(*value);
    }
}

std::string join_path(std::string_view dir, std::string_view name) {
    if (name.starts_with('/')) return std::string(name);
    std::string out = dir.empty() ? std::string(".") : std::string(dir);
    if (!out.ends_with('/')) out += '/';
    out += name;
    return out;
}

}  // namespace

Result<RuncCommandLine> parse_runc_command_line(const std::vector<std::string>& args) {
    RuncCommandLine out;
    auto start = take_own_options(args, out);
    if (!start) return start.error();
    out.runtime_args.assign(args.begin() + static_cast<std::ptrdiff_t>(*start), args.end());

    out.subcommand_index = scan_global_flags(out);
    if (out.subcommand_index) {
        out.subcommand = out.runtime_args[*out.subcommand_index];
        scan_subcommand_args(out, *out.subcommand_index + 1);
    }
    return out;
}

bool subcommand_reads_bundle(std::string_view subcommand) {
    return subcommand == "create" || subcommand == "run" || subcommand == "restore";
}

std::string bundle_dir(const RuncCommandLine& cmd, std::string_view cwd) {
    if (!cmd.bundle || cmd.bundle->empty()) return std::string(cwd);
    return join_path(cwd, *cmd.bundle);
}

std::string spec_path(const RuncCommandLine& cmd, std::string_view cwd) {
    return join_path(bundle_dir(cmd, cwd), cmd.spec_file.value_or("config.json"));
}

}  // namespace procview::shim
