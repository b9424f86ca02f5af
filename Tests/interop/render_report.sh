#!/usr/bin/env bash
# Renders pv-report's HTML in headless Chromium and checks that the PNG is not blank: enough non-white pixels, and
# pixels of the report's figure colours (the highlighted DE genes, the series blue), i.e. the inline SVG was drawn.
# Usage: render_report.sh report.html out.png [WIDTHxHEIGHT] [SCALE]
# $CHROMIUM names the browser (default: chromium). Without it the check is skipped, saying so, with status 0.
# RENDER_FIGURES=0 skips the figure-colour check (a screenshot of the page's top, where the tables are).
set -euo pipefail
html=$1 png=$2 size=${3:-1280x4000} scale=${4:-1}
browser=${CHROMIUM:-chromium}
if ! command -v "$browser" >/dev/null 2>&1; then
  echo "render_report: $browser not installed (make interop-deps installs chromium as root); render not checked"
  exit 0
fi
rm -f "$png"
# --no-sandbox: CI runs as root. No network is needed: the page has no external resource.
timeout 120 "$browser" --headless --no-sandbox --disable-gpu --hide-scrollbars --no-first-run --disable-extensions \
  --disable-background-networking --window-size="${size/x/,}" --force-device-scale-factor="$scale" \
  --screenshot="$png" "file://$(realpath "$html")" >/dev/null 2>&1 || true
test -s "$png" || { echo "render_report: $browser wrote no screenshot" >&2; exit 1; }
python3 - "$png" "${RENDER_FIGURES:-1}" <<'PY'
import struct, sys, zlib
data = open(sys.argv[1], "rb").read()
assert data[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
pos, idat = 8, b""
while pos < len(data):
    n, kind = struct.unpack(">I4s", data[pos:pos + 8])
    body = data[pos + 8:pos + 8 + n]
    if kind == b"IHDR":
        w, h, depth, ctype = struct.unpack(">IIBB", body[:10])
    elif kind == b"IDAT":
        idat += body
    pos += 12 + n
assert depth == 8 and ctype in (2, 6), f"unexpected PNG type: depth {depth}, colour type {ctype}"
bpp = 3 if ctype == 2 else 4
raw, stride = zlib.decompress(idat), w * bpp
prev, white, orange, blue = bytearray(stride), 0, 0, 0
for y in range(h):
    f, line = raw[y * (stride + 1)], bytearray(raw[y * (stride + 1) + 1:(y + 1) * (stride + 1)])
    for i in range(stride):
        a = line[i - bpp] if i >= bpp else 0
        b = prev[i]
        if f == 1: line[i] = (line[i] + a) & 255
        elif f == 2: line[i] = (line[i] + b) & 255
        elif f == 3: line[i] = (line[i] + (a + b) // 2) & 255
        elif f == 4:
            c = prev[i - bpp] if i >= bpp else 0
            p = a + b - c; pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
            line[i] = (line[i] + (a if pa <= pb and pa <= pc else b if pb <= pc else c)) & 255
    for x in range(0, stride, bpp):
        r, g, bl = line[x], line[x + 1], line[x + 2]
        if r > 245 and g > 245 and bl > 245: white += 1
        elif abs(r - 213) < 12 and abs(g - 94) < 12 and bl < 30: orange += 1
        elif r < 20 and abs(g - 114) < 14 and abs(bl - 178) < 14: blue += 1
    prev = line
total = w * h
ink = 1 - white / total
print(f"render_report: {w}x{h} PNG, {ink:.1%} non-white pixels, {orange} highlight-orange, {blue} series-blue")
assert ink > 0.02, "the page rendered (almost) blank"
assert sys.argv[2] == "0" or (orange > 20 and blue > 20), "no figure colours: the inline SVG figures were not drawn"
PY
