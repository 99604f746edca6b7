#!/usr/bin/env bash
# Installs what engined needs to build and test on Debian 12, only when something is missing.
# `--runtime`: only what building and running engined needs (the quickstart), none of the test,
# benchmark, fuzzing, packaging or browser tools below.
# clang and libclang-rt-14-dev (libFuzzer) are for tools/fuzz/run.sh; clang-format checks the
# sources' layout in tools/test.sh; chromium, chromium-driver and
# python3-selenium run the web console's browser test (tests/console/); dpkg-dev and file are for
# CPack's .deb (dependencies from dpkg-shlibdeps), systemd for `systemd-analyze verify` of the
# service unit (tests/packaging). libpq-dev builds the PostgreSQL store; postgresql is the
# throwaway server tools/with-postgres.sh starts for the tests, and the multi-node campaign
# (tools/multinode/, python3 from the selenium dependency) its own.
# nodejs and npm run the OpenAPI validator of the test suite (@apidevtools/swagger-parser), which
# npm installs into .deps/node at the versions tools/openapi/package-lock.json pins. A node and npm
# already on the PATH (e.g. another distribution's nodejs) are used as they are.
# valijson is header-only; its Debian package drags in ~70 adapter packages, so its .deb is
# unpacked into .deps/ instead (still from Debian's registry).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"

runtime_only=false
case "${1:-}" in
  --runtime) runtime_only=true ;;
  "") ;;
  *) echo "usage: tools/install-deps.sh [--runtime]" >&2; exit 2 ;;
esac

packages=(build-essential cmake pkg-config git ca-certificates curl
  libboost1.81-dev libboost-json1.81-dev liblua5.4-dev libsqlite3-dev libpq-dev libssl-dev libre2-dev
  libgoogle-perftools-dev)
if ! $runtime_only; then
  packages+=(postgresql googletest libgtest-dev libgmock-dev libbenchmark-dev wrk
    clang libclang-rt-14-dev clang-format dpkg-dev file systemd
    chromium chromium-driver python3-selenium)
fi

sudo_cmd=()
if [ "$(id -u)" -ne 0 ]; then sudo_cmd=(sudo); fi

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ! $runtime_only && { ! command -v node >/dev/null || ! command -v npm >/dev/null; }; then
  missing+=(nodejs npm)
fi
valijson_dir="$root/.deps/valijson"
if [ ${#missing[@]} -gt 0 ] || [ ! -f "$valijson_dir/usr/share/cmake/valijson/valijsonConfig.cmake" ]; then
  echo "install-deps: apt-get update"
  "${sudo_cmd[@]}" apt-get update -qq
fi
if [ ${#missing[@]} -gt 0 ]; then
  echo "install-deps: installing ${missing[*]}"
  "${sudo_cmd[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi
if [ ! -f "$valijson_dir/usr/share/cmake/valijson/valijsonConfig.cmake" ]; then
  echo "install-deps: unpacking libvalijson-dev into .deps/valijson"
  tmp="$(mktemp -d)"; chmod 755 "$tmp"
  (cd "$tmp" && apt-get download libvalijson-dev >/dev/null)
  mkdir -p "$valijson_dir"
  dpkg -x "$tmp"/libvalijson-dev_*.deb "$valijson_dir"
  rm -rf "$tmp"
fi
node_dir="$root/.deps/node"
if ! $runtime_only && { ! cmp -s "$root/tools/openapi/package-lock.json" "$node_dir/package-lock.json" \
    || [ ! -d "$node_dir/node_modules/@apidevtools/swagger-parser" ]; }; then
  echo "install-deps: installing the OpenAPI validator into .deps/node"
  mkdir -p "$node_dir"
  cp "$root/tools/openapi/package.json" "$root/tools/openapi/package-lock.json" "$node_dir/"
  (cd "$node_dir" && npm ci --ignore-scripts --no-audit --no-fund --loglevel=error)
fi
echo "install-deps: all dependencies present"
