// pv-stuck-fuse — a FUSE server that stops answering, for
// tests/e2e/hook/deadline_test.sh: a process whose request the server has
// already read waits for the answer uninterruptibly (SIGKILL does not end
// the wait), which is what a deadlocked procviewfs does to its readers.
//
//   # pv-stuck-fuse /tmp/mnt silent &        # answers INIT, then nothing
//   ready
//   # pv-stuck-fuse /tmp/mnt after-health &  # answers the health probe
//   ready                                    # (statfs, proc/uptime), then
//                                            # nothing: the first lookup of
//                                            # any other name never returns
//
// Raw /dev/fuse and mount(2), no libfuse: the point is to not answer. The
// connection ends when this process dies (its /dev/fuse fd is the last one),
// which also ends every stuck request with ENOTCONN; the test kills it by pid
// and unmounts.
#include <fcntl.h>
#include <linux/fuse.h>
#include <sys/mount.h>
#include <sys/uio.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <string>
#include <string_view>
#include <vector>

namespace {

constexpr std::uint64_t kProcIno = 2;
constexpr std::uint64_t kUptimeIno = 3;
constexpr std::string_view kUptime = "1.00 1.00\n";

void reply(int dev, const fuse_in_header& in, int error, const void* body, std::size_t size) {
    fuse_out_header out{};
    out.len = static_cast<std::uint32_t>(sizeof out + (error == 0 ? size : 0));
    out.error = error;
    out.unique = in.unique;
    iovec iov[2] = {{&out, sizeof out}, {const_cast<void*>(body), error == 0 ? size : 0}};
    if (::writev(dev, iov, 2) < 0) std::perror("pv-stuck-fuse: writev");
}

fuse_attr attr_of(std::uint64_t ino) {
    fuse_attr a{};
    a.ino = ino;
    a.mode = ino == kUptimeIno ? (S_IFREG | 0444) : (S_IFDIR | 0555);
    a.nlink = ino == kUptimeIno ? 1 : 2;
    a.blksize = 4096;
    return a;
}

void reply_init(int dev, const fuse_in_header& in) {
    fuse_init_out out{};
    out.major = FUSE_KERNEL_VERSION;
    out.minor = FUSE_KERNEL_MINOR_VERSION;
    out.max_readahead = 0;
    out.max_write = 4096;
    out.time_gran = 1;
    out.max_background = 4;
    out.congestion_threshold = 3;
    reply(dev, in, 0, &out, sizeof out);
}

// What the health probe needs: statfs, lookup proc and proc/uptime, getattr,
// open, read, flush, release. False: leave the request unanswered.
bool answer_health(int dev, const fuse_in_header& in, const char* payload) {
    switch (in.opcode) {
    case FUSE_STATFS: {
        fuse_statfs_out out{};
        out.st.bsize = 4096;
        out.st.namelen = 255;
        reply(dev, in, 0, &out, sizeof out);
        return true;
    }
    case FUSE_LOOKUP: {
        std::string_view name(payload);
        std::uint64_t ino = in.nodeid == FUSE_ROOT_ID && name == "proc"       ? kProcIno
                            : in.nodeid == kProcIno && name == "uptime" ? kUptimeIno
                                                                        : 0;
        if (ino == 0) return false;
        fuse_entry_out out{};
        out.nodeid = ino;
        out.attr = attr_of(ino);
        reply(dev, in, 0, &out, sizeof out);
        return true;
    }
    case FUSE_GETATTR: {
        fuse_attr_out out{};
        out.attr = attr_of(in.nodeid);
        reply(dev, in, 0, &out, sizeof out);
        return true;
    }
    case FUSE_OPEN: {
        fuse_open_out out{};
        out.open_flags = FOPEN_DIRECT_IO;
        reply(dev, in, 0, &out, sizeof out);
        return true;
    }
    case FUSE_READ: reply(dev, in, 0, kUptime.data(), kUptime.size()); return true;
    case FUSE_FLUSH:
    case FUSE_RELEASE: reply(dev, in, 0, nullptr, 0); return true;
    default: return false;
    }
}

}  // namespace

int main(int argc, char** argv) {
    if (argc != 3 || (std::string_view(argv[2]) != "silent" && std::string_view(argv[2]) != "after-health")) {
        std::fprintf(stderr, "usage: pv-stuck-fuse MOUNTPOINT silent|after-health\n");
        return 2;
    }
    const bool health = std::string_view(argv[2]) == "after-health";
    int dev = ::open("/dev/fuse", O_RDWR | O_CLOEXEC);
    if (dev < 0) return std::perror("pv-stuck-fuse: open /dev/fuse"), 1;
    const std::string options = "fd=" + std::to_string(dev) + ",rootmode=40000,user_id=0,group_id=0,allow_other";
    if (::mount("pvstuck", argv[1], "fuse.pvstuck", MS_NOSUID | MS_NODEV, options.c_str()) != 0)
        return std::perror("pv-stuck-fuse: mount"), 1;
    std::vector<char> buf(1 << 18);
    bool ready = false;
    for (;;) {
        ssize_t n = ::read(dev, buf.data(), buf.size());
        if (n < 0 && (errno == EINTR || errno == ENOENT)) continue;
        if (n < 0) break;  // ENODEV: unmounted or aborted
        if (static_cast<std::size_t>(n) < sizeof(fuse_in_header)) continue;
        fuse_in_header in{};
        std::memcpy(&in, buf.data(), sizeof in);
        if (in.opcode == FUSE_INIT) {
            reply_init(dev, in);
            if (!ready) std::printf("ready\n"), std::fflush(stdout), ready = true;
            continue;
        }
        if (health) answer_health(dev, in, buf.data() + sizeof in);
        // everything else (and everything in silent mode) is read and never answered
    }
    return 0;
}
