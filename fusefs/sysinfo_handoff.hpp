// Carrying the sysinfo agent across daemons (keeper_seccomp.hpp has the
// keeper's side): the notify fds a previous procviewfs left with the keeper,
// and the one notification it may have been answering when it died.
//
// The in-flight record: a notification received but not yet answered is
// answered by nobody once its daemon dies (the kernel gives it to one reader
// only), and its caller would wait forever. The agent receives every
// notification straight into a page of shared memory (a memfd the keeper
// holds) and clears it after answering; the next daemon finds it there and
// answers it. Straight into it, not copied after: the kernel marks the
// notification sent and copies it out in the same ioctl, and a SIGKILL that
// arrives meanwhile takes effect on the way back to user space, so any copy
// made after the ioctl returns can be missed (about 1 kill -9 in 30 of a
// daemon answering a loop of calls did).
#pragma once

#include <linux/seccomp.h>

#include <atomic>
#include <optional>
#include <string>
#include <vector>

#include "core/result.hpp"
#include "platform/unique_fd.hpp"

namespace procview {

struct InflightSlot {
    // 1 from just before SECCOMP_IOCTL_NOTIF_RECV until the answer is sent.
    std::atomic<uint32_t> pending{0};
    // Zeroed before each receive, which the kernel writes into; a zero
    // `data.arch` (no audit arch is 0) means nothing was received.
    seccomp_notif request;
};

class InflightRecord {
public:
    // A new record (memfd_create, before the seccomp filter), or one received from the keeper.
    static Result<InflightRecord> create();
    static Result<InflightRecord> adopt(UniqueFd memfd);
    InflightRecord(InflightRecord&& other) noexcept;
    InflightRecord& operator=(InflightRecord&&) = delete;
    ~InflightRecord();

    [[nodiscard]] InflightSlot* slot() const { return slot_; }
    [[nodiscard]] int fd() const { return fd_.get(); }

private:
    InflightRecord(UniqueFd fd, InflightSlot* slot) : fd_(std::move(fd)), slot_(slot) {}
    UniqueFd fd_;
    InflightSlot* slot_ = nullptr;
};

struct KeeperSeccompState {
    std::optional<UniqueFd> inflight;
    std::vector<std::pair<UniqueFd, std::string>> fds;  // notify fd, container name
};

// Asks the keeper for what it holds ("SECCOMP_FDS"), waiting at most
// `timeout_ms` for each message (a keeper from before this protocol never answers).
Result<KeeperSeccompState> fetch_keeper_seccomp(int keeper_fd, int timeout_ms = 1000);

}  // namespace procview
