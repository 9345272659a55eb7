// The keeper's messages, checked before anything acts on them: a fixed set of
// commands, bounded payloads, and an INIT that is a well-formed FUSE_INIT
// request (libfuse parses a replayed INIT without checking its length, so a
// short or forged one must never reach a session). Pure: no I/O.
#pragma once

#include <cstddef>
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

// A whole message: INIT carries a valid request, SECCOMP a printable name of
// at most kMaxSeccompName bytes, every other command an empty payload.
Result<KeeperCommand> validate_keeper_message(std::string_view command, std::string_view payload);

}  // namespace procview
