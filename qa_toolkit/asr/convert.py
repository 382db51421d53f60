"""Convert CTranslate2 Whisper weights into an openai-whisper checkpoint.

CTranslate2's ``model.bin`` (binary version 6) is a flat list of named tensors::

    u32 version | str spec name | u32 revision | u32 n
    n x (str name | u8 rank | rank x u32 dim | u8 dtype | u32 nbytes | bytes)
    u32 n_aliases | n_aliases x (str alias | str target)

where ``str`` is a u16 length (including a trailing NUL) and the bytes. Attention
projections are fused: self-attention ``linear_0`` holds q, k and v stacked (openai-whisper
has no key bias: CTranslate2 stores zeros there), cross-attention ``linear_0`` is q and
``linear_1`` holds k and v. Everything else maps one to one.
"""

from __future__ import annotations

import json
import struct
from pathlib import Path

import numpy as np

from qa_toolkit.errors import ModelError

__all__ = ["read_ct2_variables", "ct2_to_openai_state"]

_DTYPES = (np.float32, np.int8, np.int16, np.int32, np.float16, None)  # bfloat16 unsupported


def read_ct2_variables(model_bin: Path) -> tuple[str, dict[str, np.ndarray]]:
    """Read every tensor of a CTranslate2 ``model.bin`` (memory-mapped, no copies).

    Returns:
        The spec name (``WhisperSpec``) and the tensors by name (aliases resolved).
    """
    data = np.memmap(model_bin, dtype=np.uint8, mode="r")
    buf = memoryview(data)
    pos = 0

    def unpack(fmt: str):
        nonlocal pos
        values = struct.unpack_from(fmt, buf, pos)
        pos += struct.calcsize(fmt)
        return values

    def string() -> str:
        nonlocal pos
        (length,) = unpack("<H")
        text = bytes(buf[pos : pos + length - 1]).decode("utf-8")
        pos += length
        return text

    try:
        (version,) = unpack("<I")
        if version != 6:
            raise ModelError(f"unsupported CTranslate2 binary version {version} (expected 6)", path=str(model_bin))
        spec = string()
        unpack("<I")  # revision
        (count,) = unpack("<I")
        tensors: dict[str, np.ndarray] = {}
        for _ in range(count):
            name = string()
            (rank,) = unpack("<B")
            dims = unpack(f"<{rank}I") if rank else ()
            (dtype_id,) = unpack("<B")
            (nbytes,) = unpack("<I")
            dtype = _DTYPES[dtype_id]
            if dtype is None:
                raise ModelError(f"tensor {name} is bfloat16, which this converter does not read", path=str(model_bin))
            tensors[name] = np.frombuffer(buf[pos : pos + nbytes], dtype=dtype).reshape(dims)
            pos += nbytes
        (aliases,) = unpack("<I")
        for _ in range(aliases):
            alias, target = string(), string()
            tensors[alias] = tensors[target]
    except (struct.error, ValueError, IndexError) as err:
        raise ModelError(f"truncated or corrupt CTranslate2 model ({err})", path=str(model_bin)) from None
    return spec, tensors


def _layers(tensors: dict[str, np.ndarray], prefix: str) -> int:
    parts = (k.split("/") for k in tensors if k.startswith(prefix + "/layer_"))
    return len({p[1] for p in parts if p[1][len("layer_") :].isdigit()})


