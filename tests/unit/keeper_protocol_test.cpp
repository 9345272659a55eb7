// fusefs/keeper_protocol and keeper_socket's directory check: what the keeper
// accepts from a peer, and where it is willing to put its socket.
#include <doctest/doctest.h>

#include <fcntl.h>
#include <linux/fuse.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <string>

#include "fusefs/keeper_protocol.hpp"
#include "fusefs/keeper_socket.hpp"

using namespace procview;

namespace {

// A FUSE_INIT request as a kernel speaking 7.`minor` writes it, with a body
// of `body` bytes and the header's len field set to `len` (0: the real size).
std::string init_request(uint32_t minor, std::size_t body, uint32_t opcode = FUSE_INIT, uint32_t major = 7,
                         uint32_t len = 0) {
    std::string bytes(sizeof(fuse_in_header) + body, '\0');
    fuse_in_header in{};
    in.len = len ? len : static_cast<uint32_t>(bytes.size());
    in.opcode = opcode;
    in.unique = 2;
    std::memcpy(bytes.data(), &in, sizeof in);
    fuse_init_in init{};
    init.major = major;
    init.minor = minor;
    init.max_readahead = 131072;
    std::memcpy(bytes.data() + sizeof in, &init, std::min(body, sizeof init));
    return bytes;
}

}  // namespace

TEST_CASE("keeper INIT validation: what kernels send passes") {
    CHECK(validate_init_request(init_request(38, 64)).ok());   // Debian 12's headers
    CHECK(validate_init_request(init_request(44, 64)).ok());   // 6.x kernels
    CHECK(validate_init_request(init_request(44, 128)).ok());  // a future, longer fuse_init_in
    CHECK(validate_init_request(init_request(31, 16)).ok());   // before flags2
    CHECK(validate_init_request(init_request(5, 8)).ok());     // before max_readahead
}

TEST_CASE("FUSE_NOTIFY_RESEND support: protocol 7.40 (Linux 6.9) and later") {
    CHECK(init_offers_resend(init_request(40, 64)));
    CHECK(init_offers_resend(init_request(44, 64)));
    CHECK_FALSE(init_offers_resend(init_request(38, 64)));  // Debian 12's 6.1
    CHECK_FALSE(init_offers_resend(init_request(44, 64, FUSE_LOOKUP)));  // not an INIT at all
    CHECK_FALSE(init_offers_resend(""));
    CHECK(release_offers_resend("6.9.0"));
    CHECK(release_offers_resend("6.18.44-fc-v1300"));
    CHECK(release_offers_resend("7.0"));
    CHECK_FALSE(release_offers_resend("6.1.0-28-amd64"));
    CHECK_FALSE(release_offers_resend("5.15.0"));
    CHECK_FALSE(release_offers_resend("6"));
    CHECK_FALSE(release_offers_resend("garbage"));
}

TEST_CASE("keeper INIT validation: anything else is refused with the reason") {
    auto reason = [](const std::string& bytes) {
        auto r = validate_init_request(bytes);
        return r.ok() ? std::string("accepted") : r.error().message;
    };
    CHECK(reason("") .find("too short") != std::string::npos);
    CHECK(reason("garbage that is not a request at all, but long enough for one").find("not FUSE_INIT") !=
          std::string::npos);
    CHECK(reason(std::string(sizeof(fuse_in_header), '\0')).find("too short") != std::string::npos);
    CHECK(reason(init_request(44, 64, FUSE_LOOKUP)).find("opcode 1 is not FUSE_INIT") != std::string::npos);
    CHECK(reason(init_request(44, 64, FUSE_INIT, 7, 200)).find("header length 200 != message size 104") !=
          std::string::npos);
    CHECK(reason(init_request(44, 64, FUSE_INIT, 8)).find("major version 8") != std::string::npos);
    CHECK(reason(init_request(5000, 64)).find("minor version 5000") != std::string::npos);
    CHECK(reason(init_request(44, 16)).find("short for 7.44") != std::string::npos);  // no flags2: libfuse would read past it
    CHECK(reason(init_request(31, 8)).find("short for 7.31") != std::string::npos);
    CHECK(reason(init_request(44, kMaxInitRequest)).find("more than 4096") != std::string::npos);
}

