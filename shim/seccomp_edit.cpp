// add_sysinfo_notify: merge one notify rule into the container's seccomp profile.
#include "shim/seccomp_edit.hpp"

#include <algorithm>

namespace procview::shim {

namespace {

constexpr const char* kNotify = "SCMP_ACT_NOTIFY";

Spec notify_rule() {
    Spec rule = Spec::object();
    rule["names"] = Spec::array({"sysinfo"});
    rule["action"] = kNotify;
    return rule;
}

bool is_our_rule(const Spec& rule) {
    return rule.is_object() && rule.value("action", "") == kNotify && rule.contains("names") &&
           rule["names"] == Spec::array({"sysinfo"}) && !rule.contains("args");
}

// Every rule well-formed enough to edit: an object whose names (when present) are strings.
Result<void> check_rules(const Spec& syscalls) {
    if (!syscalls.is_array()) return invalid("`linux.seccomp.syscalls` is not an array");
    for (const auto& rule : syscalls) {
        if (!rule.is_object()) return invalid("a `linux.seccomp.syscalls` rule is not an object");
        if (!rule.contains("names")) continue;
        if (!rule["names"].is_array()) return invalid("a `linux.seccomp.syscalls` rule's `names` is not an array");
        for (const auto& name : rule["names"])
            if (!name.is_string()) return invalid("a `linux.seccomp.syscalls` rule names a non-string");
    }
    return {};
}

// Takes "sysinfo" out of every rule; drops rules left naming nothing.
void remove_sysinfo(Spec& syscalls) {
    Spec kept = Spec::array();
    for (auto& rule : syscalls) {
        if (rule.contains("names")) {
            auto& names = rule["names"];
            bool had = std::find(names.begin(), names.end(), "sysinfo") != names.end();
            if (had) {
                Spec rest = Spec::array();
                for (auto& n : names)
                    if (n != "sysinfo") rest.push_back(n);
                if (rest.empty()) continue;
                names = std::move(rest);
            }
        }
        kept.push_back(std::move(rule));
    }
    syscalls = std::move(kept);
}

Spec minimal_profile() {
    Spec profile = Spec::object();
    profile["defaultAction"] = "SCMP_ACT_ALLOW";
    profile["architectures"] = native_seccomp_architectures();
    profile["syscalls"] = Spec::array();
    return profile;
}

}  // namespace

std::vector<std::string> native_seccomp_architectures() {
#if defined(__x86_64__)
    return {"SCMP_ARCH_X86_64", "SCMP_ARCH_X86", "SCMP_ARCH_X32"};
#elif defined(__aarch64__)
    return {"SCMP_ARCH_AARCH64", "SCMP_ARCH_ARM"};
#else
    return {};
#endif
}

Result<SysinfoEdit> add_sysinfo_notify(Spec& spec, const SysinfoNotify& notify) {
    if (spec.contains("linux") && !spec["linux"].is_object()) return invalid("`linux` is not an object");
    const bool has_profile = spec.contains("linux") && spec["linux"].contains("seccomp") && !spec["linux"]["seccomp"].is_null();
    Spec profile = has_profile ? spec["linux"]["seccomp"] : minimal_profile();
    if (!profile.is_object()) return invalid("`linux.seccomp` is not an object");
    if (profile.contains("listenerPath")) {
        if (!profile["listenerPath"].is_string() || profile["listenerPath"] != notify.listener_path)
            return SysinfoEdit::other_listener;
    }
    if (!profile.contains("syscalls") || profile["syscalls"].is_null()) profile["syscalls"] = Spec::array();
    if (auto r = check_rules(profile["syscalls"]); !r) return r.error();
    const auto& rules = profile["syscalls"];
    if (profile.contains("listenerPath") && std::any_of(rules.begin(), rules.end(), is_our_rule))
        return SysinfoEdit::already;
    remove_sysinfo(profile["syscalls"]);
    profile["syscalls"].push_back(notify_rule());
    profile["listenerPath"] = notify.listener_path;
    profile["listenerMetadata"] = notify.metadata;
    spec["linux"]["seccomp"] = std::move(profile);
    return SysinfoEdit::added;
}

}  // namespace procview::shim
