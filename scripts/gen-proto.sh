#!/usr/bin/env bash
# Generates Python code (with .pyi stubs) from proto/ into libs/proto/src. Never edit the output.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
out=$root/libs/proto/src
cd "$root/proto"
mapfile -t files < <(find qlcb -name '*.proto' | sort)
rm -rf "$out/qlcb"
mkdir -p "$out"
PATH="$root/.venv/bin:$PATH" "$root/.venv/bin/python" -m grpc_tools.protoc -I . \
  --python_out="$out" --mypy_out="$out" \
  --grpc_python_out="$out" --mypy_grpc_out="$out" \
  "${files[@]}" 2> >(grep -v '^Writing mypy to' >&2)
# Namespace-free packages so mypy and importers see ordinary packages.
find "$out/qlcb" -type d -exec touch {}/__init__.py \;
touch "$out/qlcb/py.typed"
