// Carrying the sysinfo agent across daemons (keeper_seccomp.hpp has the
// keeper's side): the notify fds a previous procviewfs left with the keeper,
// and the one notification it may have been answering when it died.
//
// The in-flight record: a notification received but not yet answered is
// answered by nobody once its daemon dies (the kernel gives it to one reader
// only), and its caller would wait forever. The agent copies every
// notification it receives into a page of shared memory (a memfd the keeper
// holds) and clears it after answering; the next daemon finds it there and
// answers it.
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
    std::atomic<uint32_t> pending{0};  // 1 while `request` is received and not yet answered
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
