// Keeps the kernel's idea of a served file's size at its upper bound.
//
// Since Linux 6.9 a FUSE splice read (sendfile: busybox cat) goes through the
// page cache and stops at the inode's size; after a short read there the
// kernel shrinks the size to that reader's length. One inode serves every
// container, so the next container's longer file (more CPUs in cpuinfo)
// would be cut short. After a short read, this restores the size with a
// one-byte FUSE_NOTIFY_STORE at the bound's last byte, which extends i_size
// (an empty store does not) and caches a page no content reaches. It runs on its own thread, a little after the read,
// because the shrink happens after our reply and a notification must never
// be sent from inside a request handler.
#pragma once

#include <fuse_lowlevel.h>

#include <chrono>
#include <condition_variable>
#include <map>
#include <mutex>
#include <thread>

namespace procview {

class SizeKeeper {
public:
    SizeKeeper() = default;
    ~SizeKeeper();
    SizeKeeper(const SizeKeeper&) = delete;
    SizeKeeper& operator=(const SizeKeeper&) = delete;

    void start(fuse_session* session);
    void stop();
    // A read of `ino` ended short: restore its size to `bound` soon.
    void short_read(fuse_ino_t ino, off_t bound);

private:
    void run();
    fuse_session* session_ = nullptr;
    std::mutex mu_;
    std::condition_variable wake_;
    std::map<fuse_ino_t, off_t> pending_;
    bool stopping_ = false;
    std::thread thread_;
};

}  // namespace procview
