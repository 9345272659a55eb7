#include "ctl/apply.hpp"

#include <algorithm>
#include <cerrno>
#include <vector>

#include "ctl/diff.hpp"
#include "ctl/file_io.hpp"

namespace procview::ctl {

namespace {

struct Change {
    const FileState* file;
    const std::optional<std::string>* wanted;
};

Result<std::vector<FileState>> read_files(const std::vector<std::string>& paths) {
    std::vector<FileState> files;
    for (const std::string& path : paths) {
        auto text = read_if_exists(path);
        if (!text) return text.error();
        files.push_back({path, std::move(*text)});
    }
    return files;
}

// The files whose text changes, in write order (see Engine::files).
std::vector<Change> changes(const std::vector<FileState>& files, const Wanted& wanted, Action action) {
    std::vector<Change> out;
    for (size_t i = 0; i < files.size(); ++i)
        if (files[i].text != wanted.texts[i]) out.push_back({&files[i], &wanted.texts[i]});
    if (action == Action::configure) std::reverse(out.begin(), out.end());
    return out;
}

void print_diffs(const std::vector<Change>& todo, std::ostream& out) {
    for (const Change& c : todo) {
        const std::string& path = c.file->path;
        out << unified_diff(c.file->text.value_or(""), c.wanted->value_or(""), c.file->text ? path : "/dev/null",
                            *c.wanted ? path : "/dev/null");
    }
}

Result<void> apply_change(const Change& c, const std::string& stamp, std::ostream& out) {
    const std::string& path = c.file->path;
    // Someone else's edit since the read would be lost by the rename.
    auto now = read_if_exists(path);
    if (!now) return now.error();
    if (*now != c.file->text) return make_error(EAGAIN, "`" + path + "` changed while procview-ctl ran; run it again");
    std::string backup;
    if (c.file->text) {
        auto b = back_up(path, *c.file->text, stamp);
        if (!b) return b.error();
        backup = " (backup: " + *b + ")";
    }
    auto done = *c.wanted ? write_atomically(path, **c.wanted) : remove_file(path);
    if (!done) return done;
    out << (*c.wanted ? "wrote " : "removed ") << path << backup << "\n";
    return {};
}

}  // namespace

int run(const Options& options, std::ostream& out, std::ostream& err) {
    const Engine& engine = *options.engine;
    const bool configure = options.action == Action::configure;
    auto files = read_files(engine.files(config_path(options)));
    if (!files) {
        err << "procview-ctl: " << files.error().describe() << "\n";
        return kExitError;
    }
    auto wanted = (configure ? engine.configure : engine.remove)(*files, options.settings);
    if (!wanted) {
        err << "procview-ctl: " << wanted.error().message << "; nothing written\n";
        return kExitError;
    }
    for (const std::string& note : wanted->notes) out << "note: " << note << "\n";
    auto todo = changes(*files, *wanted, options.action);
    if (todo.empty()) {
        out << engine.name << ": already " << (configure ? "configured" : "removed") << "\n";
        return kExitOk;
    }
    if (options.dry_run) {
        print_diffs(todo, out);
        out << engine.name << ": dry run, nothing written\n";
        return kExitOk;
    }
    const std::string stamp = backup_stamp();
    for (const Change& c : todo) {
        auto done = apply_change(c, stamp, out);
        if (!done) {
            err << "procview-ctl: " << done.error().describe() << "\n";
            return kExitError;
        }
    }
    out << engine.name << ": " << (configure ? "configured" : "removed") << "; " << engine.reload_hint << "\n";
    return kExitOk;
}

}  // namespace procview::ctl
