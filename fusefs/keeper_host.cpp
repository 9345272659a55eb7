#include "fusefs/keeper_host.hpp"

#include <fcntl.h>
#include <sched.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <set>

#include "core/text.hpp"
#include "platform/fs.hpp"
#include "platform/unique_fd.hpp"

namespace procview {

std::vector<CgroupHierarchy> cgroup_hierarchies(std::string_view mountinfo) {
    std::vector<CgroupHierarchy> out;
    std::set<std::string, std::less<>> seen;  // major:minor: one superblock per hierarchy
    for (auto line : split_lines(mountinfo)) {
        auto f = split_fields(line);
        std::size_t dash = 6;
        while (dash < f.size() && f[dash] != "-") ++dash;
        if (dash + 3 >= f.size() || f.size() < 7) continue;
        auto type = f[dash + 1];
        if ((type != "cgroup" && type != "cgroup2") || f[3] != "/" || seen.contains(f[2])) continue;
        seen.emplace(f[2]);
        std::string options = "," + std::string(f[dash + 3]) + ",";
        out.push_back({std::string(f[4]), type == "cgroup" && options.find(",cpuset,") != std::string::npos});
    }
    return out;
}

bool valid_keeper_cgroup_name(std::string_view name) {
    if (name.empty() || name.size() > 64 || name == "." || name == "..") return false;
    for (char c : name)
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' || c == '_' ||
              c == '-'))
            return false;
    return true;
}

namespace {

Result<void> write_text(const std::string& path, std::string_view text) {
    UniqueFd fd(::open(path.c_str(), O_WRONLY | O_CLOEXEC));
    if (!fd) return make_error(errno, "open " + path);
    if (::write(fd.get(), text.data(), text.size()) != static_cast<ssize_t>(text.size()))
        return make_error(errno, "write `" + std::string(text) + "` to " + path);
    return {};
}

// Joins the host process's namespace of `type` unless we are in it already.
Result<void> join_host_namespace(pid_t host_pid, const char* type, int nstype) {
    std::string theirs = "/proc/" + std::to_string(host_pid) + "/ns/" + type, ours = std::string("/proc/self/ns/") + type;
    struct stat a{}, b{};
    if (::stat(theirs.c_str(), &a) != 0) return make_error(errno, "stat " + theirs);
    if (::stat(ours.c_str(), &b) == 0 && a.st_ino == b.st_ino && a.st_dev == b.st_dev) return {};
    UniqueFd fd(::open(theirs.c_str(), O_RDONLY | O_CLOEXEC));
    if (!fd) return make_error(errno, "open " + theirs);
    if (::setns(fd.get(), nstype) != 0) return make_error(errno, "join " + theirs);
    return {};
}

// A v1 cpuset child starts with empty cpus and mems, and no task may join it then.
void inherit_cpuset(const std::string& root, const std::string& dir) {
    for (const char* file : {"cpuset.cpus", "cpuset.mems"}) {
        auto mine = read_file(dir + "/" + file);
        if (mine && !trim(*mine).empty()) continue;
        if (auto parent = read_file(root + "/" + file)) (void)write_text(dir + "/" + file, trim(*parent));
    }
}

}  // namespace

Result<void> keeper_leave_pod(const std::string& name, pid_t host_pid, std::vector<std::string>& joined) {
    if (!valid_keeper_cgroup_name(name))
        return invalid(std::string(kKeeperCgroupEnv) + " must be a plain cgroup name, not `" + name + "`");
    // The cgroup namespace first: its root decides which cgroups we may name.
    if (auto r = join_host_namespace(host_pid, "cgroup", CLONE_NEWCGROUP); !r) return r;
    if (auto r = join_host_namespace(host_pid, "mnt", CLONE_NEWNS); !r) return r;
    if (::chdir("/") != 0) return make_error(errno, "chdir /");
    auto mountinfo = read_file("/proc/self/mountinfo");
    if (!mountinfo) return mountinfo.error();
    std::string refused;
    for (const auto& h : cgroup_hierarchies(*mountinfo)) {
        std::string dir = h.root + "/" + name;
        if (::mkdir(dir.c_str(), 0755) != 0 && errno != EEXIST) {
            refused += " " + dir + " (" + std::strerror(errno) + ")";
            continue;
        }
        if (h.cpuset) inherit_cpuset(h.root, dir);
        if (auto r = write_text(dir + "/cgroup.procs", "0"); !r) {
            refused += " " + r.error().describe();
            continue;
        }
        joined.push_back(dir);
    }
    if (joined.empty()) return make_error(ENOENT, "no cgroup hierarchy mounted in the host's mount namespace");
    if (!refused.empty()) return make_error(EPERM, "could not join every hierarchy:" + refused);
    return {};
}

void keeper_leave_cgroups(const std::vector<std::string>& joined) {
    for (const auto& dir : joined) {
        auto slash = dir.find_last_of('/');
        (void)write_text(dir.substr(0, slash) + "/cgroup.procs", "0");
        ::rmdir(dir.c_str());  // EBUSY: another keeper is in it
    }
}

}  // namespace procview
