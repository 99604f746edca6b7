#!/usr/bin/env bash
# Installs engined the two ways an operator would, each into a temporary root, and serves from
# there: `cmake --install --prefix ROOT`, and the .deb built by CPack unpacked with `dpkg -x`.
# Each installation must start from its own layout (plugins, contracts, scripts, versions found
# relative to the binary, from a working directory that is not the checkout), answer /health
# and finish a real run. The systemd unit is checked with systemd-analyze verify.
# usage: install_test.sh BUILD_DIR
set -euo pipefail
build_dir="$(cd "$1" && pwd)"
work="$(mktemp -d)"
pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; done
  rm -rf "$work"
}
trap cleanup EXIT
fail() { echo "install_test: $*" >&2; exit 1; }

# The address engined logged on start ("engined listening"), once it has.
listening_address() {
  local log=$1 pid=$2
  for _ in $(seq 1 300); do
    local address
    address=$(grep -o '"msg":"engined listening".*' "$log" 2>/dev/null | grep -o '"address":"[0-9.:]*"' | head -n 1 |
              cut -d'"' -f4 || true)
    [ -n "$address" ] && { echo "$address"; return 0; }
    kill -0 "$pid" 2>/dev/null || { cat "$log" >&2; fail "engined exited before listening"; }
    sleep 0.1
  done
  cat "$log" >&2
  fail "engined did not listen within 30 s"
}

# Serves from the installation under PREFIX: health, then a placement run to completion.
serve_and_run() {
  local name=$1 prefix=$2
  local data="$work/$name-data" log="$work/$name.log"
  [ -x "$prefix/bin/engined" ] || fail "$name: no $prefix/bin/engined"
  ls "$prefix/lib/engined/plugins/placement.so" "$prefix/share/engined/contracts/placement/engine.json" \
     "$prefix/share/engined/scripts/lua/placement/scorecard.lua" "$prefix/share/engined/versions/default/1.0.json" \
     >/dev/null || fail "$name: the layout is incomplete"
  # Not the checkout: nothing may be found through the working directory.
  (cd "$work" && exec "$prefix/bin/engined" --listen 127.0.0.1:0 --data-dir "$data" 2>"$log") &
  pids+=($!)
  local address
  address=$(listening_address "$log" "${pids[-1]}")
  curl -fsS "http://$address/health" >/dev/null || fail "$name: /health did not answer 200"
  grep -q "\"resources_dir\":\"$prefix/share/engined\"" "$log" || fail "$name: resources not taken from share/engined"
  local key
  key=$("$prefix/bin/enginectl" keys create --data-dir "$data" --org install --env test 2>/dev/null | tail -n 1)
  local run
  run=$("$prefix/bin/enginectl" runs submit --url "http://$address" --key "$key" --wait --json \
        "$(dirname "$0")/../golden/placement/auto_only_ny.input.json")
  grep -q '"status": *"completed"' <<<"$run" || { echo "$run" >&2; fail "$name: the run did not complete"; }
  echo "install_test: $name serves from $prefix and completed a run"
}

cmake --install "$build_dir" --prefix "$work/prefix" >/dev/null
serve_and_run prefix "$work/prefix"

(cd "$work" && cpack --config "$build_dir/CPackConfig.cmake" -B "$work/package" >"$work/cpack.log" 2>&1) ||
  { cat "$work/cpack.log" >&2; fail "cpack failed"; }
deb=$(ls "$work"/package/engined_*.deb)
dpkg-deb --info "$deb" postinst >/dev/null 2>&1 || fail "the .deb has no postinst"
dpkg -x "$deb" "$work/root"
[ -f "$work/root/usr/share/engined/engined.json" ] || fail "the .deb has no default configuration"
unit="$work/root/usr/lib/systemd/system/engined.service"
[ -f "$unit" ] || unit="$work/root/lib/systemd/system/engined.service"
[ -f "$unit" ] || fail "the .deb has no engined.service"
serve_and_run deb "$work/root/usr"

if command -v systemd-analyze >/dev/null; then
  # The unit as the package installs it, in a root with the host's systemd units (the targets it
  # names) and its ExecStart binary where the unit expects it. systemd-analyze only warns about an
  # unknown key or a bad value: any line it prints is a failure.
  mkdir -p "$work/verify/usr/lib" "$work/verify/usr/bin" "$work/verify/etc/systemd/system"
  cp -r /usr/lib/systemd "$work/verify/usr/lib/"
  cp "$work/root/usr/bin/engined" "$work/verify/usr/bin/engined"
  cp "$unit" "$work/verify/etc/systemd/system/engined.service"
  if ! systemd-analyze verify --root="$work/verify" /etc/systemd/system/engined.service >"$work/verify.log" 2>&1 ||
     [ -s "$work/verify.log" ]; then
    cat "$work/verify.log" >&2
    fail "systemd-analyze verify rejected engined.service"
  fi
  echo "install_test: systemd-analyze verify accepts engined.service"
else
  echo "install_test: SKIPPED the unit check: systemd-analyze is not installed (Debian package systemd)"
fi