TEST_CASE("keeper messages: a fixed set of commands, payload only on INIT") {
    CHECK(*validate_keeper_message("ATTACH", "") == KeeperCommand::Attach);
    CHECK(*validate_keeper_message("SERVING", "") == KeeperCommand::Serving);
    CHECK(*validate_keeper_message("UNMOUNT", "") == KeeperCommand::Unmount);
    CHECK(*validate_keeper_message("INIT", init_request(44, 64)) == KeeperCommand::Init);
    CHECK_FALSE(validate_keeper_message("INIT", "x").ok());
    CHECK_FALSE(validate_keeper_message("ATTACH", "x").ok());
    CHECK_FALSE(validate_keeper_message("attach", "").ok());
    CHECK_FALSE(validate_keeper_message("MASTER", "").ok());
    CHECK_FALSE(validate_keeper_message("", "").ok());
}

TEST_CASE("keeper messages: the sysinfo agent's fds, with a bounded printable name on SECCOMP only") {
    CHECK(*validate_keeper_message("SECCOMP", "pvshim-sysinfo-42") == KeeperCommand::Seccomp);
    CHECK(*validate_keeper_message("INFLIGHT", "") == KeeperCommand::Inflight);
    CHECK(*validate_keeper_message("SECCOMP_FDS", "") == KeeperCommand::SeccompFds);
    CHECK(validate_keeper_message("SECCOMP", std::string(kMaxSeccompName, 'a')).ok());
    CHECK_FALSE(validate_keeper_message("SECCOMP", std::string(kMaxSeccompName + 1, 'a')).ok());
    CHECK_FALSE(validate_keeper_message("SECCOMP", "").ok());
    CHECK_FALSE(validate_keeper_message("SECCOMP", std::string("a\nb")).ok());
    CHECK_FALSE(validate_keeper_message("SECCOMP", std::string("a\0b", 3)).ok());
    CHECK_FALSE(validate_keeper_message("INFLIGHT", "x").ok());
    CHECK_FALSE(validate_keeper_message("SECCOMP_FDS", "x").ok());
}

TEST_CASE("the keeper's socket path depends on the mountpoint only, and lives in the private directory") {
    CHECK(keeper_socket_path("/var/lib/procview") == keeper_socket_path("/var/lib/procview"));
    CHECK(keeper_socket_path("/var/lib/procview") != keeper_socket_path("/var/lib/procview2"));
    CHECK(keeper_socket_path("/var/lib/procview").rfind("/run/procview/keeper/", 0) == 0);
    CHECK(mountpoint_hash("/var/lib/procview").size() == 16);
}

TEST_CASE("the keeper's directory: created 0700, refused unless root's, private and real") {
    if (::geteuid() != 0) {
        MESSAGE("SKIP: needs root (directories owned by root and by another uid)");
        return;
    }
    char tmpl[] = "/tmp/pvunit-keeperdir.XXXXXX";
    REQUIRE(::mkdtemp(tmpl));
    std::string base = tmpl, dir = base + "/keeper";
    struct stat st{};

    REQUIRE(ensure_private_dir(dir).ok());
    REQUIRE(::lstat(dir.c_str(), &st) == 0);
    CHECK((st.st_mode & 07777) == 0700);
    CHECK(st.st_uid == 0u);

    auto refused = [&](const char* what) {
        auto r = ensure_private_dir(dir);
        INFO(what << ": " << (r.ok() ? std::string("accepted") : r.error().describe()));
        return !r.ok() && r.error().message.find("refusing to use it") != std::string::npos;
    };
    REQUIRE(::chmod(dir.c_str(), 0777) == 0);
    CHECK(refused("world-writable"));
    REQUIRE(::chmod(dir.c_str(), 0770) == 0);
    CHECK(refused("group-writable"));
    REQUIRE(::chmod(dir.c_str(), 0700) == 0);
    REQUIRE(::chown(dir.c_str(), 65534, 65534) == 0);
    CHECK(refused("owned by nobody"));
    REQUIRE(::rmdir(dir.c_str()) == 0);

    std::string elsewhere = base + "/elsewhere";
    REQUIRE(::mkdir(elsewhere.c_str(), 0700) == 0);
    REQUIRE(::symlink(elsewhere.c_str(), dir.c_str()) == 0);
    CHECK(refused("a symlink to a good directory"));
    REQUIRE(::unlink(dir.c_str()) == 0);

    REQUIRE(::close(::open(dir.c_str(), O_CREAT | O_WRONLY | O_CLOEXEC, 0600)) == 0);
    CHECK(refused("a regular file"));
    REQUIRE(::unlink(dir.c_str()) == 0);

    REQUIRE(::chmod(base.c_str(), 0777) == 0);
    CHECK(refused("a world-writable parent"));
    REQUIRE(::chmod(base.c_str(), 0700) == 0);
    CHECK(ensure_private_dir(dir).ok());

    ::rmdir(dir.c_str());
    ::rmdir(elsewhere.c_str());
    ::rmdir(base.c_str());
}

