"""The model the worker scores with, and its hot swap to a newly promoted version.

The registry's live pointer is polled between batches (cheap: a small file
read, at most every `check_every_s`); a new version is loaded in a worker
thread while the old one keeps scoring, then swapped in before the next batch,
so every stored row carries exactly the version that scored it.

Which backend serves a version (FINSENT_MODEL_BACKEND) is decided per version
by `ServingBackend`: with `auto` on CPU a version whose int8 parity report
passes is served by ONNX Runtime; one without a report is served by torch at
once while a niced background process (`finsent models export`) exports it and
checks parity, and the worker swaps to int8 between batches when that passes.
A swap to another backend of the same version is a hot swap like any other.
"""

from __future__ import annotations

import asyncio
import logging
import os
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from concurrent.futures import Executor
from pathlib import Path
from typing import Protocol

from model.network.results import ArticleResult
from monitor.stream import metrics

log = logging.getLogger(__name__)


class PredictorLike(Protocol):
    """What the worker needs of model.serving.predictor.Predictor."""

    version: str

    def predict(self, texts: Sequence[str]) -> list[ArticleResult]: ...


class NoLiveModel(RuntimeError):
    """The registry has no live model: the worker cannot start scoring."""


def registry_loader(registry_dir: Path, device: str, backend: str = "torch") -> tuple[
        Callable[..., PredictorLike], Callable[[], str | None]]:
    """Load/poll functions backed by the model registry (imported lazily: torch is heavy).

    `load(version, backend=None)` loads with the given backend ("torch"/"onnx"),
    else with `backend` here. With "onnx" a version is exported to int8 on its
    first load (cached in its registry folder), so a hot swap to it takes longer once.
    """
    from model.serving.predictor import Predictor
    from model.serving.registry import live_version

    def load(version: str | None, chosen: str | None = None) -> PredictorLike:
        if version is None and live_version(registry_dir) is None:
            raise NoLiveModel(f"no live model in {registry_dir}: train and promote one "
                              "(see docs/model.md), or point FINSENT_REGISTRY_DIR at a registry that has one")
        return Predictor.load(registry_dir, version=version, device=device, backend=chosen or backend)

    return load, lambda: live_version(registry_dir)


def start_background_export(registry_dir: Path, version: str, log_dir: Path | None = None) -> subprocess.Popen:
    """`finsent models export --model VERSION` as a niced child process (export + parity report).

    A separate process, not a thread: tracing the export holds the GIL for
    long stretches, which would stall the worker's event loop. It is bounded
    (about a minute on 2 cores) and its result is useful after the worker stops.
    """
    log_path = Path(log_dir or Path(registry_dir) / version) / "onnx-export.log"
    log_path.parent.mkdir(parents=True, exist_ok=True)
    env = {**os.environ, "FINSENT_REGISTRY_DIR": str(registry_dir)}
    with log_path.open("ab") as output:
        return subprocess.Popen(["nice", "-n", "10", sys.executable, "-m", "finsent.cli", "models", "export",
                                 "--model", version, "--json"], stdout=output, stderr=subprocess.STDOUT, env=env)


class ServingBackend:
    """Which backend serves each version (see model.serving.onnx_backend.choose_backend), logged once per decision.

    With `auto` on CPU and no parity report yet, `prepare(version)` is started
    once per version (a background export), and the version is served by torch
    until the report exists; a failed preparation is logged and torch stays.
    """

    def __init__(self, registry_dir: Path, requested: str, device: str,
                 prepare: Callable[[str], subprocess.Popen | None] | None = None) -> None:
        self.registry_dir = Path(registry_dir)
        self.requested = requested
        self.device = device
        self._prepare = prepare if prepare is not None else (
            lambda version: start_background_export(self.registry_dir, version))
        self._preparing: dict[str, subprocess.Popen | None] = {}
        self._said: dict[str, str] = {}

    def backend_for(self, version: str) -> str:
        from model.serving.onnx_backend import choose_backend

        choice = choose_backend(self.requested, self.device, self.registry_dir, version)
        reason = choice.reason
        if choice.pending:
            reason = self._pending_reason(version, reason)
        if self._said.get(version) != reason:
            self._said[version] = reason
            failed = "failed" in reason
            log.log(logging.WARNING if failed else logging.INFO, "model %s: %s backend (%s)",
                    version, choice.backend, reason)
        return choice.backend

    def _pending_reason(self, version: str, reason: str) -> str:
        if version not in self._preparing:
            self._preparing[version] = self._prepare(version)
        process = self._preparing[version]
        if process is None:
            return reason
        code = process.poll()
        if code not in (None, 0):
            return (f"background int8 export of {version} failed (exit {code}; log in "
                    f"{self.registry_dir / version / 'onnx-export.log'}); serving torch")
        return f"{reason}; exporting and checking it in the background (pid {process.pid})"


