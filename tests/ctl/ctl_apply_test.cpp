// run(): procview-ctl over a scratch tree (--root), the way the binary runs.
#include "ctl/apply.hpp"

#include <sys/stat.h>
#include <unistd.h>

#include <doctest/doctest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <vector>

using namespace procview::ctl;
namespace fs = std::filesystem;

namespace {

struct ScratchRoot {
    fs::path dir;
    ScratchRoot() {
        std::string tmpl = (fs::temp_directory_path() / "pvctl-XXXXXX").string();
        REQUIRE(::mkdtemp(tmpl.data()) != nullptr);
        dir = tmpl;
    }
    ~ScratchRoot() { fs::remove_all(dir); }
    void write(const std::string& rel, const std::string& text) {
        fs::create_directories((dir / rel).parent_path());
        std::ofstream(dir / rel) << text;
    }
    std::string read(const std::string& rel) const {
        std::ifstream in(dir / rel);
        std::stringstream ss;
        ss << in.rdbuf();
        return ss.str();
    }
    // Every file under the root, relative, sorted.
    std::vector<std::string> files() const {
        std::vector<std::string> out;
        for (auto& e : fs::recursive_directory_iterator(dir))
            if (!e.is_directory()) out.push_back(fs::relative(e.path(), dir).string());
        std::sort(out.begin(), out.end());
        return out;
    }
};

struct Outcome {
    int status;
    std::string out, err;
};

Outcome ctl(const ScratchRoot& root, std::vector<std::string_view> args) {
    args.push_back("--root");
    std::string r = root.dir.string();
    args.push_back(r);
    auto options = parse_options(args);
    REQUIRE(options);
    std::ostringstream out, err;
    int status = run(*options, out, err);
    return {status, out.str(), err.str()};
}

const std::string kConfig = "version = 2\n# mine\n[debug]\n  level = \"debug\"\n";

}  // namespace

TEST_CASE("run: configure writes, backs up the file it changed, keeps its mode; twice changes nothing") {
    ScratchRoot root;
    root.write("etc/containerd/config.toml", kConfig);
    fs::permissions(root.dir / "etc/containerd/config.toml", fs::perms(0640));
    auto first = ctl(root, {"configure", "containerd"});
    CHECK(first.status == 0);
    CHECK(first.err.empty());
    auto files = root.files();
    REQUIRE(files.size() == 3);
    CHECK(files[0] == "etc/containerd/conf.d/procview.toml");
    CHECK(files[1] == "etc/containerd/config.toml");
    CHECK(files[2].starts_with("etc/containerd/config.toml.procview-backup-"));
    CHECK(root.read(files[2]) == kConfig);
    CHECK(root.read("etc/containerd/config.toml").find("imports = [") != std::string::npos);
    CHECK((fs::status(root.dir / "etc/containerd/config.toml").permissions() & fs::perms::all) == fs::perms(0640));
    CHECK((fs::status(root.dir / files[2]).permissions() & fs::perms::all) == fs::perms(0640));
    CHECK((fs::status(root.dir / files[0]).permissions() & fs::perms::all) == fs::perms(0644));

    auto second = ctl(root, {"configure", "containerd"});
    CHECK(second.status == 0);
    CHECK(second.out == "containerd: already configured\n");
    CHECK(root.files() == files);  // no new backup
}

TEST_CASE("run: --dry-run prints the diff and leaves every file as it was") {
    ScratchRoot root;
    root.write("etc/containerd/config.toml", kConfig);
    auto before = fs::last_write_time(root.dir / "etc/containerd/config.toml");
    auto r = ctl(root, {"configure", "containerd", "--dry-run"});
    CHECK(r.status == 0);
    std::string config = (root.dir / "etc/containerd/config.toml").string();
    CHECK(r.out.find("--- " + config + "\n+++ " + config + "\n@@ -1,3 +1,4 @@\n+imports = [") != std::string::npos);
    CHECK(r.out.find("--- /dev/null\n+++ " + (root.dir / "etc/containerd/conf.d/procview.toml").string()) !=
          std::string::npos);
    CHECK(r.out.ends_with("containerd: dry run, nothing written\n"));
    CHECK(root.files() == std::vector<std::string>{"etc/containerd/config.toml"});
    CHECK(root.read("etc/containerd/config.toml") == kConfig);
    CHECK(fs::last_write_time(root.dir / "etc/containerd/config.toml") == before);
}

TEST_CASE("run: an unparsable file is named, exit 1, nothing written") {
    ScratchRoot root;
    root.write("etc/containerd/config.toml", "version = 2\n[debug\n");
    auto r = ctl(root, {"configure", "containerd"});
    CHECK(r.status == 1);
    CHECK(r.err.find((root.dir / "etc/containerd/config.toml").string() + ": line 2") != std::string::npos);
    CHECK(r.err.ends_with("; nothing written\n"));
    CHECK(root.files() == std::vector<std::string>{"etc/containerd/config.toml"});
    root.write("etc/docker/daemon.json", "{\"a\": 1,}");
    CHECK(ctl(root, {"configure", "docker"}).status == 1);
    CHECK(root.read("etc/docker/daemon.json") == "{\"a\": 1,}");
}

TEST_CASE("run: remove undoes configure; backups of drop-ins stay out of the drop-in directory") {
    ScratchRoot root;
    root.write("etc/containerd/config.toml", kConfig);
    CHECK(ctl(root, {"configure", "containerd", "--set-as-default"}).status == 0);
    CHECK(ctl(root, {"configure", "crio"}).status == 0);
    auto removed = ctl(root, {"remove", "containerd"});
    CHECK(removed.status == 0);
    CHECK(root.read("etc/containerd/config.toml") == kConfig);
    CHECK(ctl(root, {"remove", "crio"}).status == 0);
    CHECK(fs::is_empty(root.dir / "etc/containerd/conf.d"));
    CHECK(fs::is_empty(root.dir / "etc/crio/crio.conf.d"));
    bool crio_backup = false;
    for (const auto& f : root.files()) crio_backup = crio_backup || f.starts_with("etc/crio/crio.conf.d.99-procview.conf.procview-backup-");
    CHECK(crio_backup);
    auto again = ctl(root, {"remove", "containerd"});
    CHECK(again.out == "containerd: already removed\n");
}

TEST_CASE("run: a symlinked config is refused, not replaced") {
    ScratchRoot root;
    root.write("real.json", "{}");
    fs::create_directories(root.dir / "etc/docker");
    fs::create_symlink(root.dir / "real.json", root.dir / "etc/docker/daemon.json");
    auto r = ctl(root, {"configure", "docker"});
    CHECK(r.status == 1);
    CHECK(r.err.find("is a symlink") != std::string::npos);
    CHECK(fs::is_symlink(root.dir / "etc/docker/daemon.json"));
    CHECK(root.read("real.json") == "{}");
}
