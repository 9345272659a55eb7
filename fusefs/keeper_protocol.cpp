#include "fusefs/keeper_protocol.hpp"

#include "core/text.hpp"

#include <algorithm>
#include <optional>

#include <linux/fuse.h>

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>
#include <utility>

namespace procview {

std::optional<KeeperCommand> parse_keeper_command(std::string_view name) {
    static constexpr std::pair<std::string_view, KeeperCommand> kCommands[] = {
        {"INIT", KeeperCommand::Init},
        {"ATTACH", KeeperCommand::Attach},
        {"SERVING", KeeperCommand::Serving},
        {"UNMOUNT", KeeperCommand::Unmount},
        {"SECCOMP", KeeperCommand::Seccomp},
        {"INFLIGHT", KeeperCommand::Inflight},
        {"SECCOMP_FDS", KeeperCommand::SeccompFds},
    };
    for (auto [text, command] : kCommands)
        if (name == text) return command;
    return std::nullopt;
}

namespace {

// The size of fuse_init_in a kernel speaking `minor` sends at least
// (include/uapi/linux/fuse.h: max_readahead and flags since 7.6, flags2 and
// the reserved words since 7.36).
std::size_t init_body_size(uint32_t minor) {
    if (minor < 6) return 8;
    if (minor < 36) return 16;
    return sizeof(fuse_init_in);
}

template <class T>
T read_at(std::string_view bytes, std::size_t offset) {
    T value;
    std::memcpy(&value, bytes.data() + offset, sizeof value);
    return value;
}

}  // namespace

Result<void> validate_init_request(std::string_view bytes) {
    constexpr std::size_t header = sizeof(fuse_in_header);
    if (bytes.size() > kMaxInitRequest)
        return invalid("INIT request of " + std::to_string(bytes.size()) + " bytes, more than " +
                       std::to_string(kMaxInitRequest));
    if (bytes.size() < header + 8) return invalid("INIT request of " + std::to_string(bytes.size()) + " bytes is too short");
    auto in = read_at<fuse_in_header>(bytes, 0);
    if (in.opcode != FUSE_INIT) return invalid("opcode " + std::to_string(in.opcode) + " is not FUSE_INIT");
    if (in.len != bytes.size())
        return invalid("header length " + std::to_string(in.len) + " != message size " + std::to_string(bytes.size()));
    auto major = read_at<uint32_t>(bytes, header + offsetof(fuse_init_in, major));
    auto minor = read_at<uint32_t>(bytes, header + offsetof(fuse_init_in, minor));
    if (major != 7) return invalid("FUSE major version " + std::to_string(major) + ", expected 7");
    if (minor >= 1000) return invalid("implausible FUSE minor version " + std::to_string(minor));
    if (bytes.size() - header < init_body_size(minor))
        return invalid("INIT body of " + std::to_string(bytes.size() - header) + " bytes is short for 7." +
                       std::to_string(minor));
    return {};
}

Result<KeeperCommand> validate_keeper_message(std::string_view command, std::string_view payload) {
    auto parsed = parse_keeper_command(command);
    if (!parsed) return invalid("unknown command `" + std::string(command.substr(0, 32)) + "`");
    if (*parsed == KeeperCommand::Init) {
        if (auto r = validate_init_request(payload); !r) return r.error().context("INIT");
        return *parsed;
    }
    if (*parsed == KeeperCommand::Seccomp) {
        bool printable = std::all_of(payload.begin(), payload.end(), [](char c) { return c >= ' ' && c != 0x7f; });
        if (payload.empty() || payload.size() > kMaxSeccompName || !printable)
            return invalid("SECCOMP needs a printable name of 1 to " + std::to_string(kMaxSeccompName) + " bytes");
        return *parsed;
    }
    if (!payload.empty())
        return invalid(std::string(command) + " with a payload of " + std::to_string(payload.size()) + " bytes");
    return *parsed;
}

bool init_offers_resend(std::string_view init_request) {
    if (!validate_init_request(init_request)) return false;
    auto minor = read_at<uint32_t>(init_request, sizeof(fuse_in_header) + offsetof(fuse_init_in, minor));
    return minor >= kFuseResendMinor;
}

bool release_offers_resend(std::string_view release) {
    auto major = consume_u64(release);
    if (!major || release.empty() || release.front() != '.') return false;
    release.remove_prefix(1);
    auto minor = consume_u64(release);
    return minor && (*major > 6 || (*major == 6 && *minor >= 9));
}

}  // namespace procview
