#include <array>

#include "ctl/containerd.hpp"
#include "ctl/docker.hpp"
#include "ctl/drop_ins.hpp"
#include "ctl/engine.hpp"

namespace procview::ctl {

namespace {

const std::array<Engine, 4> kEngines{{
    {"containerd", "/etc/containerd/config.toml", containerd_files, configure_containerd, remove_containerd,
     "restart containerd to apply (systemctl restart containerd)"},
    {"docker", "/etc/docker/daemon.json", docker_files, configure_docker, remove_docker,
     "restart dockerd to apply (systemctl restart docker)"},
    {"crio", "/etc/crio/crio.conf.d/99-procview.conf", drop_in_files, configure_crio, remove_drop_in,
     "restart CRI-O to apply (systemctl restart crio)"},
    {"podman", "/etc/containers/containers.conf.d/99-procview.conf", drop_in_files, configure_podman,
     remove_drop_in, "podman reads it at its next command"},
}};

}  // namespace

std::span<const Engine> engines() { return kEngines; }

const Engine* find_engine(std::string_view name) {
    for (const Engine& e : kEngines)
        if (e.name == name) return &e;
    return nullptr;
}

}  // namespace procview::ctl
