#!/usr/bin/env bash
# Installs headless Chromium (Debian's `chromium` package) when no browser is available.
# Run by .ci/run before the browser suite (`cargo test -p smi-perf --features browser-tests
# --test html_chromium`); the test itself never installs anything.
# Idempotent: does nothing when SMI_CHROMIUM is set or `chromium` is already on PATH.
set -euo pipefail
if [ -n "${SMI_CHROMIUM:-}" ] || command -v chromium >/dev/null 2>&1 || command -v chromium-browser >/dev/null 2>&1; then
  exit 0
fi
if ! command -v apt-get >/dev/null 2>&1; then
  echo "install-chromium: no apt-get here; install Chromium or Chrome and set SMI_CHROMIUM to its binary" >&2
  exit 1
fi
as_root=""
if [ "$(id -u)" != 0 ]; then
  command -v sudo >/dev/null 2>&1 || { echo "install-chromium: not root and no sudo" >&2; exit 1; }
  as_root="sudo -n"
fi
echo "install-chromium: apt-get install chromium (once)" >&2
# Serialised with apt's own lock; bounded so a stuck mirror cannot hang a test run.
$as_root env DEBIAN_FRONTEND=noninteractive timeout 900 apt-get update -qq >/dev/null
$as_root env DEBIAN_FRONTEND=noninteractive timeout 900 apt-get install -y -qq -o DPkg::Lock::Timeout=300 chromium >/dev/null
command -v chromium >/dev/null 2>&1
