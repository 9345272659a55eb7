// The keeper's messages, checked before anything acts on them: a fixed set of
// commands, bounded payloads, and an INIT that is a well-formed FUSE_INIT
// request (libfuse parses a replayed INIT without checking its length, so a
// short or forged one must never reach a session). Pure: no I/O.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string_view>

#include "core/result.hpp"

namespace procview {

enum class KeeperCommand { Init, Attach, Serving, Unmount, Seccomp, Inflight, SeccompFds };

// Bounds on what a peer may send: a FUSE_INIT request is under 128 bytes on
// every kernel so far; 4 KiB leaves room for growth and bounds the copy.
inline constexpr std::size_t kMaxInitRequest = 4096;
// A SECCOMP message names the container whose notify fd it carries.
inline constexpr std::size_t kMaxSeccompName = 1024;

// The command named by a message's first line, or nullopt if unknown.
std::optional<KeeperCommand> parse_keeper_command(std::string_view name);

// A FUSE_INIT request as the kernel writes it: fuse_in_header with opcode
// FUSE_INIT and len == the size of `bytes`, major 7, a minor below 1000,
// and a body at least as long as fuse_init_in was in that minor (8 bytes
// before 7.6, 16 before 7.36, 64 since).
Result<void> validate_init_request(std::string_view bytes);

// FUSE_NOTIFY_RESEND (Linux 6.9, protocol 7.40; no libfuse wrapper): a
// server writes this notification to make the kernel queue again every
// request some fd of the connection has read and not answered.
inline constexpr int kFuseNotifyResend = 7;
inline constexpr uint32_t kFuseResendMinor = 40;

// Whether the kernel that sent this (valid) INIT request resends requests:
// it speaks protocol 7.40 or later.
bool init_offers_resend(std::string_view init_request);

// The same, from a kernel release string ("6.9.0-foo" and later), for a
// fresh mount whose INIT has not been read yet.
bool release_offers_resend(std::string_view release);

// A whole message: INIT carries a valid request, SECCOMP a printable name of
// at most kMaxSeccompName bytes, every other command an empty payload.
Result<KeeperCommand> validate_keeper_message(std::string_view command, std::string_view payload);

}  // namespace procview
