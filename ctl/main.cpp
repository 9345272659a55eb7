// procview-ctl: registers procview-runtime with a container engine, the way
// `nvidia-ctk runtime configure` does.
//
//   # procview as a containerd CRI runtime (RuntimeClass handler "procview")
//   $ procview-ctl configure containerd
//   wrote /etc/containerd/conf.d/procview.toml
//   wrote /etc/containerd/config.toml (backup: /etc/containerd/config.toml.procview-backup-20261207T041518Z)
//   containerd: configured; restart containerd to apply (systemctl restart containerd)
//   $ procview-ctl configure containerd
//   containerd: already configured
//   # see first, change nothing
//   $ procview-ctl configure docker --set-as-default --dry-run
//   --- /etc/docker/daemon.json
//   +++ /etc/docker/daemon.json
//   @@ -1,3 +1,12 @@
//    {
//   -  "log-level": "warn"
//   +  "log-level": "warn",
//   +  "runtimes": {
//   +    "procview": {
//   +      "path": "/usr/bin/procview-runtime",
//   +      "runtimeArgs": [
//   +        "--procview-enable"
//   +      ]
//   +    }
//   +  },
//   +  "default-runtime": "procview"
//    }
//   docker: dry run, nothing written
//   # undo exactly what configure added
//   $ procview-ctl remove containerd
//   wrote /etc/containerd/config.toml (backup: /etc/containerd/config.toml.procview-backup-20261207T042001Z)
//   removed /etc/containerd/conf.d/procview.toml (backup: /etc/containerd/conf.d.procview.toml.procview-backup-20261207T042001Z)
//   containerd: removed; restart containerd to apply (systemctl restart containerd)
//   $ procview-ctl --root /tmp/node configure crio     # files under /tmp/node/etc/...
//
// `procview-ctl --help` lists the engines, the files and the options.
#include <iostream>
#include <string_view>
#include <vector>

#include "ctl/apply.hpp"
#include "ctl/options.hpp"

int main(int argc, char** argv) {
    using namespace procview::ctl;
    std::vector<std::string_view> args(argv + 1, argv + argc);
    auto options = parse_options(args);
    if (!options) {
        std::cerr << "procview-ctl: " << options.error().message << "\n\n" << usage();
        return kExitUsage;
    }
    if (options->help) {
        std::cout << usage();
        return kExitOk;
    }
    if (options->version) {
        std::cout << "procview-ctl " << PROCVIEW_VERSION << "\n";
        return kExitOk;
    }
    return run(*options, std::cout, std::cerr);
}
