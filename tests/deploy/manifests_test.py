#!/usr/bin/env python3
"""The Kubernetes manifests parse and agree with what the image and installer provide.

    manifests_test.py SOURCE_DIR BUILD_DIR

Every YAML document under deploy/kubernetes parses and has the fields its kind
needs; pod specs mount only volumes they declare. The names and paths the
manifests use are not compared with constants here but with what the code
gives: the RuntimeClass handler with the runtime name procview-ctl writes, the
DaemonSet's command with the rootfs build-rootfs.sh makes, and the installed
paths with the files the image's entrypoint writes into a fake host root
(chroot into the rootfs: needs root, else that part is a SKIP line).
"""
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile

import yaml

failures = []


def check(name, ok, detail=""):
    print(("PASS " if ok else "FAIL ") + name + ("" if ok else f": {detail}"))
    if not ok:
        failures.append(name)


def load_documents(directory):
    docs = []
    for fname in sorted(os.listdir(directory)):
        if not fname.endswith(".yaml"):
            continue
        with open(os.path.join(directory, fname)) as f:
            try:
                loaded = [d for d in yaml.safe_load_all(f) if d is not None]
            except yaml.YAMLError as e:
                check(f"{fname} parses", False, str(e))
                continue
        check(f"{fname} parses ({len(loaded)} documents)", len(loaded) > 0, "no document")
        docs += [(fname, d) for d in loaded]
    return docs


def pod_spec(doc):
    kind = doc["kind"]
    if kind == "Pod":
        return doc["spec"]
    if kind in ("DaemonSet", "Deployment", "Job"):
        return doc["spec"]["template"]["spec"]
    return None


def check_document(fname, doc):
    where = f"{fname}: {doc.get('kind')}/{doc.get('metadata', {}).get('name')}"
    check(f"{where} has apiVersion, kind, metadata.name",
          all([doc.get("apiVersion"), doc.get("kind"), doc.get("metadata", {}).get("name")]), repr(doc)[:200])
    spec = pod_spec(doc)
    if spec is None:
        return
    volumes = {v["name"] for v in spec.get("volumes", [])}
    for c in spec["containers"]:
        check(f"{where} container {c['name']} has an image", bool(c.get("image")))
        for m in c.get("volumeMounts", []):
            check(f"{where} mount {m['mountPath']} uses a declared volume", m["name"] in volumes,
                  f"volume {m['name']} not in {sorted(volumes)}")


def by_kind(docs, kind):
    return [d for _, d in docs if d.get("kind") == kind]


def check_daemonset(ds, mountpoint):
    spec = ds["spec"]["template"]["spec"]
    labels = ds["spec"]["template"]["metadata"].get("labels", {})
    selector = ds["spec"]["selector"]["matchLabels"]
    check("DaemonSet selector matches its template's labels",
          all(labels.get(k) == v for k, v in selector.items()), f"{selector} vs {labels}")
    check("DaemonSet hostPID", spec.get("hostPID") is True)
    c = spec["containers"][0]
    check("DaemonSet container privileged", c.get("securityContext", {}).get("privileged") is True)
    check("DaemonSet RollingUpdate maxUnavailable 1",
          ds["spec"]["updateStrategy"] == {"type": "RollingUpdate", "rollingUpdate": {"maxUnavailable": 1}},
          repr(ds["spec"].get("updateStrategy")))
    host_paths = {v["name"]: v["hostPath"]["path"] for v in spec["volumes"] if "hostPath" in v}
    mounts = [m for m in c["volumeMounts"] if host_paths.get(m["name"]) == mountpoint]
    check(f"DaemonSet mounts the host's {mountpoint} (procview.json's mountpoint)", len(mounts) == 1,
          f"hostPaths {host_paths}")
    if mounts:
        m = mounts[0]
        check("mountpoint volume has mountPropagation Bidirectional", m.get("mountPropagation") == "Bidirectional",
              repr(m))
        check("mountpoint is at the same path in the pod", m["mountPath"] == mountpoint, m["mountPath"])
    check("DaemonSet mounts /dev/fuse", "/dev/fuse" in host_paths.values(), repr(host_paths))
    check("DaemonSet shares /run/procview (instance lock, keeper socket)",
          any(host_paths.get(m["name"]) == "/run/procview" and m["mountPath"] == "/run/procview"
              for m in c["volumeMounts"]), repr(host_paths))
    env = {e["name"]: e.get("value") for e in c.get("env", [])}
    keeper_cgroup = env.get("PROCVIEW_KEEPER_CGROUP") or ""
    # fusefs/keeper_host.cpp valid_keeper_cgroup_name: one plain path component.
    check("DaemonSet names the keeper's host cgroup (PROCVIEW_KEEPER_CGROUP, a plain name)",
          re.fullmatch(r"[A-Za-z0-9._-]{1,64}", keeper_cgroup) is not None and keeper_cgroup not in (".", ".."),
          repr(keeper_cgroup))
    check("DaemonSet has no hostNetwork (the keeper is reached on its path socket)",
          not spec.get("hostNetwork"), repr(spec.get("hostNetwork")))
    return c, host_paths


