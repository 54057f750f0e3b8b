#!/usr/bin/env bash
# Fills the untracked fuzz/corpus/<target>/ from the checked-in fuzz/seeds/<target>/ and, for
# the text targets, from the project's fixtures and testdata/ (the vendored upstream examples and
# real-world manifests). Idempotent: existing corpus entries are kept.
#
#   ./fuzz/seed.sh [target...]
set -euo pipefail
cd "$(dirname "$0")"
targets=("$@")
if [ ${#targets[@]} -eq 0 ]; then
  targets=(types_yaml convert validate_bytes validate_mutated perf_test histogram h1_response h2_conn h1_conn)
fi
# A one-byte prefix selects the mode of the text targets (see each target's docs); 0x00 and 0x01
# give default and small limits.
prefixed() { # <prefix-hex> <src> <dst-dir>
  local name
  name="$(basename "$2")"
  { printf "\\x$1"; cat "$2"; } >"$3/$1-$name"
}
for t in "${targets[@]}"; do
  mkdir -p "corpus/$t"
  if [ -d "seeds/$t" ]; then
    cp -n seeds/"$t"/* "corpus/$t/" 2>/dev/null || true
  fi
  case "$t" in
    types_yaml | validate_bytes | convert)
      srcs=(seeds/manifests/*.yaml)
      for d in ../smi-types/tests/fixtures ../smi-validate/tests/fixtures ../testdata/upstream/examples ../testdata/realworld; do
        [ -d "$d" ] && while IFS= read -r -d '' f; do srcs+=("$f"); done < <(find "$d" -name '*.yaml' -size -64k -print0)
      done
      for f in "${srcs[@]}"; do
        case "$t" in
          convert) prefixed 01 "$f" "corpus/$t" ;;
          *) prefixed 00 "$f" "corpus/$t" ;;
        esac
      done
      ;;
  esac
done
echo "==> corpora: $(for t in "${targets[@]}"; do printf '%s=%s ' "$t" "$(ls "corpus/$t" | wc -l)"; done)"
