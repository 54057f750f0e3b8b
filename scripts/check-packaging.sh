#!/usr/bin/env bash
# Checks what a user of the published crates gets, outside this workspace's configuration:
#   1. `cargo package` of every publishable crate (what `cargo publish --dry-run` checks, for all of
#      them in one go);
#   2. the packaged sources, unpacked into a scratch workspace with NO `.cargo/config.toml` (so no
#      K8S_OPENAPI_ENABLED_VERSION): the two binaries build, each choosing its Kubernetes version
#      itself, and each library's docs build the way docs.rs builds them (its
#      `[package.metadata.docs.rs]` features, `-D warnings`);
#   3. `cargo install --path smi-validate-cli` and `--path smi-perf` from a copy of the checkout
#      with `.cargo/config.toml` removed.
#
# `cargo package` runs with --no-verify: its built-in verification would build the packages with
# this workspace's `.cargo/config.toml` (which sets a Kubernetes version), hiding exactly the
# failure step 2 is for; step 2 builds the packaged sources instead, without it.
# The crates depend on each other by path + version and are not on crates.io yet, so the scratch
# workspace points those dependencies at the unpacked packages with [patch.crates-io].
#
# Usage: scripts/check-packaging.sh   (from anywhere; scratch files under $TMPDIR/smi-rs-packaging-check)
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"
LIBS=(smi-types smi-validate smi-perf-engine smi-gateway)
BINS=(smi-validate-cli smi-perf)
# Outside the repository: cargo reads `.cargo/config.toml` from every parent directory of where it
# runs, so a scratch workspace under the checkout would still get K8S_OPENAPI_ENABLED_VERSION.
SCRATCH=${SMI_PACKAGING_SCRATCH:-${TMPDIR:-/tmp}/smi-rs-packaging-check}
# One target dir for steps 2 and 3 (same features, no workspace env: step 3 reuses step 2's build).
export CARGO_TARGET_DIR=$SCRATCH/target
rm -rf "$SCRATCH/crates" "$SCRATCH/checkout" "$SCRATCH/root"
mkdir -p "$SCRATCH/crates"

echo "== 1. cargo package (${LIBS[*]} ${BINS[*]})"
pkg_args=()
for p in "${LIBS[@]}" "${BINS[@]}"; do pkg_args+=(-p "$p"); done
cargo package --no-verify --allow-dirty "${pkg_args[@]}"
version=$(sed -n 's/^version = "\(.*\)"$/\1/p' Cargo.toml | head -1)
members=()
patches=""
for p in "${LIBS[@]}" "${BINS[@]}"; do
  tar -xzf "$CARGO_TARGET_DIR/package/$p-$version.crate" -C "$SCRATCH/crates"
  members+=("\"$p-$version\"")
  patches+="$p = { path = \"$p-$version\" }"$'\n'
done
cat >"$SCRATCH/crates/Cargo.toml" <<TOML
[workspace]
resolver = "3"
members = [$(IFS=,; echo "${members[*]}")]

[patch.crates-io]
$patches
TOML
# Same dependency versions as the repository's lock file.
cp Cargo.lock "$SCRATCH/crates/Cargo.lock"

echo "== 2a. the binaries build from the packaged sources, without the workspace config"
(cd "$SCRATCH/crates" && cargo build -p smi-perf -p smi-validate-cli)

echo "== 2b. docs.rs-like docs of each library"
for p in "${LIBS[@]}"; do
  features=$(sed -n '/^\[package.metadata.docs.rs\]/,/^\[/s/^features = \[\(.*\)\]$/\1/p' "$p/Cargo.toml" | tr -d '" ')
  [ -n "$features" ] || { echo "$p: no [package.metadata.docs.rs] features" >&2; exit 1; }
  echo "-- $p --features $features"
  # Each library alone, so its docs.rs features are the only ones (no binary's version feature).
  (cd "$SCRATCH/crates" && RUSTDOCFLAGS="-D warnings" cargo doc --no-deps -p "$p" --features "$features")
done

echo "== 3. cargo install from a checkout without .cargo/config.toml"
mkdir -p "$SCRATCH/checkout"
git ls-files -z | xargs -0 tar -cf - | tar -xf - -C "$SCRATCH/checkout"
rm -rf "$SCRATCH/checkout/.cargo"
for b in "${BINS[@]}"; do
  (cd "$SCRATCH/checkout" && cargo install --locked --debug --path "$b" --root "$SCRATCH/root")
done
"$SCRATCH/root/bin/smi-validate" --version
"$SCRATCH/root/bin/smi-perf" --version
echo "packaging check: ok"