def check_containers_instance(ds, containers_mountpoint):
    """The per-container files' instance: a container of the same pod running
    the entrypoint's `containers` on procview.json's hook.containers_mountpoint."""
    spec = ds["spec"]["template"]["spec"]
    found = [c for c in spec["containers"] if c.get("command", [])[-1:] == ["containers"]]
    check("DaemonSet runs the per-container files' instance (entrypoint `containers`)", len(found) == 1,
          repr([c.get("command") for c in spec["containers"]]))
    if not found:
        return
    c = found[0]
    check("containers instance privileged", c.get("securityContext", {}).get("privileged") is True)
    host_paths = {v["name"]: v["hostPath"]["path"] for v in spec["volumes"] if "hostPath" in v}
    mounts = {host_paths.get(m["name"]): m for m in c.get("volumeMounts", [])}
    m = mounts.get(containers_mountpoint)
    check(f"containers instance mounts the host's {containers_mountpoint} Bidirectional at the same path",
          m is not None and m.get("mountPropagation") == "Bidirectional" and m["mountPath"] == containers_mountpoint,
          repr(m))
    check("containers instance shares /run/procview and /dev/fuse",
          "/run/procview" in mounts and "/dev/fuse" in mounts, repr(sorted(k for k in mounts if k)))
    env = {e["name"]: e.get("value") for e in c.get("env", [])}
    check("containers instance's keeper leaves the pod too (PROCVIEW_KEEPER_CGROUP)",
          bool(env.get("PROCVIEW_KEEPER_CGROUP")), repr(env))


def check_uninstall_job(job, mountpoint):
    spec = job["spec"]["template"]["spec"]
    c = spec["containers"][0]
    check("uninstall Job runs the entrypoint's uninstall", c.get("command", [])[-1:] == ["uninstall"], repr(c.get("command")))
    # procviewfs --unmount authenticates to the keeper: uid 0, host pid
    # namespace, CAP_SYS_ADMIN and CAP_SYS_PTRACE.
    check("uninstall Job hostPID and privileged",
          spec.get("hostPID") is True and c.get("securityContext", {}).get("privileged") is True)
    host_paths = {v["name"]: v["hostPath"]["path"] for v in spec["volumes"] if "hostPath" in v}
    mounted = {host_paths.get(m["name"]): m["mountPath"] for m in c.get("volumeMounts", [])}
    check("uninstall Job mounts /run/procview (the keeper's socket)", mounted.get("/run/procview") == "/run/procview",
          repr(mounted))
    check(f"uninstall Job does not mount {mountpoint} (it would hold a bind of the FUSE mount)",
          mountpoint not in mounted, repr(mounted))


def ctl_runtime_name(ctl):
    """The containerd runtime name procview-ctl writes, from its dry run against an empty root."""
    with tempfile.TemporaryDirectory() as root:
        os.makedirs(f"{root}/etc/containerd")
        out = subprocess.run([ctl, "configure", "containerd", "--dry-run", "--root", root],
                             capture_output=True, text=True, check=True).stdout
    names = set(re.findall(r'containerd\.runtimes\.([A-Za-z0-9_-]+)\]', out))
    check("procview-ctl's dry run names one containerd runtime", len(names) == 1, out)
    return names.pop() if names else None


def build_rootfs(source, build, dest):
    subprocess.run([f"{source}/deploy/image/build-rootfs.sh", "--build-dir", build, dest], check=True,
                   stdout=subprocess.DEVNULL)


