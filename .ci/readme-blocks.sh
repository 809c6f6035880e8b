#!/usr/bin/env bash
# Runs README.md's shell blocks that promise to work as written: each ```sh block whose fence
# follows a line `<!-- runnable: <name> -->`. They run in README order (the install block first),
# each as a new user would run it: from the repository root, with bash -euo pipefail, under a
# time limit, in a fresh HOME, and with GOPATH in a temporary directory, so that
# "$(go env GOPATH)/bin/powerbi-mcp" is the binary the install block just built and never one
# installed earlier. Every block's name, result and output are printed; any failure fails the run.
#
#   .ci/readme-blocks.sh            (README_BLOCK_TIMEOUT=<seconds> changes the limit, 300 by default)
set -euo pipefail
cd "$(dirname "$0")/.."
limit=${README_BLOCK_TIMEOUT:-300}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

blocks="$work/blocks"
mkdir -p "$blocks"
awk -v dir="$blocks" '
  function fail(msg) { printf "README.md:%d: %s\n", NR, msg > "/dev/stderr"; bad = 1; exit 1 }
  inblock && /^```[[:space:]]*$/ { inblock = 0; close(file); next }
  inblock { print > file; next }
  want { if ($0 !~ /^```(sh|bash)[[:space:]]*$/) fail("a runnable marker must be followed by a ```sh fence"); \
         want = 0; inblock = 1; next }
  /^<!-- runnable: [a-z0-9-]+ -->[[:space:]]*$/ {
    name = $3
    if (name in seen) fail("two runnable blocks are named " name)
    seen[name] = 1
    file = sprintf("%s/%02d-%s.sh", dir, ++n, name)
    want = 1
  }
  END { if (!bad && (want || inblock)) fail("the last runnable block is not closed") }
' README.md
shopt -s nullglob
scripts=("$blocks"/*.sh)
[ ${#scripts[@]} -gt 0 ] || { echo "README.md has no block marked <!-- runnable: name -->"; exit 1; }

# Go's caches and settings and npm's settings are the user's own, so a block builds as a second
# build on this machine does; the npm cache is not, so `npx -y` has to install the Inspector as it
# would for a newcomer.
export GOMODCACHE="$(go env GOMODCACHE)" GOCACHE="$(go env GOCACHE)" GOENV="$(go env GOENV)"
export npm_config_userconfig="${npm_config_userconfig:-${NPM_CONFIG_USERCONFIG:-$HOME/.npmrc}}"
export GOPATH="$work/gopath" HOME="$work/home"
unset GOBIN
mkdir -p "$HOME"

failed=0
for script in "${scripts[@]}"; do
  name=$(basename "$script" .sh)
  name=${name#*-}
  printf -- '-- %s\n' "$name"
  sed 's/^/   $ /' "$script"
  start=$SECONDS
  rc=0
  timeout -k 10 "$limit" bash -euo pipefail "$script" </dev/null >"$work/out" 2>&1 || rc=$?
  took=$((SECONDS - start))
  if [ "$rc" -eq 0 ]; then
    if [ "$(wc -l <"$work/out")" -le 8 ]; then cat "$work/out"; else head -n 4 "$work/out"; echo ...; tail -n 3 "$work/out"; fi |
      sed 's/^/   | /'
    printf 'ok   %s (%ds)\n' "$name" "$took"
  else
    sed 's/^/   | /' "$work/out"
    if [ "$rc" -eq 124 ]; then
      printf 'FAIL %s: timed out after %ds\n' "$name" "$limit"
    else
      printf 'FAIL %s: exit status %d after %ds\n' "$name" "$rc" "$took"
    fi
    failed=$((failed + 1))
  fi
done
[ "$failed" -eq 0 ] || { echo "$failed of ${#scripts[@]} runnable README blocks failed"; exit 1; }
echo "all ${#scripts[@]} runnable README blocks passed"
