"""The Ray engine: transcription and scanning on a cluster, one model per worker actor.

    qa-toolkit run /mnt/calls --engine ray --address auto --db postgresql+psycopg://qa@db/qa

Each :class:`CallWorker` actor loads one ASR model and compiles the driver's lexicon once, then
takes one recording at a time and returns its :class:`~qa_toolkit.types.CallReport`. It runs the
local engine's own code (``pipeline._safe_transcribe``, ``Scanner.report``), so the same options
give the same results. The driver (:func:`qa_toolkit.pipeline.run_audio`) writes each report in
its own transaction, exactly as with the local engine, so a run can be stopped and re-run.

Placement: on a cluster with GPUs (and ``device`` ``auto`` or ``cuda``) each actor holds one
GPU (a fraction when more actors than GPUs are asked for); otherwise one CPU.

Faults: an actor that dies mid-call (killed, out of memory, node lost) is restarted and the
call retried, up to :data:`RETRIES` times; a recording that kills its worker every time is
reported failed and the batch goes on. Each actor holds one call at a time, so a poison file
never uses up the retries of a call queued behind it.

Recordings are read by path on the node that transcribes them: mount the audio at the same
path on every node. Needs ``pip install qa-toolkit[ray]``.
"""

from __future__ import annotations

import logging
import os
import socket
from collections.abc import Callable, Iterator
from typing import Any

from qa_toolkit.errors import ConfigError, WorkerError
from qa_toolkit.rules.loader import Lexicon
from qa_toolkit.types import CallReport

__all__ = ["RETRIES", "CallWorker", "init_ray", "plan_workers", "ray_reports"]

RETRIES = 2  # retries of a call whose worker died, on a restarted worker

Result = tuple[str, CallReport | None, str | None]


def init_ray(address: str | None = None):
    """Connect to the Ray cluster at ``address`` (``auto``, ``ray://host:10001``), or start a
    local one when ``address`` is None and ``$RAY_ADDRESS`` is unset. Returns the ``ray`` module.

    Raises:
        ConfigError: Ray is not installed, or the cluster cannot be reached.
    """
    try:
        import ray
    except ImportError:
        raise ConfigError("the ray engine needs Ray: pip install 'qa-toolkit[ray]'") from None
    if ray.is_initialized():
        return ray
    kwargs: dict[str, Any] = {"logging_level": logging.WARNING}
    if address is None and not os.environ.get("RAY_ADDRESS"):
        kwargs["include_dashboard"] = False
    try:
        ray.init(address=address, **kwargs)
    except (ConnectionError, RuntimeError, ValueError) as err:
        reason = " ".join(str(err).split())[:200]
        raise ConfigError(f"cannot reach the Ray cluster at {address or '$RAY_ADDRESS'}: {reason}") from None
    return ray


def plan_workers(resources: dict[str, float], workers: int, device: str) -> tuple[int, float, float]:
    """How many actors, and the CPUs and GPUs each one holds.

    Args:
        resources: ``ray.cluster_resources()``.
        workers: Actors asked for; 0 = one per GPU when GPUs are used, else one per CPU.
        device: The ASR device option (``auto``, ``cpu``, ``cuda``).

    Raises:
        ConfigError: ``cuda`` was asked for on a cluster without GPUs.
    """
    gpus = int(resources.get("GPU", 0))
    cpus = max(int(resources.get("CPU", 1)), 1)
    if device == "cuda" and gpus == 0:
        raise ConfigError("device: 'cuda' but the Ray cluster has no GPU; use --device auto or cpu")
    if gpus and device != "cpu":
        n = workers or gpus
        return n, 1.0, 1.0 if n <= gpus else round(gpus / n, 3)
    return workers or cpus, 1.0, 0.0


class CallWorker:
    """One worker: an ASR engine and a compiled lexicon, loaded once (a Ray actor's state).

    Args:
        options: ASR options.
        lexicon: The driver's lexicon (shipped whole, so every node scans with the same rules).
        factory: Builds the ASR engine from ``options`` (default: the real one).
        max_duration: Longer recordings are refused before decoding (seconds, 0 = no limit).
    """

    def __init__(self, options, lexicon: Lexicon, factory: Callable | None = None, max_duration: float = 0.0):
        from qa_toolkit import pipeline
        from qa_toolkit.scan import Scanner

        pipeline._init_worker(options, factory, max_duration)
        self._pipeline = pipeline
        self.scanner = Scanner(lexicon)

    def ready(self) -> str:
        """Where this worker runs (``host:pid``); returns once the model is loaded."""
        return f"{socket.gethostname()}:{os.getpid()}"

    def process(self, path: str, meta: dict[str, Any]) -> Result:
        """Transcribe and scan one recording: ``(path, report, None)`` or ``(path, None, error)``."""
        path, transcript, error = self._pipeline._safe_transcribe(path, meta)
        if transcript is None:
            return path, None, error
        return self._pipeline.scan_one(self.scanner, path, transcript)


def _reason(err: BaseException) -> str:
    return " ".join(str(err).split())[:200]


def ray_reports(
    items: list[tuple[str, dict[str, Any]]],
    options,
    lexicon: Lexicon,
    *,
    workers: int = 0,
    address: str | None = None,
    factory: Callable | None = None,
    max_duration: float = 0.0,
) -> Iterator[Result]:
    """Transcribe and scan ``(path, metadata)`` items on Ray actors; yields results as they finish.

    Raises:
        ConfigError: Ray is missing or unreachable, or the placement is impossible.
        WorkerError: The workers cannot start (the model does not load on the cluster).
    """
    if not items:
        return
    started_here = not _ray_initialized()  # then shut down what we started, when done
    ray = init_ray(address)
    from ray.exceptions import RayActorError, RayTaskError

    n, cpus, gpus = plan_workers(ray.cluster_resources(), workers, options.device)
    n = min(n, len(items))
    actor_class = ray.remote(num_cpus=cpus, num_gpus=gpus, max_restarts=-1, max_task_retries=RETRIES)(CallWorker)
    # Held by this generator until the end: a restarted actor reads its constructor arguments again.
    lexicon_ref = ray.put(lexicon)
    actors = [actor_class.remote(options, lexicon_ref, factory, max_duration) for _ in range(n)]
    try:
        try:
            ray.get([a.ready.remote() for a in actors])
        except (RayActorError, RayTaskError) as err:
            raise WorkerError(f"the Ray workers cannot start: {_reason(err)}") from None
        queue = list(reversed(items))
        idle = list(range(n))
        running: dict[Any, tuple[str, int]] = {}  # task -> (path, actor index)
        while queue or running:
            while queue and idle:
                i = idle.pop()
                path, meta = queue.pop()
                running[actors[i].process.remote(path, meta)] = (path, i)
            [ref], _ = ray.wait(list(running), num_returns=1)
            path, i = running.pop(ref)
            idle.append(i)
            try:
                result = ray.get(ref)
            except RayActorError as err:
                result = (path, None, f"{path}: [{WorkerError.code}] its worker died {RETRIES + 1} times on it "
                                      f"(killed, out of memory or crashed): {_reason(err)}")
            except RayTaskError as err:
                result = (path, None, f"{path}: [{WorkerError.code}] {_reason(err.cause or err)}")
            yield result
    finally:
        for a in actors:
            ray.kill(a)
        del lexicon_ref
        if started_here:
            ray.shutdown()


def _ray_initialized() -> bool:
    try:
        import ray
    except ImportError:
        return False
    return ray.is_initialized()
