#include "fusefs/session.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <linux/fuse.h>
#include <poll.h>
#include <spawn.h>
#include <sys/file.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/utsname.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstddef>
#include <cstring>
#include <memory>
#include <thread>

#include "core/text.hpp"
#include "fusefs/keeper.hpp"
#include "fusefs/keeper_protocol.hpp"
#include "fusefs/keeper_socket.hpp"
#include "fusefs/unix_message.hpp"
#include "platform/fs.hpp"

extern char** environ;

namespace procview {
namespace {

constexpr const char* kRunDir = "/run/procview";
// How long a just-spawned keeper may take to exec and listen.
constexpr int kKeeperStartMs = 5000;

Result<void> spawn_keeper(int master_fd, int listen_fd, const std::string& mountpoint, bool keep_stderr) {
    // Fixed, high fd numbers in the child: dup2 there clears close-on-exec.
    constexpr int kMasterChildFd = 100, kListenChildFd = 101;
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    // The keeper outlives whoever started us: it must not hold their terminal or pipes.
    posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0);
    if (!keep_stderr) posix_spawn_file_actions_addopen(&actions, 2, "/dev/null", O_WRONLY, 0);
    posix_spawn_file_actions_adddup2(&actions, master_fd, kMasterChildFd);
    posix_spawn_file_actions_adddup2(&actions, listen_fd, kListenChildFd);
    std::string a0 = "procviewfs", a1 = "--keeper", a2 = mountpoint, a3 = std::to_string(kMasterChildFd),
                a4 = std::to_string(kListenChildFd);
    char* argv[] = {a0.data(), a1.data(), a2.data(), a3.data(), a4.data(), nullptr};
    pid_t pid = 0;
    int rc = ::posix_spawn(&pid, "/proc/self/exe", &actions, nullptr, argv, environ);
    posix_spawn_file_actions_destroy(&actions);
    if (rc != 0) return make_error(rc, "spawn the keeper");
    return {};
}

}  // namespace

Result<UniqueFd> serving_fd(int master_fd, bool resend) {
    if (!resend) return clone_fuse_device(master_fd);
    UniqueFd fd(::fcntl(master_fd, F_DUPFD_CLOEXEC, 0));
    if (!fd) return make_error(errno, "duplicate the FUSE fd");
    return fd;
}

Result<void> request_resend(int fuse_fd) {
    fuse_out_header out{};
    out.len = sizeof out;
    out.error = kFuseNotifyResend;  // a notification: error holds its code, unique is 0
    out.unique = 0;
    if (::write(fuse_fd, &out, sizeof out) != static_cast<ssize_t>(sizeof out))
        return make_error(errno, "FUSE_NOTIFY_RESEND");
    return {};
}

Result<UniqueFd> clone_fuse_device(int fuse_fd) {
    UniqueFd clone(::open("/dev/fuse", O_RDWR | O_CLOEXEC));
    if (!clone) return make_error(errno, "open /dev/fuse");
    uint32_t source = static_cast<uint32_t>(fuse_fd);
    if (::ioctl(clone.get(), FUSE_DEV_IOC_CLONE, &source) != 0) return make_error(errno, "clone the FUSE connection");
    return clone;
}

std::optional<MountEntry> mount_at(const std::string& path) {
    auto text = read_file("/proc/self/mountinfo");
    if (!text) return std::nullopt;
    std::optional<MountEntry> entry;
    for (auto line : split_lines(*text)) {
        auto f = split_fields(line);
        if (f.size() < 10 || f[4] != path) continue;
        for (std::size_t i = 6; i + 1 < f.size(); ++i)
            if (f[i] == "-") { entry = MountEntry{std::string(f[i + 1]), std::string(f[3])}; break; }
    }
    return entry;  // the last one is on top
}

std::optional<std::string> mounted_type(const std::string& path) {
    auto entry = mount_at(path);
    if (!entry) return std::nullopt;
    return entry->type;
}

