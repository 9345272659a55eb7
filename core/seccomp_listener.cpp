// parse_listener_message: every field checked, nothing thrown.
#include "core/seccomp_listener.hpp"

#include <limits>
#include <nlohmann/json.hpp>

#include "core/json_depth.hpp"

namespace procview {

Result<ListenerMessage> parse_listener_message(std::string_view json) {
    if (json.size() > kMaxListenerMessage) return invalid("listener message larger than 256 KiB");
    if (auto depth = check_json_depth(json); !depth) return depth.error().context("listener message");
    auto root = nlohmann::json::parse(json.begin(), json.end(), nullptr, /*allow_exceptions=*/false);
    if (root.is_discarded() || !root.is_object()) return invalid("listener message is not a JSON object");
    ListenerMessage out;
    auto version = root.find("ociVersion");
    if (version == root.end() || !version->is_string()) return invalid("listener message: no string `ociVersion`");
    out.oci_version = version->get<std::string>();
    auto fds = root.find("fds");
    if (fds == root.end() || !fds->is_array() || fds->size() != 1 || !(*fds)[0].is_string() ||
        (*fds)[0].get<std::string>() != "seccompFd")
        return invalid("listener message: `fds` must be [\"seccompFd\"]");
    auto pid = root.find("pid");
    if (pid == root.end() || !pid->is_number_integer() || pid->get<int64_t>() <= 0 ||
        pid->get<int64_t>() > std::numeric_limits<pid_t>::max())
        return invalid("listener message: `pid` must be a positive integer");
    out.pid = static_cast<pid_t>(pid->get<int64_t>());
    if (auto metadata = root.find("metadata"); metadata != root.end()) {
        if (!metadata->is_string()) return invalid("listener message: `metadata` must be a string");
        out.metadata = metadata->get<std::string>();
    }
    auto state = root.find("state");
    if (state == root.end() || !state->is_object()) return invalid("listener message: no `state` object");
    auto id = state->find("id");
    if (id == state->end() || !id->is_string()) return invalid("listener message: `state.id` must be a string");
    out.id = id->get<std::string>();
    return out;
}

}  // namespace procview
