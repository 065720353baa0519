#!/usr/bin/env bash
# Builds headless-gl (the optional `gl` package behind gpu.js's `headlessgl` backend)
# and runs the Node GL suite on it: the kernel, model and backward specs with
# GPT1_BACKEND=headlessgl under a virtual display.
#
#   bash scripts/build-gl.sh            # install prerequisites, build, run the suite
#   bash scripts/build-gl.sh --no-test  # build only
#
# Not part of CI: compiling `gl` (ANGLE) takes a long time on a small machine (the
# issue that introduced this recorded 19.5 min on a loaded 2-core machine). CI checks
# the same GL kernels in Chromium's WebGL2 instead (spec/browser-kernels.spec.ts).
# Nothing here is downloaded from outside npm and Debian's apt.
set -euo pipefail
cd "$(dirname "$0")/.."

echo "== Debian packages: a virtual display, the X and GL headers, a compiler"
APT_PACKAGES=(xvfb xauth libxi-dev libglew-dev pkg-config make g++ python3)
missing=()
for p in "${APT_PACKAGES[@]}"; do dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p"); done
if [ ${#missing[@]} -gt 0 ]; then
  if [ "$(id -u)" != 0 ]; then echo "missing: ${missing[*]} (run as root, or: sudo apt-get install ${missing[*]})" >&2; exit 1; fi
  DEBIAN_FRONTEND=noninteractive apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
fi

GL_VERSION=$(node -p "require('./package-lock.json').packages['node_modules/gl'].version")
echo "== gl@$GL_VERSION (the version gpu.js asks for), fetched without running its install script"
if [ ! -f node_modules/gl/package.json ]; then
  npm install --no-save --ignore-scripts --no-audit --no-fund "gl@$GL_VERSION"
fi

echo "== building gl with node-gyp against this Node's headers (--nodedir=/usr on Debian's nodejs; \$NODEDIR to override)"
NODEDIR=${NODEDIR:-$( [ -f /usr/include/node/node.h ] && echo /usr || dirname "$(dirname "$(command -v node)")" )}
start=$(date +%s)
(cd node_modules/gl && npx --yes node-gyp rebuild --nodedir="$NODEDIR" -j "$(nproc)")
echo "== built in $(( $(date +%s) - start )) s"

[ "${1:-}" = "--no-test" ] && exit 0

echo "== the Node GL suite: kernels, model and backward specs on headlessgl (xvfb-run -a)"
start=$(date +%s)
xvfb-run -a env GPT1_BACKEND=headlessgl node --import tsx --import ./spec/setup.ts --test --test-reporter=spec \
  spec/kernels.spec.ts spec/model.spec.ts spec/backward.spec.ts
echo "== suite passed in $(( $(date +%s) - start )) s"
