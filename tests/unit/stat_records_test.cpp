// StatRecordStore on a temp directory: what a restarted daemon reads back,
// and what it refuses or removes. Keys of live containers are this test
// process itself (its pid namespace, pid and start time).
#include <doctest/doctest.h>
#include <fcntl.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fstream>
#include <sstream>
#include <string>

#include <spdlog/sinks/null_sink.h>

#include "core/cgroup_files.hpp"
#include "fusefs/stat_records.hpp"
#include "platform/fs.hpp"

using namespace procview;

namespace {

struct TempDir {
    std::string path;
    TempDir() {
        char tmpl[] = "/tmp/pvunit-records.XXXXXX";
        path = ::mkdtemp(tmpl);
    }
    ~TempDir() { (void)!std::system(("rm -rf '" + path + "'").c_str()); }
    [[nodiscard]] std::string store() const { return path + "/store"; }
    [[nodiscard]] bool has(const std::string& name) const { return ::access((store() + "/" + name).c_str(), F_OK) == 0; }
    void write(const std::string& name, const std::string& text) const {
        std::ofstream(store() + "/" + name, std::ios::trunc) << text;
    }
};

std::shared_ptr<spdlog::logger> quiet() { return std::make_shared<spdlog::logger>("t", std::make_shared<spdlog::sinks::null_sink_mt>()); }

StatRecordKey own_key() {
    std::string link = read_link_at(AT_FDCWD, "/proc/self/ns/pid").value();
    uint64_t ns = std::stoull(link.substr(link.find('[') + 1));
    auto stat = parse_proc_pid_stat(read_file("/proc/self/stat").value()).value();
    return StatRecordKey{"/pvunit/ctr", ns, ::getpid(), stat.start_ticks};
}

StatRecord record_for(const StatRecordKey& key) {
    StatRecord r;
    r.key = key;
    r.baseline.total = CpuUsage{27'000'000'000, 3'000'000'000};
    r.capacity = CapacityIntegral::State{2.0, 1.5, 3.0};
    return r;
}

}  // namespace

TEST_CASE("StatRecordStore: a saved record reads back in the next instance; a clean stop removes all") {
    TempDir dir;
    const StatRecord mine = record_for(own_key());
    {
        auto store = StatRecordStore::open(dir.store(), 16, quiet());
        REQUIRE(store);
        CHECK_FALSE((*store)->load(mine.key));
        (*store)->save(mine);
        CHECK(dir.has(stat_record_name(mine.key)));
        CHECK_FALSE(dir.has("tmp." + stat_record_name(mine.key)));
        struct stat st{};
        REQUIRE(::stat(dir.store().c_str(), &st) == 0);
        CHECK((st.st_mode & 0777) == 0700);
    }  // a kill -9: the directory stays
    auto next = StatRecordStore::open(dir.store(), 16, quiet());
    REQUIRE(next);
    auto back = (*next)->load(mine.key);
    REQUIRE(back);
    CHECK(*back == mine);
    // The same init in another cgroup (it moved): not its record; removed.
    StatRecordKey moved = mine.key;
    moved.cgroup = "/elsewhere";
    CHECK_FALSE((*next)->load(moved));
    CHECK_FALSE(dir.has(stat_record_name(mine.key)));
    (*next)->save(mine);
    (*next)->remove_all();
    CHECK(::access(dir.store().c_str(), F_OK) != 0);
}

