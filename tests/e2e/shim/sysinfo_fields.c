/* The C program of sysinfo_test.sh's busybox containers (static):
 *   sysinfo_fields               every sysinfo(2) field, one "name value" a line, then
 *                                sysconf(_SC_PHYS_PAGES / _SC_AVPHYS_PAGES) × page size
 *   sysinfo_fields loop MS WANT  calls sysinfo for MS milliseconds and prints
 *                                "calls N failed N enosys N wrong N longest_ms N"
 *                                (wrong: totalram != WANT bytes; longest: the
 *                                slowest call, e.g. one waiting across a restart) */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/sysinfo.h>
#include <time.h>
#include <unistd.h>

static double now_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1000.0 + (double)ts.tv_nsec / 1e6;
}

static int print_fields(void) {
    struct sysinfo si;
    if (sysinfo(&si) != 0) {
        printf("error %s\n", strerror(errno));
        return 1;
    }
    printf("uptime %ld\nloads %lu %lu %lu\ntotalram %lu\nfreeram %lu\nsharedram %lu\nbufferram %lu\n"
           "totalswap %lu\nfreeswap %lu\nprocs %u\ntotalhigh %lu\nfreehigh %lu\nmem_unit %u\n",
           si.uptime, si.loads[0], si.loads[1], si.loads[2], si.totalram, si.freeram, si.sharedram, si.bufferram,
           si.totalswap, si.freeswap, (unsigned)si.procs, si.totalhigh, si.freehigh, si.mem_unit);
    /* glibc's sysconf answers these from sysinfo(2) (totalram, freeram). */
    long page = sysconf(_SC_PAGESIZE);
    printf("phys_pages_bytes %lld\navphys_pages_bytes %lld\n", (long long)sysconf(_SC_PHYS_PAGES) * page,
           (long long)sysconf(_SC_AVPHYS_PAGES) * page);
    /* freeram is live: read again, so the test can bracket _AVPHYS_PAGES. */
    if (sysinfo(&si) == 0) printf("freeram_after %lu\n", si.freeram);
    return 0;
}

static int loop(double ms, unsigned long want) {
    unsigned long calls = 0, failed = 0, enosys = 0, wrong = 0;
    double longest = 0, end = now_ms() + ms;
    while (now_ms() < end) {
        struct sysinfo si;
        double t0 = now_ms();
        int rc = sysinfo(&si);
        double took = now_ms() - t0;
        if (took > longest) longest = took;
        ++calls;
        if (rc != 0) {
            ++failed;
            if (errno == ENOSYS) ++enosys;
        } else if (si.totalram * si.mem_unit != want) {
            ++wrong;
        }
    }
    printf("calls %lu failed %lu enosys %lu wrong %lu longest_ms %.0f\n", calls, failed, enosys, wrong, longest);
    return 0;
}

int main(int argc, char** argv) {
    if (argc == 4 && strcmp(argv[1], "loop") == 0) return loop(atof(argv[2]), strtoul(argv[3], NULL, 10));
    return print_fields();
}
