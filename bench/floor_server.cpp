// procview-bench-floor: the FUSE floor. A trivial libfuse3 low-level server
// that serves proc/{meminfo,stat,cpuinfo,loadavg,uptime} as fixed strings of
// the host's sizes (the host's bytes, read once at start), with direct_io and
// procviewfs's loop settings. Whatever a read costs here is what FUSE itself
// costs on this machine; no real server can be faster.
//
//   $ procview-bench-floor --threads 0 /tmp/pvbench-1/floor &
//   $ cat /tmp/pvbench-1/floor/proc/loadavg
//   0.12 0.10 0.09 1/123 4567
//   $ kill $!            # SIGTERM unmounts
//
// Options:
//   --threads N          0: single-threaded fuse_session_loop (default);
//                        N > 0: fuse_session_loop_mt with clone_fd and up to
//                        N worker threads (kept, never reaped when idle).
//   --entry-timeout S    dentry cache lifetime (default 3600, as procviewfs).
//   --attr-timeout S     attribute cache lifetime (default 3600).
//   --flush              answer FLUSH (costs a round trip per close) instead
//                        of leaving it unimplemented (ENOSYS once, then none).
//   --proc-root DIR      where the host's files are read (default /proc).
//   -d                   libfuse debug output.
// Always runs in the foreground; mounts ro,allow_other.

#define FUSE_USE_VERSION 314

#include <fuse_lowlevel.h>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <charconv>
#include <cstdio>
#include <cstring>
#include <iostream>
#include <string>
#include <string_view>
#include <vector>

#include "platform/unique_fd.hpp"

namespace {

constexpr fuse_ino_t kRootIno = FUSE_ROOT_ID;
constexpr fuse_ino_t kProcIno = 2;
constexpr fuse_ino_t kFirstFileIno = 3;
constexpr std::array<const char*, 5> kFileNames = {"meminfo", "stat", "cpuinfo", "loadavg", "uptime"};

struct FloorConfig {
    unsigned threads = 0;
    double entry_timeout = 3600;
    double attr_timeout = 3600;
    bool flush = false;
    bool debug = false;
    std::string proc_root = "/proc";
    std::string mountpoint;
};

// Everything the handlers see, reached through fuse_req_userdata.
struct Floor {
    FloorConfig config;
    std::vector<std::string> contents;  // by file index
    timespec mount_time{};
};

Floor& floor_of(fuse_req_t req) { return *static_cast<Floor*>(fuse_req_userdata(req)); }

bool is_file(fuse_ino_t ino) { return ino >= kFirstFileIno && ino < kFirstFileIno + kFileNames.size(); }

struct stat attributes(const Floor& floor, fuse_ino_t ino) {
    struct stat st{};
    st.st_ino = ino;
    st.st_atim = st.st_mtim = st.st_ctim = floor.mount_time;
    if (is_file(ino)) {
        st.st_mode = S_IFREG | 0444;
        st.st_nlink = 1;
        st.st_size = static_cast<off_t>(floor.contents[ino - kFirstFileIno].size());
    } else {
        st.st_mode = S_IFDIR | 0555;
        st.st_nlink = 2;
    }
    return st;
}

void op_lookup(fuse_req_t req, fuse_ino_t parent, const char* name) {
    const Floor& floor = floor_of(req);
    fuse_ino_t ino = 0;
    if (parent == kRootIno && std::strcmp(name, "proc") == 0) {
        ino = kProcIno;
    } else if (parent == kProcIno) {
        for (std::size_t i = 0; i < kFileNames.size(); ++i) {
            if (std::strcmp(name, kFileNames[i]) == 0) ino = kFirstFileIno + i;
        }
    }
    if (ino == 0) return (void)fuse_reply_err(req, ENOENT);
    fuse_entry_param e{};
    e.ino = ino;
    e.attr = attributes(floor, ino);
    e.entry_timeout = floor.config.entry_timeout;
    e.attr_timeout = floor.config.attr_timeout;
    fuse_reply_entry(req, &e);
}

void op_getattr(fuse_req_t req, fuse_ino_t ino, fuse_file_info*) {
    const Floor& floor = floor_of(req);
    if (ino != kRootIno && ino != kProcIno && !is_file(ino)) return (void)fuse_reply_err(req, ENOENT);
    struct stat st = attributes(floor, ino);
    fuse_reply_attr(req, &st, floor.config.attr_timeout);
}

void op_open(fuse_req_t req, fuse_ino_t ino, fuse_file_info* fi) {
    if (!is_file(ino)) return (void)fuse_reply_err(req, EISDIR);
    if ((fi->flags & O_ACCMODE) != O_RDONLY) return (void)fuse_reply_err(req, EROFS);
    // Same as procviewfs: no page cache, every read reaches the server.
    fi->direct_io = 1;
    fi->keep_cache = 0;
    fuse_reply_open(req, fi);
}

void op_read(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off, fuse_file_info*) {
    const std::string& content = floor_of(req).contents[ino - kFirstFileIno];
    auto length = static_cast<off_t>(content.size());
    if (off >= length) return (void)fuse_reply_buf(req, nullptr, 0);
    fuse_reply_buf(req, content.data() + off, std::min(size, static_cast<size_t>(length - off)));
}

void op_flush(fuse_req_t req, fuse_ino_t, fuse_file_info*) { fuse_reply_err(req, 0); }

void op_release(fuse_req_t req, fuse_ino_t, fuse_file_info*) { fuse_reply_err(req, 0); }

void op_opendir(fuse_req_t req, fuse_ino_t ino, fuse_file_info* fi) {
    if (is_file(ino)) return (void)fuse_reply_err(req, ENOTDIR);
    fuse_reply_open(req, fi);
}

void op_readdir(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off, fuse_file_info*) {
    std::vector<std::pair<std::string, fuse_ino_t>> entries = {{".", ino}, {"..", kRootIno}};
    if (ino == kRootIno) entries.emplace_back("proc", kProcIno);
    if (ino == kProcIno) {
        for (std::size_t i = 0; i < kFileNames.size(); ++i) entries.emplace_back(kFileNames[i], kFirstFileIno + i);
    }
    std::string buf(size, '\0');
    size_t used = 0;
    for (auto i = static_cast<size_t>(off); i < entries.size(); ++i) {
        struct stat st{};
        st.st_ino = entries[i].second;
        st.st_mode = is_file(entries[i].second) ? S_IFREG : S_IFDIR;
        size_t need = fuse_add_direntry(req, buf.data() + used, size - used, entries[i].first.c_str(), &st,
                                        static_cast<off_t>(i + 1));
        if (need > size - used) break;
        used += need;
    }
    fuse_reply_buf(req, buf.data(), used);
}

fuse_lowlevel_ops make_operations(bool flush) {
    fuse_lowlevel_ops ops{};
    ops.lookup = op_lookup;
    ops.getattr = op_getattr;
    ops.open = op_open;
    ops.read = op_read;
    ops.release = op_release;
    ops.opendir = op_opendir;
    ops.readdir = op_readdir;
    if (flush) ops.flush = op_flush;
    return ops;
}

bool read_host_file(const std::string& path, std::string& out) {
    procview::UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
    if (!fd) return false;
    char buf[65536];
    for (;;) {
        ssize_t n = ::read(fd.get(), buf, sizeof buf);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) return false;
        if (n == 0) return true;
        out.append(buf, static_cast<std::size_t>(n));
    }
}