Result<void> check_foreign_mount(const std::string& mountpoint, const MountEntry& mount, bool empty) {
    // Its root directory: someone's filesystem was mounted there.
    if (mount.root == "/")
        return make_error(EBUSY, mountpoint + " is in use: a `" + mount.type + "` filesystem is mounted there");
    // A directory of a FUSE filesystem (lxcfs's, say): another server answers there.
    if (mount.type == "fuse" || mount.type.starts_with("fuse."))
        return make_error(EBUSY, mountpoint + " is in use: a directory of a `" + mount.type +
                                     "` filesystem is bind-mounted there");
    // A bind mount of a directory, which every Kubernetes volume is: ours to
    // mount over when it holds nothing that the mount would hide.
    if (!empty)
        return make_error(EBUSY, mountpoint + " is in use: a non-empty directory (" + mount.root + " of a `" + mount.type +
                                     "` filesystem) is bind-mounted there");
    return {};
}

namespace {

bool directory_is_empty(const std::string& path) {
    struct Closer {
        void operator()(DIR* d) const { ::closedir(d); }
    };
    std::unique_ptr<DIR, Closer> dir(::opendir(path.c_str()));
    if (!dir) return false;
    while (dirent* e = ::readdir(dir.get()))
        if (std::strcmp(e->d_name, ".") != 0 && std::strcmp(e->d_name, "..") != 0) return false;
    return true;
}

Result<void> prepare_mountpoint(const std::string& mountpoint, spdlog::logger& log) {
    // Ours, but nobody holds the instance lock and no keeper answers: dead,
    // or held by a keeper we do not talk to (one from before the path
    // socket). Checked in mountinfo before statfs, which would wait forever
    // on a mount that a keeper holds and no daemon serves.
    if (mounted_type(mountpoint) == std::optional<std::string>("fuse.procviewfs")) {
        log.warn("{}: clearing a stale mount of procviewfs: its daemon and keeper are gone, or its keeper is one we "
                 "do not talk to (from before the path socket)", mountpoint);
        // MNT_FORCE aborts the connection first (fuse_umount_begin), even when
        // the mount is busy: readers waiting on it, in bind mounts too, get
        // ENOTCONN instead of waiting forever, and a keeper still holding it
        // sees it end and exits.
        if (::umount2(mountpoint.c_str(), MNT_FORCE) != 0 && ::umount2(mountpoint.c_str(), MNT_DETACH) != 0)
            return make_error(errno, "unmount the old mount at " + mountpoint);
    }
    // statfs always asks the filesystem (stat may be answered from cache), so
    // a FUSE mount whose connection died says ENOTCONN here.
    struct statfs st{};
    if (::statfs(mountpoint.c_str(), &st) != 0) {
        if (errno == ENOTCONN) {
            log.warn("{}: clearing a stale mount left by a dead instance (Transport endpoint is not connected)", mountpoint);
            if (::umount2(mountpoint.c_str(), MNT_DETACH) != 0) return make_error(errno, "unmount the stale mount at " + mountpoint);
        } else if (errno == ENOENT) {
            for (auto pos = mountpoint.find('/', 1); pos != std::string::npos; pos = mountpoint.find('/', pos + 1))
                ::mkdir(mountpoint.substr(0, pos).c_str(), 0755);  // parents; EEXIST is fine
            if (::mkdir(mountpoint.c_str(), 0755) != 0 && errno != EEXIST) return make_error(errno, "create " + mountpoint);
        } else {
            return make_error(errno, "stat " + mountpoint);
        }
    }
    if (auto mount = mount_at(mountpoint)) {
        if (mount->type != "fuse.procviewfs") {
            if (auto r = check_foreign_mount(mountpoint, *mount, directory_is_empty(mountpoint)); !r) return r;
            log.info("{}: mounting over a bind mount of an empty directory ({} of a `{}` filesystem; a volume)",
                     mountpoint, mount->root, mount->type);
            return {};
        }
        log.warn("{}: replacing a procviewfs mount whose daemon and keeper are gone", mountpoint);
        if (::umount2(mountpoint.c_str(), MNT_DETACH) != 0) return make_error(errno, "unmount the old mount at " + mountpoint);
    }
    return {};
}

}  // namespace

void make_init_replay(std::string& init_request) {
    if (init_request.size() < sizeof(fuse_in_header)) return;
    uint64_t unique = 0xFFFFFFFFFFFFFFF1ULL;  // odd: never a real request id
    std::memcpy(init_request.data() + offsetof(fuse_in_header, unique), &unique, sizeof unique);
}