TEST_CASE("StatRecordStore: garbage is not read back; dead containers' records are pruned; the count is bounded") {
    TempDir dir;
    const StatRecord mine = record_for(own_key());
    StatRecordKey dead = mine.key;
    dead.init_start_ticks += 1;  // the same pid, another start: a recycled pid
    StatRecordKey gone = mine.key;
    gone.init_pid = 0x3ffffff0;  // past pid_max: no such process
    ::mkdir(dir.store().c_str(), 0700);
    dir.write(stat_record_name(dead), format_stat_record(record_for(dead)).value());
    dir.write(stat_record_name(gone), format_stat_record(record_for(gone)).value());
    dir.write("tmp." + stat_record_name(gone), "procview-stat-rec");  // a write cut short by a kill
    dir.write(stat_record_name(mine.key), "procview-stat-record 1\ncgroup /pvunit/ctr\n");  // cut short
    dir.write("README", "not ours");

    auto store = StatRecordStore::open(dir.store(), 2, quiet());
    REQUIRE(store);
    CHECK_FALSE(dir.has(stat_record_name(dead)));
    CHECK_FALSE(dir.has(stat_record_name(gone)));
    CHECK_FALSE(dir.has("tmp." + stat_record_name(gone)));
    CHECK(dir.has("README"));  // not a record name: left alone
    CHECK(dir.has(stat_record_name(mine.key)));
    CHECK_FALSE((*store)->load(mine.key));  // garbage: refused and removed
    CHECK_FALSE(dir.has(stat_record_name(mine.key)));

    // At most 2 records: a third container's is not kept, an existing one is still replaced.
    StatRecordKey other = mine.key, third = mine.key;
    other.cgroup = third.cgroup = "/pvunit/other";
    other.pidns += 1;
    third.pidns += 2;
    (*store)->save(mine);
    (*store)->save(record_for(other));
    (*store)->save(record_for(third));
    CHECK(dir.has(stat_record_name(other)));
    CHECK_FALSE(dir.has(stat_record_name(third)));
    StatRecord changed = mine;
    changed.capacity.capacity = 0.5;
    (*store)->save(changed);
    CHECK((*store)->load(mine.key)->capacity.capacity == 0.5);
    // `other` names a pid namespace this process is not in: pruned as dead.
    (*store)->prune();
    CHECK_FALSE(dir.has(stat_record_name(other)));
    CHECK(dir.has(stat_record_name(mine.key)));
}

TEST_CASE("StatRecordStore: refuses a directory others can write") {
    TempDir dir;
    ::mkdir(dir.store().c_str(), 0777);
    ::chmod(dir.store().c_str(), 0777);
    auto store = StatRecordStore::open(dir.store(), 4, quiet());
    CHECK_FALSE(store);
}

TEST_CASE("counter floor: what one instance stored, the next maps again; only with a record; pruned with it") {
    TempDir dir;
    const auto key = own_key();
    const std::string file = "floor." + stat_record_name(key);
    {
        auto store = StatRecordStore::open(dir.store(), 16, quiet()).value();
        CHECK(store->map_floor(key, 2) == nullptr);  // no record kept: no floor either
        store->save(record_for(key));
        auto floor = store->map_floor(key, 2);
        REQUIRE(floor);
        REQUIRE(floor->cpus().size() == 2);
        CHECK(floor->cpus()[1] == CpuTimes{});
        std::vector<CpuTimes> shown{{.user = 7, .idle = 90}, {.system = 3, .idle = 95}};
        apply_floor(shown, floor->cpus());
        // Killed here: nothing was written but the stores into the mapping.
    }
    {
        auto store = StatRecordStore::open(dir.store(), 16, quiet()).value();
        REQUIRE(store->load(key));
        auto floor = store->map_floor(key, 2);
        REQUIRE(floor);
        std::vector<CpuTimes> lower{{.user = 6, .idle = 91}, {.system = 2, .idle = 94}};
        apply_floor(lower, floor->cpus());
        CHECK(lower[0] == CpuTimes{.user = 7, .idle = 91});
        CHECK(lower[1] == CpuTimes{.system = 3, .idle = 95});
        // One CPU more (a wider cpuset): the CPUs both have keep their floor.
        floor.reset();
        auto wider = store->map_floor(key, 3);
        REQUIRE(wider);
        CHECK(wider->cpus()[0] == CpuTimes{.user = 7, .idle = 91});
        CHECK(wider->cpus()[2] == CpuTimes{});
    }
    // A damaged file starts from zeros, never from its bytes.
    dir.write(file, "pvfloor1 garbage");
    {
        auto store = StatRecordStore::open(dir.store(), 16, quiet()).value();
        REQUIRE(store->load(key));
        auto floor = store->map_floor(key, 3);
        REQUIRE(floor);
        CHECK(floor->cpus()[0] == CpuTimes{});
    }
    // A dead container's floor goes with its record.
    StatRecordKey dead = key;
    dead.init_start_ticks += 1;
    dir.write("floor." + stat_record_name(dead), "x");
    auto store = StatRecordStore::open(dir.store(), 16, quiet()).value();
    CHECK_FALSE(dir.has("floor." + stat_record_name(dead)));
    CHECK(dir.has(file));
    store->remove_all();
    CHECK_FALSE(dir.has(file));
}
