#!/usr/bin/env bash
# One command from a fresh Debian/Ubuntu checkout to a running wallboard, or to a full test run.
#
#   packaging/bootstrap.sh demo [ARGS...]   system libraries Qt needs (if missing), .venv, the package; then
#                                           `wallboard demo ARGS` on the embedded simulated dispatch feed
#   packaging/bootstrap.sh test [PYTEST ARGS...]
#                                           the same set-up plus test tools; then ruff, mypy and the whole pytest suite
#   packaging/bootstrap.sh setup            only the set-up (the runtime, as for demo)
#   packaging/bootstrap.sh spec MODE        print what MODE installs into the venv ("." or ".[test]") and exit
#
# demo and setup install the runtime only; test adds the test tools (pytest, hypothesis, schemathesis...).
# Environment: PYTHON (interpreter to build the venv from, default python3, must be >= 3.11), VENV (default .venv).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

mode="${1:-demo}"
[ $# -gt 0 ] && shift
PYTHON="${PYTHON:-python3}"
VENV="${VENV:-.venv}"

# Runtime libraries the PySide6 wheels (QtWidgets, QtWebEngine) load but do not ship, Xvfb for headless runs and the
# end-to-end tests, and fonts with Indonesian glyph coverage. libpulse0: QtMultimedia links it (alert sounds).
APT_PACKAGES=(
  libgl1 libegl1 libopengl0 libglib2.0-0 libfontconfig1 libfreetype6 libdbus-1-3
  libxkbcommon0 libxkbcommon-x11-0 libxcb-cursor0 libxcb-icccm4 libxcb-image0 libxcb-keysyms1 libxcb-randr0
  libxcb-render-util0 libxcb-shape0 libxcb-xinerama0 libxcb-xkb1 libxcb-xfixes0 libx11-xcb1
  libnss3 libnspr4 libxcomposite1 libxdamage1 libxrandr2 libxtst6 libxi6 libxshmfence1 libgbm1 libdrm2 libxkbfile1
  libasound2 libpulse0 xvfb xauth x11-utils x11-xserver-utils imagemagick fonts-dejavu-core fonts-noto-core
)

# Only for `test`: nginx and its njs module, for the HTTP cache tests (tests/deployment/) that run the shipped
# packaging/nginx configuration in front of the simulator. The demo does not need them.
TEST_APT_PACKAGES=(nginx libnginx-mod-http-js)

say() { printf '\033[1m[wallboard]\033[0m %s\n' "$*"; }

install_system_packages() {
  command -v dpkg >/dev/null 2>&1 || { say "not a Debian/Ubuntu system: install Qt's runtime libraries yourself"; return; }
  local missing=()
  for pkg in "${APT_PACKAGES[@]}"; do
    dpkg -s "$pkg" >/dev/null 2>&1 || missing+=("$pkg")
  done
  if [ "$mode" = test ]; then
    # Any nginx flavour will do (nginx, nginx-light, nginx-full...): only install one when there is none.
    [ -x /usr/sbin/nginx ] || command -v nginx >/dev/null 2>&1 || missing+=("${TEST_APT_PACKAGES[0]}")
    dpkg -s "${TEST_APT_PACKAGES[1]}" >/dev/null 2>&1 || missing+=("${TEST_APT_PACKAGES[1]}")
  fi
  if ! "$PYTHON" -c 'import ensurepip, venv' >/dev/null 2>&1; then
    missing+=(python3-venv python3-pip)
  fi
  [ ${#missing[@]} -eq 0 ] && return
  local sudo=()
  if [ "$(id -u)" -ne 0 ]; then
    command -v sudo >/dev/null 2>&1 || { say "need root to install: ${missing[*]}"; exit 1; }
    sudo=(sudo)
  fi
  say "installing system packages: ${missing[*]}"
  # The tests run nginx as their own child process; the package must not start it as a system service on port 80.
  local no_services=0
  if [[ " ${missing[*]} " == *" nginx "* ]] && [ ! -e /usr/sbin/policy-rc.d ]; then
    printf '#!/bin/sh\nexit 101\n' | "${sudo[@]}" tee /usr/sbin/policy-rc.d >/dev/null
    "${sudo[@]}" chmod 755 /usr/sbin/policy-rc.d
    no_services=1
  fi
  "${sudo[@]}" apt-get update -qq
  DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null \
    || { [ "$no_services" -eq 0 ] || "${sudo[@]}" rm -f /usr/sbin/policy-rc.d; exit 1; }
  [ "$no_services" -eq 0 ] || "${sudo[@]}" rm -f /usr/sbin/policy-rc.d
}

# What a mode installs: the runtime, plus the test tools for `test`.
package_spec() {
  case "$1" in
    test) echo ".[test]" ;;
    *) echo "." ;;
  esac
}

setup_venv() {
  local spec
  spec="$(package_spec "$mode")"
  "$PYTHON" -c 'import sys; sys.exit(sys.version_info < (3, 11))' || { say "$PYTHON is older than 3.11"; exit 1; }
  [ -x "$VENV/bin/python" ] || "$PYTHON" -m venv "$VENV"
  "$VENV/bin/python" -m pip install -q --upgrade pip >/dev/null
  say "installing wallboard ($spec) and its dependencies into $VENV"
  "$VENV/bin/python" -m pip install -q -e "$spec" 2>&1 | grep -v '^WARNING: Location' || true
  "$VENV/bin/python" -c 'import wallboard, PySide6, pyqtgraph, folium, qasync, requests' \
    || { say "installation failed"; exit 1; }
}

# Chromium (QtWebEngine) refuses to run as root without --no-sandbox.
qt_env_for_root() {
  if [ "$(id -u)" -eq 0 ]; then
    case "${QTWEBENGINE_CHROMIUM_FLAGS:-}" in *--no-sandbox*) ;; *)
      export QTWEBENGINE_CHROMIUM_FLAGS="${QTWEBENGINE_CHROMIUM_FLAGS:-} --no-sandbox" ;;
    esac
  fi
}

