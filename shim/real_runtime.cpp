#include "shim/real_runtime.hpp"

#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>

namespace procview::shim {
namespace {

std::vector<std::string> in_path(std::string_view name, std::string_view path_env) {
    std::vector<std::string> out;
    while (true) {
        auto colon = path_env.find(':');
        std::string dir(path_env.substr(0, colon));
        if (dir.empty()) dir = ".";
        if (!dir.ends_with('/')) dir += '/';
        out.push_back(dir + std::string(name));
        if (colon == std::string_view::npos) break;
        path_env.remove_prefix(colon + 1);
    }
    return out;
}

}  // namespace

std::vector<std::string> runtime_candidates(std::string_view configured, std::string_view path_env) {
    if (configured.find('/') != std::string_view::npos) return {std::string(configured)};
    if (!configured.empty()) return in_path(configured, path_env);
    auto out = in_path("runc", path_env);
    auto crun = in_path("crun", path_env);
    out.insert(out.end(), crun.begin(), crun.end());
    return out;
}

Result<std::string> find_real_runtime(std::string_view configured, std::string_view path_env,
                                      const std::string& self_exe) {
    struct stat self {};
    bool know_self = ::stat(self_exe.c_str(), &self) == 0;
    std::string skipped_self;
    for (const auto& candidate : runtime_candidates(configured, path_env)) {
        struct stat st {};
        if (::stat(candidate.c_str(), &st) != 0 || !S_ISREG(st.st_mode)) continue;
        if (::access(candidate.c_str(), X_OK) != 0) continue;
        if (know_self && st.st_dev == self.st_dev && st.st_ino == self.st_ino) {
            skipped_self = candidate;
            continue;
        }
        return candidate;
    }
    std::string what = configured.empty() ? "runc or crun in PATH" : "runtime.runtime `" + std::string(configured) + "`";
    if (!skipped_self.empty()) what += " (" + skipped_self + " is procview-runtime itself)";
    return make_error(ENOENT, "no real runtime found: " + what);
}

}  // namespace procview::shim
