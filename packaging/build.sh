#!/usr/bin/env bash
# Build the one-folder app with PyInstaller and smoke-run it: --version and a headless 1920x1080 snapshot.
#   packaging/build.sh            -> dist/wallboard/wallboard
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
VENV="${VENV:-.venv}"
[ -x "$VENV/bin/python" ] || packaging/bootstrap.sh setup
"$VENV/bin/python" -m pip install -q "pyinstaller>=6.10"
rm -rf build/pyinstaller dist/wallboard
nice -n 10 "$VENV/bin/pyinstaller" --noconfirm --log-level WARN --workpath build/pyinstaller --distpath dist packaging/wallboard.spec
echo "built: dist/wallboard ($(du -sh dist/wallboard | cut -f1), $(find dist/wallboard -type f | wc -l) files)"
# The spec leaves out Qt plugins and the libraries only they linked: every library left must still find what it links,
# in the folder or on the system (Wayland's client libraries exist where a Wayland session does, so they may be absent).
dangling=$(find dist/wallboard -xtype l)
[ -z "$dangling" ] || { echo "dangling symlinks in dist/wallboard: $dangling" >&2; exit 1; }
if command -v ldd >/dev/null; then
  missing=$(find dist/wallboard -type f \( -name '*.so*' -o -name wallboard -o -name QtWebEngineProcess \) -print0 \
    | while IFS= read -r -d '' f; do
        { LD_LIBRARY_PATH=dist/wallboard/_internal ldd "$f" 2>/dev/null || true; } \
          | awk -v f="$f" '/not found/ && !/libwayland-/ {print f ": " $1}'
      done)
  [ -z "$missing" ] || { printf 'libraries not found:\n%s\n' "$missing" >&2; exit 1; }
fi
dist/wallboard/wallboard --version
export QT_QPA_PLATFORM=offscreen
if [ "$(id -u)" -eq 0 ]; then export QTWEBENGINE_CHROMIUM_FLAGS="--no-sandbox"; fi
out=/tmp/pkg-snap.png
rm -f "$out"
dist/wallboard/wallboard snapshot --demo-minutes 5 --out "$out" --size 1920x1080 --log-level WARNING
python3 - "$out" <<'PY'
import struct, sys
with open(sys.argv[1], "rb") as f:
    head = f.read(24)
assert head[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
w, h = struct.unpack(">II", head[16:24])
assert (w, h) == (1920, 1080), (w, h)
print(f"smoke snapshot OK: {sys.argv[1]} {w}x{h}")
PY
