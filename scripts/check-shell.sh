#!/usr/bin/env bash
# Every shell script in the tree parses: `bash -n` (or `sh -n` for POSIX sh
# scripts) and shellcheck at error level. Run by .ci/run and by ctest.
#   scripts/check-shell.sh        # ends with "N passed, N failed"
set -uo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root" || exit 1
command -v shellcheck >/dev/null || { echo "check-shell: shellcheck not found (apt-get install shellcheck)" >&2; exit 2; }

# Shell scripts: *.sh, plus files whose first line names a shell.
scripts=()
while IFS= read -r f; do
  case "$f" in
    *.sh) scripts+=("$f") ;;
    *) head -n1 "$f" 2>/dev/null | grep -qE '^#!.*/(env )?(ba)?sh( |$)' && scripts+=("$f") ;;
  esac
done < <(git ls-files 2>/dev/null || find . -type f ! -path './.git/*' ! -path './build*' | sed 's|^\./||')

passed=0
failed=0
for f in "${scripts[@]}"; do
  [[ -f "$f" ]] || continue
  # Files without a shebang are sourced or run with `sh` (the e2e and VM
  # scripts also run under busybox sh): POSIX sh.
  first="$(head -n1 "$f")"
  case "$first" in
    '#!'*bash*) shell=bash ;;
    *) shell=sh ;;
  esac
  if ! err="$("$shell" -n "$f" 2>&1)"; then
    echo "FAIL $f: $shell -n: $err"
    failed=$((failed + 1))
  elif ! err="$(shellcheck -S error -x -s "$shell" "$f" 2>&1)"; then
    echo "FAIL $f: shellcheck:"
    printf '%s\n' "$err" | sed 's/^/    /'
    failed=$((failed + 1))
  else
    passed=$((passed + 1))
  fi
done
echo "$passed passed, $failed failed"
((failed == 0))
