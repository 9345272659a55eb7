#include "fusefs/cgroup_layout.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <memory>

#include "core/text.hpp"
#include "platform/fs.hpp"

namespace procview {
namespace {

// mountinfo escapes space, tab, newline and backslash as \ooo.
std::string unescape_mountinfo(std::string_view s) {
    auto octal = [](char c) { return c >= '0' && c <= '7'; };
    std::string out;
    out.reserve(s.size());
    for (std::size_t i = 0; i < s.size(); ++i) {
        if (s[i] == '\\' && i + 3 < s.size() && octal(s[i + 1]) && octal(s[i + 2]) && octal(s[i + 3])) {
            out.push_back(static_cast<char>((s[i + 1] - '0') * 64 + (s[i + 2] - '0') * 8 + (s[i + 3] - '0')));
            i += 3;
        } else {
            out.push_back(s[i]);
        }
    }
    return out;
}

Result<Hierarchy> open_hierarchy(CgroupVersion version, const std::string& mount_point, const std::string& root,
                                 std::shared_ptr<ChangeWatch> changes) {
    auto fd = open_directory(AT_FDCWD, mount_point);
    if (!fd) return fd.error().context("cgroup hierarchy");
    return Hierarchy{version, mount_point, root == "/" ? "" : root, std::move(*fd), std::move(changes)};
}

bool exists_at(const std::string& dir, const char* name) {
    struct stat st{};
    return ::stat((dir + "/" + name).c_str(), &st) == 0;
}

}  // namespace

Result<std::vector<CgroupMount>> parse_cgroup_mounts(std::string_view mountinfo) {
    std::vector<CgroupMount> mounts;
    for (auto line : split_lines(mountinfo)) {
        auto fields = split_fields(line);
        // id parent maj:min root mount-point options [optional…] - fstype source super-options
        std::size_t dash = 0;
        for (std::size_t i = 6; i < fields.size(); ++i)
            if (fields[i] == "-") { dash = i; break; }
        if (dash == 0 || fields.size() < dash + 4) continue;  // not a mount line we understand
        auto fstype = fields[dash + 1];
        if (fstype != "cgroup" && fstype != "cgroup2") continue;
        CgroupMount m;
        m.root = unescape_mountinfo(fields[3]);
        m.mount_point = unescape_mountinfo(fields[4]);
        m.version = fstype == "cgroup2" ? CgroupVersion::v2 : CgroupVersion::v1;
        if (m.version == CgroupVersion::v1) {
            std::string_view opts = fields[dash + 3];
            while (!opts.empty()) {
                auto comma = opts.find(',');
                auto opt = opts.substr(0, comma);
                if (opt != "rw" && opt != "ro" && opt != "relatime" && opt.find("release_agent") != 0 &&
                    opt != "clone_children" && opt != "noprefix" && opt != "xattr" && opt != "cpuset_v2_mode")
                    m.controllers.emplace_back(opt);
                if (comma == std::string_view::npos) break;
                opts.remove_prefix(comma + 1);
            }
        }
        mounts.push_back(std::move(m));
    }
    return mounts;
}

Result<CgroupLayout> CgroupLayout::discover(std::string_view mountinfo_text) {
    auto mounts = parse_cgroup_mounts(mountinfo_text);
    if (!mounts) return mounts.error();
    CgroupLayout layout;
    for (const auto& m : *mounts) {
        if (m.version == CgroupVersion::v2) {
            if (layout.unified_) continue;  // the first cgroup2 mount wins (later ones are bind copies)
            auto h = open_hierarchy(CgroupVersion::v2, m.mount_point, m.root, layout.changes_);
            if (!h) return h.error();
            layout.unified_ = std::move(*h);
            continue;
        }
        std::shared_ptr<Hierarchy> shared;
        for (const auto& c : m.controllers) {
            if (layout.v1_.count(c)) continue;
            if (!shared) {
                auto h = open_hierarchy(CgroupVersion::v1, m.mount_point, m.root, layout.changes_);
                if (!h) return h.error();
                shared = std::make_shared<Hierarchy>(std::move(*h));
            }
            layout.v1_.emplace(c, shared);
        }
    }
    if (!layout.unified_ && layout.v1_.empty()) return make_error(ENOENT, "no cgroup filesystem is mounted");
    return layout;
}

Result<CgroupLayout> CgroupLayout::from_directory(const std::string& dir) {
    CgroupLayout layout;
    if (exists_at(dir, "cgroup.controllers")) {
        auto h = open_hierarchy(CgroupVersion::v2, dir, "/", layout.changes_);
        if (!h) return h.error();
        layout.unified_ = std::move(*h);
        return layout;
    }
    for (auto c : kControllers) {
        std::string sub = dir + "/" + std::string(c);
        struct stat st{};
        if (::stat(sub.c_str(), &st) != 0 || !S_ISDIR(st.st_mode)) continue;
        auto h = open_hierarchy(CgroupVersion::v1, sub, "/", layout.changes_);
        if (!h) return h.error();
        layout.v1_.emplace(std::string(c), std::make_shared<Hierarchy>(std::move(*h)));
    }
    if (exists_at(dir, "unified/cgroup.controllers")) {
        auto h = open_hierarchy(CgroupVersion::v2, dir + "/unified", "/", layout.changes_);
        if (!h) return h.error();
        layout.unified_ = std::move(*h);
    }
    if (!layout.unified_ && layout.v1_.empty())
        return make_error(ENOENT, "`" + dir + "` holds no cgroup hierarchy (no cgroup.controllers, no controller directories)");
    return layout;
}

const Hierarchy* CgroupLayout::for_controller(std::string_view controller) const {
    if (auto it = v1_.find(controller); it != v1_.end()) return it->second.get();
    if (v1_.empty() && unified_) return &*unified_;
    return nullptr;
}

std::string CgroupLayout::describe() const {
    if (pure_v2()) return "cgroup v2 at " + unified_->mount_point;
    std::string s = v1_.empty() ? "no v1 controllers" : "cgroup v1";
    for (const auto& [name, h] : v1_) s += " " + name + "=" + h->mount_point;
    if (unified_) s += ", unified at " + unified_->mount_point;
    return s;
}

}  // namespace procview
