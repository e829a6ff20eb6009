#!/usr/bin/env bash
# Prints the bin/ folder of an official Node release for a major version (or an exact x.y.z),
# installing it first from the npm registry's `node-linux-<arch>` package into a cache OUTSIDE the
# repo: ${XDG_CACHE_HOME:-$HOME/.cache}/kiteticker-ci/node-<version>/bin. Reused when present.
#
#   .ci/node-bin.sh 24        -> the newest 24.x the registry has (falls back to the newest cached 24.x
#                                when the registry cannot be reached)
#   .ci/node-bin.sh 22.23.5   -> exactly that release
#
# "Newest" is resolved at run time rather than pinned so CI picks up security releases without an edit;
# each run prints the exact version it used. Progress goes to stderr, the path alone to stdout.
set -euo pipefail

want="${1:?usage: node-bin.sh <major|x.y.z>}"
cache="${KITETICKER_NODE_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/kiteticker-ci}"
case "$(uname -m)" in
  x86_64 | amd64) arch=x64 ;;
  aarch64 | arm64) arch=arm64 ;;
  *) echo "node-bin.sh: no node-linux package for $(uname -m)" >&2; exit 1 ;;
esac
pkg="node-linux-${arch}"
mkdir -p "$cache"

newest_cached() {
  # Folders are node-<x.y.z>; sort -V orders versions numerically (22.10 after 22.9).
  find "$cache" -maxdepth 1 -type d -name "node-$1.*" -printf '%f\n' 2>/dev/null |
    sed 's/^node-//' | sort -V | tail -n 1
}

if [[ "$want" =~ ^[0-9]+\.[0-9]+\.[0-9]+$ ]]; then
  version="$want"
elif [[ "$want" =~ ^[0-9]+$ ]]; then
  # `npm view pkg@22 version` lists every matching version in registry order, which is not
  # semver order (20.8.1 comes after 20.19.x), hence the numeric sort.
  if listed="$(npm view "${pkg}@${want}" version --json 2>/dev/null)"; then
    version="$(printf '%s\n' "$listed" | tr -d '[]", ' | grep -E '^[0-9]+\.[0-9]+\.[0-9]+$' | sort -V | tail -n 1)"
  else
    version="$(newest_cached "$want")"
    [[ -n "$version" ]] && echo "node-bin.sh: registry unreachable, using cached Node $version" >&2
  fi
  [[ -n "${version:-}" ]] || { echo "node-bin.sh: no ${pkg} release for Node $want" >&2; exit 1; }
else
  echo "node-bin.sh: expected a major version or x.y.z, got '$want'" >&2
  exit 1
fi

dir="$cache/node-$version"
if [[ ! -x "$dir/bin/node" ]]; then
  echo "node-bin.sh: installing Node $version from ${pkg}@${version} into $dir" >&2
  tmp="$(mktemp -d "$cache/.tmp-XXXXXX")"
  trap 'rm -rf "$tmp"' EXIT
  # npm pack fetches the tarball without running any package script; the tarball holds package/bin/node.
  (cd "$tmp" && npm pack --silent "${pkg}@${version}" >/dev/null)
  mkdir -p "$tmp/x"
  tar -xzf "$tmp"/*.tgz -C "$tmp/x" --strip-components=1
  got="$("$tmp/x/bin/node" --version)"
  [[ "$got" == "v$version" ]] || { echo "node-bin.sh: ${pkg}@${version} runs as $got" >&2; exit 1; }
  rm -rf "$dir"
  # Rename into place so a concurrent or interrupted run never sees a half-extracted folder.
  mv "$tmp/x" "$dir"
fi
echo "$dir/bin"
