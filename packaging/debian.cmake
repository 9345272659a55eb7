# The Debian package (scripts/package.sh): `cpack -G DEB` over the install
# rules, configured with CMAKE_INSTALL_PREFIX=/usr and
# PROCVIEW_SYSTEMD_UNIT_DIR=/lib/systemd/system. Dependencies come from
# dpkg-shlibdeps (libfuse3-3, libseccomp2, libspdlog1.10, ...); the maintainer
# scripts in packaging/debian/ enable, start, restart, stop and purge the unit.
set(PROCVIEW_PACKAGE_VERSION "${PROJECT_VERSION}" CACHE STRING "Version of the Debian package (scripts/package.sh --version)")

set(CPACK_GENERATOR DEB)
set(CPACK_PACKAGE_NAME procview)
set(CPACK_PACKAGE_VERSION "${PROCVIEW_PACKAGE_VERSION}")
set(CPACK_PACKAGE_CONTACT "procview maintainers <procview@localhost>")
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY "container-aware /proc and /sys views (FUSE), OCI hook and runtime wrapper")
set(CPACK_PACKAGE_DESCRIPTION "procviewfs serves /proc/meminfo, cpuinfo, stat, uptime and /sys CPU files computed from each reader's cgroup limits; procview-hook mounts them into containers (hooks.d for podman and CRI-O); procview-runtime adds the hook for engines without hooks.d; procview-ctl registers the runtime with containerd, Docker, CRI-O and podman.")
set(CPACK_PACKAGING_INSTALL_PREFIX "${CMAKE_INSTALL_PREFIX}")
set(CPACK_STRIP_FILES ON)
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_DEBIAN_PACKAGE_SECTION admin)
set(CPACK_DEBIAN_PACKAGE_PRIORITY optional)
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
set(CPACK_DEBIAN_PACKAGE_GENERATE_SHLIBS OFF)
set(CPACK_DEBIAN_PACKAGE_CONTROL_STRICT_PERMISSION TRUE)
# conffiles: dpkg keeps the administrator's edits across upgrades and
# removes the file only on purge.
set(CPACK_DEBIAN_PACKAGE_CONTROL_EXTRA
    "${CMAKE_CURRENT_LIST_DIR}/debian/conffiles"
    "${CMAKE_CURRENT_LIST_DIR}/debian/postinst"
    "${CMAKE_CURRENT_LIST_DIR}/debian/prerm"
    "${CMAKE_CURRENT_LIST_DIR}/debian/postrm")
include(CPack)