int usage(const std::string& why) {
    std::cerr << "procview-bench-floor: " << why
              << "\nusage: procview-bench-floor [--threads N] [--entry-timeout S] [--attr-timeout S] [--flush]"
                 " [--proc-root DIR] [-d] MOUNTPOINT\n";
    return 1;
}

std::string parse_cli(int argc, char** argv, FloorConfig& cfg) {
    for (int i = 1; i < argc; ++i) {
        std::string_view arg = argv[i];
        auto value = [&]() -> std::string { return i + 1 < argc ? std::string(argv[++i]) : std::string(); };
        try {
            if (arg == "--threads") {
                std::string v = value();
                auto [end, ec] = std::from_chars(v.data(), v.data() + v.size(), cfg.threads);
                if (ec != std::errc{} || end != v.data() + v.size() || cfg.threads > 256) return "--threads needs 0..256";
            } else if (arg == "--entry-timeout") {
                cfg.entry_timeout = std::stod(value());
            } else if (arg == "--attr-timeout") {
                cfg.attr_timeout = std::stod(value());
            } else if (arg == "--flush") {
                cfg.flush = true;
            } else if (arg == "--proc-root") {
                cfg.proc_root = value();
            } else if (arg == "-d") {
                cfg.debug = true;
            } else if (arg.starts_with("-")) {
                return "unknown option " + std::string(arg);
            } else if (cfg.mountpoint.empty()) {
                cfg.mountpoint = arg;
            } else {
                return "one mountpoint only";
            }
        } catch (...) {
            return std::string(arg) + " needs a number";
        }
    }
    if (cfg.mountpoint.empty()) return "no mountpoint";
    return "";
}

int serve(Floor& floor) {
    std::vector<std::string> args = {"procview-bench-floor", "-o", "ro,allow_other,fsname=pvbench-floor,subtype=pvbench-floor"};
    if (floor.config.debug) args.emplace_back("-d");
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    fuse_args fargs = FUSE_ARGS_INIT(static_cast<int>(argv.size()), argv.data());
    const fuse_lowlevel_ops ops = make_operations(floor.config.flush);
    fuse_session* se = fuse_session_new(&fargs, &ops, sizeof ops, &floor);
    fuse_opt_free_args(&fargs);
    if (!se) return 1;
    int rc = 1;
    if (fuse_set_signal_handlers(se) == 0) {
        if (fuse_session_mount(se, floor.config.mountpoint.c_str()) == 0) {
            if (floor.config.threads == 0) {
                rc = fuse_session_loop(se);
            } else {
                fuse_loop_config* loop = fuse_loop_cfg_create();
                fuse_loop_cfg_set_clone_fd(loop, 1);
                fuse_loop_cfg_set_max_threads(loop, floor.config.threads);
                fuse_loop_cfg_set_idle_threads(loop, floor.config.threads);
                rc = fuse_session_loop_mt(se, loop);
                fuse_loop_cfg_destroy(loop);
            }
            fuse_session_unmount(se);
        }
        fuse_remove_signal_handlers(se);
    }
    fuse_session_destroy(se);
    // The loop returns the signal number when stopped by SIGTERM/SIGINT.
    return rc < 0 ? 1 : 0;
}

}  // namespace

int main(int argc, char** argv) {
    Floor floor;
    if (auto why = parse_cli(argc, argv, floor.config); !why.empty()) return usage(why);
    for (const char* name : kFileNames) {
        std::string content;
        const std::string path = floor.config.proc_root + "/" + name;
        if (!read_host_file(path, content) || content.empty()) {
            std::cerr << "procview-bench-floor: read `" << path << "`: " << std::strerror(errno) << "\n";
            return 1;
        }
        floor.contents.push_back(std::move(content));
    }
    ::clock_gettime(CLOCK_REALTIME, &floor.mount_time);
    return serve(floor);
}