def installed_paths_exist(source, build, rootfs, command):
    """Runs the image's entrypoint `install` in the rootfs against a fake host
    root and checks every path it registered exists in that host root."""
    host = f"{rootfs}/host"
    os.makedirs(f"{host}/etc/containerd")
    os.makedirs(f"{host}/etc/crio")
    env = {"PATH": "/bin:/usr/bin", "PROCVIEW_HOST_ROOT": "/host"}
    r = subprocess.run([shutil.which("chroot"), rootfs] + command[:1] + ["install"], env=env, capture_output=True, text=True)
    check("entrypoint install in the rootfs succeeds", r.returncode == 0, r.stderr)
    if r.returncode != 0:
        return ""
    with open(f"{host}/etc/containerd/conf.d/procview.toml") as f:
        toml = f.read()
    binary = re.search(r'BinaryName = "([^"]+)"', toml)
    check("containerd's BinaryName (procview-ctl --runtime-path) is set", binary is not None, toml)
    with open(f"{host}/etc/containers/oci/hooks.d/procview-hook.json") as f:
        hook_path = json.load(f)["hook"]["path"]
    with open(f"{host}/etc/procview/procview.json") as f:
        cfg = yaml.safe_load(re.sub(r"^\s*//.*$", "", f.read(), flags=re.M))
    with open(f"{host}/etc/crio/crio.conf.d/99-procview.conf") as f:
        crio_path = re.search(r'runtime_path = "([^"]+)"', f.read())
    for what, path in [("containerd BinaryName", binary and binary.group(1)),
                       ("CRI-O runtime_path", crio_path and crio_path.group(1)),
                       ("hooks.d entry's hook path", hook_path),
                       ("procview.json runtime.hook_path", cfg["runtime"]["hook_path"])]:
        ok = bool(path) and os.access(host + os.path.realpath(host + path)[len(host):], os.X_OK)
        check(f"{what} {path} is installed on the host", ok, f"{host}{path} missing")
    return toml


def main():
    source, build = sys.argv[1], sys.argv[2]
    docs = load_documents(f"{source}/deploy/kubernetes")
    for fname, d in docs:
        check_document(fname, d)
    with open(f"{source}/config/procview.json") as f:
        shipped = yaml.safe_load(re.sub(r"^\s*//.*$", "", f.read(), flags=re.M))
    mountpoint = shipped["mountpoint"]
    containers_mountpoint = shipped["hook"]["containers_mountpoint"]
    daemonsets = by_kind(docs, "DaemonSet")
    check("one DaemonSet", len(daemonsets) == 1, str(len(daemonsets)))
    container, _ = check_daemonset(daemonsets[0], mountpoint)
    check_containers_instance(daemonsets[0], containers_mountpoint)
    images = {c["image"] for d in docs for c in (pod_spec(d[1]) or {}).get("containers", [])
              if d[1]["kind"] in ("DaemonSet", "Job")}
    check("the DaemonSet and the uninstall Job run the same image", len(images) == 1, repr(images))
    jobs = by_kind(docs, "Job")
    check("one uninstall Job", len(jobs) == 1, str(len(jobs)))
    if jobs:
        check_uninstall_job(jobs[0], mountpoint)

    name = ctl_runtime_name(f"{build}/ctl/procview-ctl")
    classes = by_kind(docs, "RuntimeClass")
    check("RuntimeClass handler is procview-ctl's containerd runtime name",
          len(classes) == 1 and classes[0]["handler"] == name, f"{[c.get('handler') for c in classes]} vs {name}")
    pods = by_kind(docs, "Pod")
    check("an example pod uses the RuntimeClass",
          any(p["spec"].get("runtimeClassName") == classes[0]["metadata"]["name"] for p in pods))

    with tempfile.TemporaryDirectory() as tmp:
        rootfs = f"{tmp}/rootfs"
        build_rootfs(source, build, rootfs)
        command = container["command"]
        check(f"DaemonSet command {command[0]} is an executable of the image",
              os.access(rootfs + command[0], os.X_OK) and not os.path.islink(rootfs + command[0]),
              f"not in {rootfs}")
        if os.geteuid() != 0:
            print("SKIP installed paths: chroot into the rootfs needs root")
        else:
            toml = installed_paths_exist(source, build, rootfs, command)
            check("the runtime the installer registered is the RuntimeClass handler",
                  f"containerd.runtimes.{classes[0]['handler']}]" in toml, toml)
    print(f"{len(failures)} failed")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
