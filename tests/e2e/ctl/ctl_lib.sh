# Helpers for procview-ctl's end-to-end scripts (POSIX sh). Source after lib.sh.

# toml_value SECTION KEY FILE: the value of KEY in the table headed
# [SECTION] of a TOML file as `containerd config dump` prints it (one
# header per table, `key = value` lines; SECTION "" is the root table), e.g.
#   toml_value 'plugins."io.containerd.grpc.v1.cri"' sandbox_image dump.toml
toml_value() {
    awk -v sec="${1:+[$1]}" -v key="$2" '
        { line = $0; sub(/^[ \t]+/, "", line); sub(/[ \t]+$/, "", line) }
        substr(line, 1, 1) == "[" { cur = line; next }
        cur == sec && index(line, key " = ") == 1 { print substr(line, length(key) + 4); exit }
    ' "$3"
}

# files_under DIR: every file below DIR with its checksum, sorted (to show a
# tree did not change).
files_under() { find "$1" -type f -exec cksum {} + | sort -k3; }
