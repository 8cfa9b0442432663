"""The model the worker scores with, and its hot swap to a newly promoted version.

The registry's live pointer is polled between batches (cheap: a small file
read, at most every `check_every_s`); a new version is loaded in a worker
thread while the old one keeps scoring, then swapped in before the next batch,
so every stored row carries exactly the version that scored it.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Sequence
from concurrent.futures import Executor
from pathlib import Path
from typing import Protocol

from model.results import ArticleResult
from monitor.stream import metrics

log = logging.getLogger(__name__)


class PredictorLike(Protocol):
    """What the worker needs of model.predictor.Predictor."""

    version: str

    def predict(self, texts: Sequence[str]) -> list[ArticleResult]: ...


class NoLiveModel(RuntimeError):
    """The registry has no live model: the worker cannot start scoring."""


def registry_loader(registry_dir: Path, device: str, backend: str = "torch") -> tuple[
        Callable[[str | None], PredictorLike], Callable[[], str | None]]:
    """Load/poll functions backed by the model registry (imported lazily: torch is heavy).

    With backend "onnx" each version is exported to int8 ONNX on its first load
    (cached in its registry folder), so a hot swap to it takes longer once.
    """
    from model.predictor import Predictor
    from model.registry import live_version

    def load(version: str | None) -> PredictorLike:
        if version is None and live_version(registry_dir) is None:
            raise NoLiveModel(f"no live model in {registry_dir}: train and promote one "
                              "(see docs/model.md), or point FINSENT_REGISTRY_DIR at a registry that has one")
        return Predictor.load(registry_dir, version=version, device=device, backend=backend)

    return load, lambda: live_version(registry_dir)


class LiveModel:
    """Holds the current predictor; `refresh()` swaps in a newly promoted one."""

    def __init__(
        self,
        load: Callable[[str | None], PredictorLike],
        live_version: Callable[[], str | None],
        check_every_s: float = 5.0,
    ) -> None:
        self._load = load
        self._live_version = live_version
        self._check_every_s = check_every_s
        self._last_check = 0.0
        self._predictor: PredictorLike | None = None

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
        self._set(self._load(None))
        self._last_check = time.monotonic()

    async def start(self, executor: Executor) -> None:
        """Load the live version (in the executor: loading takes seconds)."""
        loop = asyncio.get_running_loop()
        self._set(await loop.run_in_executor(executor, self._load, None))
        self._last_check = time.monotonic()

    async def refresh(self, executor: Executor) -> bool:
        """Between batches: swap to the live version if it changed; True when swapped."""
        now = time.monotonic()
        if now - self._last_check < self._check_every_s:
            return False
        self._last_check = now
        loop = asyncio.get_running_loop()
        try:
            wanted = await loop.run_in_executor(executor, self._live_version)
        except OSError as error:  # a registry being rewritten: keep scoring with what we have
            log.warning("could not read the live model version: %s", error)
            return False
        if wanted is None or wanted == self.version:
            return False
        try:
            predictor = await loop.run_in_executor(executor, self._load, wanted)
        except Exception:  # a broken candidate must not stop the stream: keep the old model
            log.exception("could not load model %s; still scoring with %s", wanted, self.version)
            return False
        log.info("hot swap: model %s -> %s", self.version, predictor.version)
        self._set(predictor)
        metrics.MODEL_SWAPS.inc()
        return True

    def _set(self, predictor: PredictorLike) -> None:
        if self._predictor is not None:
            metrics.MODEL_INFO.labels(version=self._predictor.version).set(0)
        self._predictor = predictor
        metrics.MODEL_INFO.labels(version=predictor.version).set(1)
