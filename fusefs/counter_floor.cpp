#include "fusefs/counter_floor.hpp"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <optional>
#include <type_traits>
#include <vector>

#include "core/stat_record.hpp"

namespace procview {
namespace {

constexpr char kMagic[8] = {'p', 'v', 'f', 'l', 'o', 'o', 'r', '1'};
constexpr std::size_t kHeader = 16;  // magic, CPU count
static_assert(std::is_trivially_copyable_v<CpuTimes> && sizeof(CpuTimes) == 10 * sizeof(uint64_t));

std::size_t file_length(std::size_t cpus) { return kHeader + cpus * sizeof(CpuTimes); }

// The CPUs a valid file holds, nullopt for anything else.
std::optional<std::vector<CpuTimes>> read_floor(int fd) {
    struct stat st{};
    char header[kHeader];
    if (::fstat(fd, &st) != 0 || st.st_size < static_cast<off_t>(kHeader)) return std::nullopt;
    if (::lseek(fd, 0, SEEK_SET) != 0 || ::read(fd, header, kHeader) != static_cast<ssize_t>(kHeader)) return std::nullopt;
    uint64_t count = 0;
    std::memcpy(&count, header + sizeof kMagic, sizeof count);
    if (std::memcmp(header, kMagic, sizeof kMagic) != 0 || count > kMaxRecordCpus ||
        st.st_size != static_cast<off_t>(file_length(count)))
        return std::nullopt;
    std::vector<CpuTimes> cpus(count);
    const auto bytes = static_cast<ssize_t>(count * sizeof(CpuTimes));
    if (::read(fd, cpus.data(), static_cast<std::size_t>(bytes)) != bytes) return std::nullopt;
    return cpus;
}

Result<void> write_all_at_start(int fd, const std::vector<char>& bytes) {
    if (::lseek(fd, 0, SEEK_SET) != 0) return make_error(errno, "seek");
    std::size_t done = 0;
    while (done < bytes.size()) {
        ssize_t n = ::write(fd, bytes.data() + done, bytes.size() - done);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) return make_error(n < 0 ? errno : EIO, "write");
        done += static_cast<std::size_t>(n);
    }
    return {};
}

}  // namespace

CounterFloor::CounterFloor(void* base, std::size_t length, std::size_t count)
    : base_(base), length_(length), cpus_(reinterpret_cast<CpuTimes*>(static_cast<char*>(base) + kHeader)),
      count_(count) {}

CounterFloor::~CounterFloor() { ::munmap(base_, length_); }

Result<std::unique_ptr<CounterFloor>> CounterFloor::map(int dir, const std::string& name, std::size_t cpus) {
    if (cpus == 0 || cpus > kMaxRecordCpus) return invalid("counter floor: " + std::to_string(cpus) + " CPUs");
    UniqueFd fd(::openat(dir, name.c_str(), O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600));
    if (!fd) return make_error(errno, "open " + name);
    auto kept = read_floor(fd.get());
    if (!kept || kept->size() != cpus) {
        // A new file of exactly this length (a longer one cannot be cut
        // down in place): the CPUs both have keep their floor.
        fd.reset();
        ::unlinkat(dir, name.c_str(), 0);
        fd = UniqueFd(::openat(dir, name.c_str(), O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600));
        if (!fd) return make_error(errno, "create " + name);
        std::vector<char> bytes(file_length(cpus), 0);
        uint64_t count = cpus;
        std::memcpy(bytes.data(), kMagic, sizeof kMagic);
        std::memcpy(bytes.data() + sizeof kMagic, &count, sizeof count);
        if (kept) std::memcpy(bytes.data() + kHeader, kept->data(), std::min(kept->size(), cpus) * sizeof(CpuTimes));
        if (auto r = write_all_at_start(fd.get(), bytes); !r) return make_error(r.error().errnum, "write " + name);
    }
    const std::size_t length = file_length(cpus);
    void* base = ::mmap(nullptr, length, PROT_READ | PROT_WRITE, MAP_SHARED, fd.get(), 0);
    if (base == MAP_FAILED) return make_error(errno, "map " + name);
    return std::unique_ptr<CounterFloor>(new CounterFloor(base, length, cpus));
}

}  // namespace procview