if [ "$mode" = "spec" ]; then
  package_spec "${1:-demo}"
  exit 0
fi
install_system_packages
setup_venv
qt_env_for_root

case "$mode" in
  setup)
    say "ready: $VENV/bin/wallboard --help"
    ;;
  demo)
    if [ -z "${DISPLAY:-}" ] && [ -z "${WAYLAND_DISPLAY:-}" ]; then
      say "no display found: starting the board inside a virtual X server (xvfb-run, 1920x1080)"
      exec xvfb-run -a -s "-screen 0 1920x1080x24" "$VENV/bin/wallboard" demo "$@"
    fi
    exec "$VENV/bin/wallboard" demo "$@"
    ;;
  test)
    export QT_QPA_PLATFORM="${QT_QPA_PLATFORM:-offscreen}"
    say "ruff"
    "$VENV/bin/ruff" check wallboard tests bench
    "$VENV/bin/ruff" format --check wallboard tests bench
    say "mypy"
    "$VENV/bin/mypy"
    say "import-linter (the layers contract in pyproject.toml)"
    "$VENV/bin/lint-imports"
    # Two pytest runs in separate processes: once a QtWebEngine page has existed in a process, running the Qt main
    # loop again (as every qasync test does) crashes it. The web tests get a process of their own.
    # Exit status 5 (nothing selected, e.g. a path with no map tests) is not a failure here.
    run_pytest() { "$VENV/bin/python" -m pytest "$@" || { status=$?; [ "$status" -eq 5 ] || exit "$status"; }; }
    say "pytest (everything but QtWebEngine)"
    run_pytest -m "not webengine" "$@"
    say "pytest (QtWebEngine: the map)"
    run_pytest -m webengine "$@"
    ;;
  *)
    echo "usage: $0 demo|test|setup [ARGS...] | spec MODE" >&2
    exit 2
    ;;
esac