def ct2_to_openai_state(model_dir: Path) -> tuple[dict, dict[str, np.ndarray]]:
    """Map a CTranslate2 Whisper model to openai-whisper's ``dims`` and ``state_dict``.

    Returns:
        ``(dims, state)``: the ``ModelDimensions`` fields and float32 numpy arrays keyed by
        openai-whisper parameter names.
    """
    spec, t = read_ct2_variables(model_dir / "model.bin")
    if spec != "WhisperSpec":
        raise ModelError(f"not a Whisper model (spec {spec})", path=str(model_dir))
    n_audio_layer = _layers(t, "encoder")
    n_text_layer = _layers(t, "decoder")
    n_state = t["encoder/conv1/weight"].shape[0]
    dims = {
        "n_mels": int(t["encoder/conv1/weight"].shape[1]),
        "n_audio_ctx": int(t["encoder/position_encodings/encodings"].shape[0]),
        "n_audio_state": int(n_state),
        "n_audio_head": int(t["encoder/num_heads"]) if "encoder/num_heads" in t else n_state // 64,
        "n_audio_layer": n_audio_layer,
        "n_vocab": int(t["decoder/embeddings/weight"].shape[0]),
        "n_text_ctx": int(t["decoder/position_encodings/encodings"].shape[0]),
        "n_text_state": int(t["decoder/embeddings/weight"].shape[1]),
        "n_text_head": int(t["decoder/num_heads"]) if "decoder/num_heads" in t else n_state // 64,
        "n_text_layer": n_text_layer,
    }
    s: dict[str, np.ndarray] = {}

    def put(name: str, value: np.ndarray) -> None:
        s[name] = np.ascontiguousarray(value, dtype=np.float32)

    def norm(dst: str, src: str) -> None:
        put(f"{dst}.weight", t[f"{src}/gamma"])
        put(f"{dst}.bias", t[f"{src}/beta"])

    def linear(dst: str, src: str) -> None:
        put(f"{dst}.weight", t[f"{src}/weight"])
        put(f"{dst}.bias", t[f"{src}/bias"])

    def fused(dst: str, src: str, names: tuple[str, ...]) -> None:
        weights = np.split(t[f"{src}/weight"], len(names))
        biases = np.split(t[f"{src}/bias"], len(names))
        for name, w, b in zip(names, weights, biases, strict=False):
            put(f"{dst}.{name}.weight", w)
            if name != "key":
                put(f"{dst}.{name}.bias", b)

    def mlp(dst: str, src: str) -> None:
        norm(f"{dst}.mlp_ln", f"{src}/ffn/layer_norm")
        linear(f"{dst}.mlp.0", f"{src}/ffn/linear_0")
        linear(f"{dst}.mlp.2", f"{src}/ffn/linear_1")

    for conv in ("conv1", "conv2"):
        linear(f"encoder.{conv}", f"encoder/{conv}")
    put("encoder.positional_embedding", t["encoder/position_encodings/encodings"])
    for i in range(n_audio_layer):
        dst, src = f"encoder.blocks.{i}", f"encoder/layer_{i}"
        norm(f"{dst}.attn_ln", f"{src}/self_attention/layer_norm")
        fused(f"{dst}.attn", f"{src}/self_attention/linear_0", ("query", "key", "value"))
        linear(f"{dst}.attn.out", f"{src}/self_attention/linear_1")
        mlp(dst, src)
    norm("encoder.ln_post", "encoder/layer_norm")

    put("decoder.token_embedding.weight", t["decoder/embeddings/weight"])
    put("decoder.positional_embedding", t["decoder/position_encodings/encodings"])
    for i in range(n_text_layer):
        dst, src = f"decoder.blocks.{i}", f"decoder/layer_{i}"
        norm(f"{dst}.attn_ln", f"{src}/self_attention/layer_norm")
        fused(f"{dst}.attn", f"{src}/self_attention/linear_0", ("query", "key", "value"))
        linear(f"{dst}.attn.out", f"{src}/self_attention/linear_1")
        norm(f"{dst}.cross_attn_ln", f"{src}/attention/layer_norm")
        linear(f"{dst}.cross_attn.query", f"{src}/attention/linear_0")
        fused(f"{dst}.cross_attn", f"{src}/attention/linear_1", ("key", "value"))
        linear(f"{dst}.cross_attn.out", f"{src}/attention/linear_2")
        mlp(dst, src)
    norm("decoder.ln", "decoder/layer_norm")
    return dims, s


def alignment_heads(model_dir: Path) -> list[list[int]] | None:
    """The ``alignment_heads`` from ``config.json`` (for word timestamps), if any."""
    try:
        return json.loads((model_dir / "config.json").read_text()).get("alignment_heads")
    except (OSError, ValueError):
        return None
