// pv-restart-reader — the reader loop of tests/e2e/hook/restart_test.sh,
// linked statically so it runs inside a busybox container (whose `date` has
// no sub-second clock).
//
//   # pv-restart-reader now
//   81234567890123
//   # pv-restart-reader loop /tmp/reads.log 2000
//   (runs until killed; one line per read appended to the log:)
//   81234567891000 81234567952000 196608 1
//   81234567954000 81234589012000 E103 1
//
// A log line is: the CLOCK_MONOTONIC time (ns) the read started, the time
// it ended, MemTotal of /proc/meminfo in kB, and the number of CPUs in
// /sys/devices/system/cpu/online; a failed read is "E<errno>", a file
// without the value "E0". Containers share the host's monotonic clock (no
// time namespace), so `now` on the host orders its events against the logs.
// Each line is one write(2) on an O_APPEND fd: the host reads it as soon as
// it is written and nothing is lost when the container is killed.
#include <fcntl.h>
#include <time.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

namespace {

int64_t monotonic_ns() {
    timespec ts{};
    ::clock_gettime(CLOCK_MONOTONIC, &ts);
    return static_cast<int64_t>(ts.tv_sec) * 1'000'000'000 + ts.tv_nsec;
}

// The whole file, opened and read to EOF per call (what `cat` and `free`
// do); -errno on failure.
int read_whole(const char* path, std::string& out) {
    out.clear();
    int fd = ::open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return -errno;
    char buf[8192];
    int rc = 0;
    for (;;) {
        ssize_t n = ::read(fd, buf, sizeof buf);
        if (n == 0) break;
        if (n < 0) {
            if (errno == EINTR) continue;
            rc = -errno;
            break;
        }
        out.append(buf, static_cast<size_t>(n));
    }
    ::close(fd);
    return rc;
}

// "MemTotal:  196608 kB" → "196608"; "E0" when the line is missing.
std::string memtotal_field(const std::string& text) {
    const char* key = "MemTotal:";
    size_t at = text.find(key);
    if (at == std::string::npos || (at != 0 && text[at - 1] != '\n')) return "E0";
    const char* p = text.c_str() + at + std::strlen(key);
    while (*p == ' ' || *p == '\t') ++p;
    std::string digits;
    while (*p >= '0' && *p <= '9') digits += *p++;
    return digits.empty() ? "E0" : digits;
}

// "0-1,3\n" → "3"; "E0" when the text is not a range list.
std::string cpu_count_field(const std::string& text) {
    long count = 0;
    const char* p = text.c_str();
    while (*p && *p != '\n') {
        char* end = nullptr;
        long first = std::strtol(p, &end, 10);
        if (end == p) return "E0";
        long last = first;
        p = end;
        if (*p == '-') {
            const char* q = p + 1;
            last = std::strtol(q, &end, 10);
            if (end == q) return "E0";
            p = end;
        }
        if (last < first) return "E0";
        count += last - first + 1;
        if (*p == ',') ++p;
    }
    return count > 0 ? std::to_string(count) : "E0";
}

std::string field(int rc, const std::string& text, std::string (*extract)(const std::string&)) {
    return rc < 0 ? "E" + std::to_string(-rc) : extract(text);
}

[[noreturn]] void loop(const char* log_path, long pause_us) {
    int log = ::open(log_path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
    if (log < 0) {
        std::perror(log_path);
        std::exit(2);
    }
    std::string meminfo, online;
    for (;;) {
        int64_t start = monotonic_ns();
        int mem_rc = read_whole("/proc/meminfo", meminfo);
        int cpu_rc = read_whole("/sys/devices/system/cpu/online", online);
        int64_t end = monotonic_ns();
        std::string line = std::to_string(start) + " " + std::to_string(end) + " " + field(mem_rc, meminfo, memtotal_field) +
                           " " + field(cpu_rc, online, cpu_count_field) + "\n";
        // A short write would leave a torn line: the analysis ignores lines
        // without four fields.
        (void)!::write(log, line.data(), line.size());
        if (pause_us > 0) ::usleep(static_cast<useconds_t>(pause_us));
    }
}

}  // namespace

int main(int argc, char** argv) {
    if (argc == 2 && std::strcmp(argv[1], "now") == 0) {
        std::printf("%lld\n", static_cast<long long>(monotonic_ns()));
        return 0;
    }
    if (argc == 4 && std::strcmp(argv[1], "loop") == 0) loop(argv[2], std::atol(argv[3]));
    std::fprintf(stderr, "usage: %s now | loop LOGFILE PAUSE_US\n", argv[0]);
    return 2;
}