std::string instance_lock_path(const std::string& mountpoint) {
    return std::string(kRunDir) + "/" + mountpoint_hash(mountpoint) + ".lock";
}

namespace {

// Whether `fd` is still the file at `path` (not unlinked by remove_instance_lock after we opened it).
bool still_linked_at(int fd, const std::string& path) {
    struct stat held{}, named{};
    return ::fstat(fd, &held) == 0 && ::stat(path.c_str(), &named) == 0 && held.st_ino == named.st_ino &&
           held.st_dev == named.st_dev;
}

}  // namespace

Result<UniqueFd> acquire_instance_lock(const std::string& mountpoint, bool wait, int timeout_ms) {
    ::mkdir(kRunDir, 0755);
    std::string path = instance_lock_path(mountpoint);
    auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
    UniqueFd fd;
    for (;;) {
        fd.reset(::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644));
        if (!fd) return make_error(errno, "open " + path);
        if (::flock(fd.get(), LOCK_EX | LOCK_NB) == 0) {
            if (still_linked_at(fd.get(), path)) break;
            continue;  // its holder removed it meanwhile: lock the one at the path now
        }
        if (errno != EWOULDBLOCK) return make_error(errno, "lock " + path);
        if (!wait || std::chrono::steady_clock::now() > deadline) {
            auto holder = read_file(path);
            return make_error(EWOULDBLOCK, "procviewfs (pid " + std::string(trim(holder ? *holder : "?")) +
                                               ") already serves " + mountpoint);
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    std::string pid = std::to_string(::getpid()) + "\n";
    (void)!::ftruncate(fd.get(), 0);
    (void)!::pwrite(fd.get(), pid.data(), pid.size(), 0);
    return fd;
}

void remove_instance_lock(const std::string& mountpoint, UniqueFd lock) {
    std::string path = instance_lock_path(mountpoint);
    if (lock && still_linked_at(lock.get(), path)) ::unlink(path.c_str());
}

Result<FuseConnection> attach_to_keeper(const std::string& mountpoint, spdlog::logger& log) {
    auto sock = connect_keeper_socket(mountpoint, 0);
    if (!sock) return sock.error();
    for (int attempt = 0; attempt < 200; ++attempt) {
        // A keeper that refuses us says REFUSED and closes, maybe before our
        // ATTACH is sent (EPIPE) or with it unread (the first read then
        // reports ECONNRESET, the next one the REFUSED): read it either way.
        bool sent = send_message(sock->get(), "ATTACH", "", -1);
        int send_errno = errno;
        pollfd p{sock->get(), POLLIN, 0};
        if (::poll(&p, 1, 2000) <= 0) return make_error(ETIMEDOUT, "the keeper of " + mountpoint + " does not answer");
        auto reply = receive_message(sock->get());
        if (!reply) reply = receive_message(sock->get());
        if (!reply && !sent) return make_error(send_errno, "ask the keeper of " + mountpoint);
        if (!reply) return make_error(ECONNRESET, "the keeper of " + mountpoint + " hung up");
        if (reply->command == "NOINIT") {  // the first instance is still starting
            std::this_thread::sleep_for(std::chrono::milliseconds(10));
            continue;
        }
        if (reply->command == "REFUSED")
            return make_error(EACCES, "the keeper of " + mountpoint +
                                          " refused us: procviewfs must run as root in the keeper's pid and user "
                                          "namespaces, with CAP_SYS_ADMIN and CAP_SYS_PTRACE");
        if (reply->command != "CLONE" || !reply->fd)
            return make_error(EPROTO, "unexpected keeper reply `" + reply->command.substr(0, 32) + "`");
        // libfuse parses a replayed INIT unchecked.
        if (auto r = validate_init_request(reply->payload); !r)
            return r.error().context("the keeper of " + mountpoint + " sent a malformed INIT");
        FuseConnection conn;
        conn.master = std::move(reply->fd);
        conn.resend = init_offers_resend(reply->payload);
        auto worker = serving_fd(conn.master.get(), conn.resend);
        if (!worker) return worker.error();
        conn.worker = std::move(*worker);
        conn.keeper = std::move(*sock);
        conn.init_request = std::move(reply->payload);
        make_init_replay(conn.init_request);
        log.info("{}: attached to the live mount held by its keeper", mountpoint);
        return conn;
    }
    return make_error(ETIMEDOUT, "the keeper of " + mountpoint + " never got an INIT");
}

Result<FuseConnection> mount_fresh(const std::string& mountpoint, spdlog::logger& log, bool keep_stderr) {
    if (auto r = prepare_mountpoint(mountpoint, log); !r) return r.error();
    FuseConnection conn;
    conn.fresh = true;
    conn.master.reset(::open("/dev/fuse", O_RDWR | O_CLOEXEC));
    if (!conn.master) return make_error(errno, "open /dev/fuse");
    std::string data = "fd=" + std::to_string(conn.master.get()) +
                       ",rootmode=40555,user_id=0,group_id=0,allow_other,default_permissions";
    if (::mount("procview", mountpoint.c_str(), "fuse.procviewfs", MS_NOSUID | MS_NODEV | MS_NOEXEC | MS_RDONLY,
                data.c_str()) != 0)
        return make_error(errno, "mount procviewfs on " + mountpoint);
    auto fail = [&](const Error& e) -> Result<FuseConnection> {
        ::umount2(mountpoint.c_str(), MNT_DETACH);
        return e;
    };
    utsname uts{};
    conn.resend = ::uname(&uts) == 0 && release_offers_resend(uts.release);
    auto worker = serving_fd(conn.master.get(), conn.resend);
    if (!worker) return fail(worker.error());
    conn.worker = std::move(*worker);
    auto listen = bind_keeper_socket(mountpoint);
    if (!listen) return fail(listen.error());
    if (auto r = spawn_keeper(conn.master.get(), listen->get(), mountpoint, keep_stderr); !r) return fail(r.error());
    listen->reset();  // the keeper has it now
    auto sock = connect_keeper_socket(mountpoint, kKeeperStartMs);
    if (!sock) return fail(sock.error());
    conn.keeper = std::move(*sock);
    log.info("mounted procviewfs on {}", mountpoint);
    return conn;
}

Result<void> tell_keeper(int keeper, const std::string& command, const std::string& payload) {
    if (keeper < 0 || !send_message(keeper, command, payload, -1)) return make_error(errno ? errno : EPIPE, "tell the keeper " + command);
    return {};
}

Result<UniqueFd> borrow_clone_from_keeper(int keeper) {
    if (auto r = tell_keeper(keeper, "ATTACH"); !r) return r.error();
    pollfd p{keeper, POLLIN, 0};
    if (::poll(&p, 1, kKeeperStartMs) <= 0) return make_error(ETIMEDOUT, "the keeper did not lend a clone");
    auto reply = receive_message(keeper);
    if (!reply || reply->command != "CLONE" || !reply->fd)
        return make_error(EPROTO, "the keeper lent no clone (" + (reply ? reply->command.substr(0, 32) : std::string("hung up")) + ")");
    return std::move(reply->fd);
}

Result<void> store_init_with_keeper(int keeper, const std::string& init_request) {
    if (auto r = tell_keeper(keeper, "INIT", init_request); !r) return r;
    pollfd p{keeper, POLLIN, 0};
    if (::poll(&p, 1, kKeeperStartMs) <= 0) return make_error(ETIMEDOUT, "the keeper did not confirm the INIT");
    auto reply = receive_message(keeper);
    if (!reply || reply->command != "STORED")
        return make_error(EPROTO, "the keeper did not store the INIT (" + (reply ? reply->command.substr(0, 32) : std::string("hung up")) + ")");
    return {};
}

Result<UniqueFd> respawn_keeper(int master_fd, const std::string& mountpoint, const std::string& init_request,
                                bool keep_stderr) {
    auto listen = bind_keeper_socket(mountpoint);
    if (!listen) return listen.error();
    if (auto r = spawn_keeper(master_fd, listen->get(), mountpoint, keep_stderr); !r) return r.error();
    listen->reset();
    auto sock = connect_keeper_socket(mountpoint, kKeeperStartMs);
    if (!sock) return sock.error();
    if (auto r = store_init_with_keeper(sock->get(), init_request); !r) return r.error();
    if (auto r = tell_keeper(sock->get(), "SERVING"); !r) return r.error();
    return sock;
}

}  // namespace procview