TEST_CASE("peer authentication: our own process passes, another uid does not") {
    if (::geteuid() != 0) {
        MESSAGE("SKIP: needs root");
        return;
    }
    int sv[2];
    REQUIRE(::socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) == 0);
    CHECK(authenticate_peer(sv[0]).ok());
    ::close(sv[0]);
    ::close(sv[1]);

    // SO_PEERCRED of a socketpair is its creator's: a child that dropped to
    // nobody makes one and passes us an end.
    REQUIRE(::socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) == 0);
    pid_t child = ::fork();
    REQUIRE(child >= 0);
    if (child == 0) {
        ::close(sv[0]);
        if (::setgid(65534) != 0 || ::setuid(65534) != 0) std::_Exit(2);
        int pair[2];
        if (::socketpair(AF_UNIX, SOCK_SEQPACKET, 0, pair) != 0) std::_Exit(3);
        // Send one end, created by uid 65534, to the parent.
        char byte = 'x';
        iovec iov{&byte, 1};
        alignas(cmsghdr) char control[CMSG_SPACE(sizeof(int))]{};
        msghdr msg{};
        msg.msg_iov = &iov;
        msg.msg_iovlen = 1;
        msg.msg_control = control;
        msg.msg_controllen = sizeof control;
        cmsghdr* cmsg = CMSG_FIRSTHDR(&msg);
        cmsg->cmsg_level = SOL_SOCKET;
        cmsg->cmsg_type = SCM_RIGHTS;
        cmsg->cmsg_len = CMSG_LEN(sizeof(int));
        std::memcpy(CMSG_DATA(cmsg), &pair[0], sizeof(int));
        if (::sendmsg(sv[1], &msg, 0) != 1) std::_Exit(4);
        char done;
        (void)!::read(sv[1], &done, 1);  // stay alive until the parent checked
        std::_Exit(0);
    }
    ::close(sv[1]);
    char byte;
    iovec iov{&byte, 1};
    alignas(cmsghdr) char control[CMSG_SPACE(sizeof(int))]{};
    msghdr msg{};
    msg.msg_iov = &iov;
    msg.msg_iovlen = 1;
    msg.msg_control = control;
    msg.msg_controllen = sizeof control;
    REQUIRE(::recvmsg(sv[0], &msg, 0) == 1);
    int theirs = -1;
    std::memcpy(&theirs, CMSG_DATA(CMSG_FIRSTHDR(&msg)), sizeof theirs);
    auto r = authenticate_peer(theirs);
    CHECK_FALSE(r.ok());
    if (!r.ok()) CHECK(r.error().message.find("uid 65534, not root") != std::string::npos);
    ::close(theirs);
    ::close(sv[0]);
    int status = 0;
    ::waitpid(child, &status, 0);
    CHECK(WEXITSTATUS(status) == 0);
}
