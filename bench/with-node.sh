#!/usr/bin/env bash
# Runs npm bench scripts under another Node major, e.g. the BENCHMARKS.md rows per version:
#
#   bash bench/with-node.sh 24 bench:decode bench:ceiling [-- <args for each script>]
#   npm run bench:node24                      (the same for decode and ceiling)
#
# The Node binary is the newest release of that major from the npm registry's node-linux-<arch>
# package, installed on first use into the cache CI uses (.ci/node-bin.sh, outside the repo).
# Putting its bin/ first on PATH makes npm, tsx and every benchmark child (spawned through
# process.execPath) run on that version; each table's machine line names the Node it ran on.
set -euo pipefail
cd "$(dirname "$0")/.."

want="${1:?usage: with-node.sh <major|x.y.z> <npm script>... [-- args]}"
shift
scripts=()
while [[ $# -gt 0 && "$1" != "--" ]]; do
  scripts+=("$1")
  shift
done
[[ "${1:-}" == "--" ]] && shift
[[ ${#scripts[@]} -gt 0 ]] || { echo "with-node.sh: name at least one npm script" >&2; exit 2; }

bin="$(.ci/node-bin.sh "$want")"
export PATH="$bin:$PATH"
echo "Node $(node --version) from $bin" >&2
for script in "${scripts[@]}"; do
  echo >&2
  echo "## npm run $script on Node $(node --version)" >&2
  npm run --silent "$script" -- "$@"
done
