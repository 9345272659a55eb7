#include "fusefs/sysinfo_handoff.hpp"

#include <poll.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <new>
#include <utility>

#include "fusefs/unix_message.hpp"

namespace procview {

namespace {

constexpr std::size_t kRecordSize = 4096;
static_assert(sizeof(InflightSlot) <= kRecordSize);

Result<InflightSlot*> map_record(int fd) {
    void* p = ::mmap(nullptr, kRecordSize, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    if (p == MAP_FAILED) return make_error(errno, "mmap the sysinfo in-flight record");
    return static_cast<InflightSlot*>(p);
}

}  // namespace

Result<InflightRecord> InflightRecord::create() {
    UniqueFd fd(::memfd_create("procview-sysinfo-inflight", MFD_CLOEXEC));
    if (!fd) return make_error(errno, "memfd_create");
    if (::ftruncate(fd.get(), kRecordSize) != 0) return make_error(errno, "ftruncate the sysinfo in-flight record");
    auto slot = map_record(fd.get());
    if (!slot) return slot.error();
    new (*slot) InflightSlot();  // a fresh memfd reads as zeros: pending 0
    return InflightRecord(std::move(fd), *slot);
}

Result<InflightRecord> InflightRecord::adopt(UniqueFd memfd) {
    struct stat st{};
    if (::fstat(memfd.get(), &st) != 0 || static_cast<std::size_t>(st.st_size) < kRecordSize)
        return make_error(EINVAL, "the keeper's sysinfo in-flight record is not one");
    auto slot = map_record(memfd.get());
    if (!slot) return slot.error();
    return InflightRecord(std::move(memfd), *slot);
}

InflightRecord::InflightRecord(InflightRecord&& other) noexcept
    : fd_(std::move(other.fd_)), slot_(std::exchange(other.slot_, nullptr)) {}

InflightRecord::~InflightRecord() {
    if (slot_) ::munmap(slot_, kRecordSize);
}

Result<KeeperSeccompState> fetch_keeper_seccomp(int keeper_fd, int timeout_ms) {
    if (!send_message(keeper_fd, "SECCOMP_FDS", "", -1)) return make_error(errno, "ask the keeper for seccomp fds");
    KeeperSeccompState out;
    for (;;) {
        pollfd p{keeper_fd, POLLIN, 0};
        if (::poll(&p, 1, timeout_ms) <= 0) return make_error(ETIMEDOUT, "the keeper does not hand over seccomp fds");
        auto message = receive_message(keeper_fd);
        if (!message) return make_error(ECONNRESET, "the keeper went away while handing over seccomp fds");
        if (message->command == "SECCOMP_END") return out;
        if (message->command == "INFLIGHT" && message->fd) out.inflight = std::move(message->fd);
        else if (message->command == "SECCOMP" && message->fd)
            out.fds.emplace_back(std::move(message->fd), message->payload);
    }
}

}  // namespace procview
