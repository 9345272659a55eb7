// Command messages with an optional fd over a SOCK_SEQPACKET unix socket
// (the keeper's protocol).
#pragma once

#include <optional>
#include <string>

#include "platform/unique_fd.hpp"

namespace procview {

struct UnixMessage {
    std::string command;
    std::string payload;
    UniqueFd fd;  // received with SCM_RIGHTS, if any
};

// "COMMAND\n" + payload, with fd_to_send passed along when >= 0. False on error.
bool send_message(int sock, const std::string& command, const std::string& payload, int fd_to_send);
// nullopt on EOF, error, or a message over 64 KiB or with more than one fd.
std::optional<UnixMessage> receive_message(int sock);

}  // namespace procview