class LiveModel:
    """Holds the current predictor; `refresh()` swaps in a newly promoted one."""

    def __init__(
        self,
        load: Callable[..., PredictorLike],
        live_version: Callable[[], str | None],
        check_every_s: float = 5.0,
        backend_for: Callable[[str], str] | None = None,
    ) -> None:
        """`backend_for(version)`, when given, picks the backend per version and `load(version, backend)`
        is called with it; a change of backend for the live version is then hot-swapped too."""
        self._load = load
        self._live_version = live_version
        self._check_every_s = check_every_s
        self._backend_for = backend_for
        self._last_check = 0.0
        self._predictor: PredictorLike | None = None
        self._backend: str | None = None
        self._failed: set[tuple[str, str | None]] = set()  # backend switches that failed to load: not retried

    @classmethod
    def from_registry(cls, registry_dir: Path, device: str, backend: str,
                      check_every_s: float = 5.0) -> LiveModel:
        """The worker's live model: registry polling plus FINSENT_MODEL_BACKEND's per-version choice."""
        load, live_version = registry_loader(Path(registry_dir), device, backend)
        serving = ServingBackend(Path(registry_dir), backend, device)
        return cls(load, live_version, check_every_s, backend_for=serving.backend_for)

    @property
    def backend(self) -> str | None:
        """The backend serving now ("torch"/"onnx"), when a backend_for was given."""
        return self._backend

    @property
    def predictor(self) -> PredictorLike:
        if self._predictor is None:
            raise RuntimeError("LiveModel.start() was not awaited")
        return self._predictor

    @property
    def version(self) -> str | None:
        return self._predictor.version if self._predictor is not None else None

    def load_now(self) -> None:
        """Load the live version synchronously (at worker start, before the event loop runs)."""
        self._load_live()
        self._last_check = time.monotonic()

    async def start(self, executor: Executor) -> None:
        """Load the live version (in the executor: loading takes seconds)."""
        loop = asyncio.get_running_loop()
        await loop.run_in_executor(executor, self._load_live)
        self._last_check = time.monotonic()

    def _load_live(self) -> None:
        version = self._live_version() if self._backend_for is not None else None
        if self._backend_for is None or version is None:  # no backend choice (or no live model: load says so)
            self._set(self._load(None))
            return
        backend = self._backend_for(version)
        self._set(self._load(version, backend), backend)

    def _wanted(self) -> tuple[str | None, str | None]:
        version = self._live_version()
        if version is None or self._backend_for is None:
            return version, None
        return version, self._backend_for(version)

    async def refresh(self, executor: Executor) -> bool:
        """Between batches: swap to the live version if it changed; True when swapped."""
        now = time.monotonic()
        if now - self._last_check < self._check_every_s:
            return False
        self._last_check = now
        loop = asyncio.get_running_loop()
        try:
            wanted, backend = await loop.run_in_executor(executor, self._wanted)
        except OSError as error:  # a registry being rewritten: keep scoring with what we have
            log.warning("could not read the live model version: %s", error)
            return False
        if wanted is None or (wanted == self.version and backend == self._backend):
            return False
        if wanted == self.version and (wanted, backend) in self._failed:
            return False
        try:
            if backend is None:
                predictor = await loop.run_in_executor(executor, self._load, wanted)
            else:
                predictor = await loop.run_in_executor(executor, self._load, wanted, backend)
        except Exception:  # a broken candidate must not stop the stream: keep the old model
            log.exception("could not load model %s (%s); still scoring with %s", wanted, backend or "-",
                          self.version)
            if wanted == self.version:
                self._failed.add((wanted, backend))
            return False
        log.info("hot swap: model %s%s -> %s%s", self.version, f" ({self._backend})" if self._backend else "",
                 predictor.version, f" ({backend})" if backend else "")
        self._set(predictor, backend)
        metrics.MODEL_SWAPS.inc()
        return True

    def _set(self, predictor: PredictorLike, backend: str | None = None) -> None:
        if self._predictor is not None:
            metrics.MODEL_INFO.labels(version=self._predictor.version).set(0)
        self._predictor = predictor
        self._backend = backend
        metrics.MODEL_INFO.labels(version=predictor.version).set(1)
