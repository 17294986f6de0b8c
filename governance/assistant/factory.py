"""Building the model runtime from settings: one choice, the same answers pipeline behind it.

Precedence: ``MODELGOV_MODEL_SERVER_URL`` (an OpenAI-compatible server), then
``MODELGOV_MODEL_REPO`` + ``MODELGOV_MODEL_FILE`` (a GGUF from the Hub), then
``MODELGOV_MODEL_PATH`` (a local GGUF), else the bundled SmolLM2. Nothing is loaded here: a local
model loads on its first question, or when the process starts (``Assistant.start``) with
``MODELGOV_MODEL_LOAD_AT_START``.

``governance.wiring.services.build_services`` makes the process's one ``Assistant`` (so one
runtime and one model per process); frontends use ``services.assistant``.
"""

from __future__ import annotations

import threading
from collections.abc import Callable

from sqlalchemy.orm import Session, sessionmaker

from governance.assistant.answers import Answer
from governance.assistant.generation import PartialCallback
from governance.assistant.runtime import (
    LlamaCppRuntime,
    ModelRuntime,
    OpenAICompatibleRuntime,
    QueuedRuntime,
)
from governance.assistant.runtime.base import available_cpus
from governance.assistant.runtime.queue import PositionCallback
from governance.assistant.service import answer
from governance.core.clock import Clock
from governance.core.config import ConfigError, Settings
from governance.upstream.hub import HubClient


def runtime_choice(settings: Settings) -> str:
    """Which backend ``settings`` select: ``server``, ``hub``, ``path`` or ``bundled``."""
    if settings.model_server_url:
        return "server"
    if settings.model_repo:
        return "hub"
    if settings.model_path:
        return "path"
    return "bundled"


def generation_threads(settings: Settings) -> int:
    """Threads for local generation: MODELGOV_MODEL_THREADS, else every CPU but one.

    The bot answers Slack from the same machine (often the same process): a model on every
    core would push acks past Slack's patience while it writes.
    """
    return settings.model_threads or max(1, available_cpus() - 1)


def build_runtime(settings: Settings) -> ModelRuntime:
    """The runtime ``settings`` ask for (not loaded yet).

    Raises:
        ConfigError: ``MODELGOV_MODEL_REPO`` without ``MODELGOV_MODEL_FILE``.
    """
    choice = runtime_choice(settings)
    if choice == "server":
        assert settings.model_server_url is not None
        # vLLM wants the served model's name; llama.cpp's server ignores it.
        return OpenAICompatibleRuntime(
            settings.model_server_url,
            settings.model_repo or settings.model_file or "default",
            api_key=settings.model_server_api_key,
            context_window=settings.model_n_ctx,
        )
    n_ctx, max_tokens = settings.model_n_ctx, settings.model_max_tokens
    n_threads = generation_threads(settings)
    if choice == "hub":
        assert settings.model_repo is not None
        if not settings.model_file:
            raise ConfigError(
                "MODELGOV_MODEL_FILE: required with MODELGOV_MODEL_REPO (a GGUF file name or "
                "glob in the repo, e.g. *Q4_K_M.gguf)."
            )
        return LlamaCppRuntime.from_hub(
            settings.model_repo,
            settings.model_file,
            n_ctx=n_ctx,
            max_tokens=max_tokens,
            n_threads=n_threads,
        )
    model_path = settings.model_path if choice == "path" else None  # None: the bundled model
    return LlamaCppRuntime(model_path, n_ctx=n_ctx, max_tokens=max_tokens, n_threads=n_threads)


class Assistant:
    """The process's assistant: answers over the services' database, one model runtime.

    The runtime (and its worker thread) is created on the first question that needs the model,
    once; the model itself loads on its first generation unless ``warm()`` loaded it earlier.
    """

    def __init__(
        self,
        *,
        settings: Settings,
        session_factory: sessionmaker[Session],
        clock: Clock,
        runtime_factory: Callable[[Settings], ModelRuntime] = build_runtime,
        hub: HubClient | None = None,
    ) -> None:
        self.settings = settings
        self.hub = hub  # hardware-fit answers read the Hub through it (None: not answered)
        self.session_factory = session_factory
        self.clock = clock
        self._runtime_factory = runtime_factory
        self._runtime: QueuedRuntime | None = None
        self._lock = threading.Lock()

    def runtime(self) -> QueuedRuntime:
        """The one queued runtime of this process (created on first use)."""
        with self._lock:
            if self._runtime is None:
                self._runtime = QueuedRuntime(self._runtime_factory(self.settings))
            return self._runtime

    def warm(self) -> bool:
        """Load a local model now, once (its runtime's lock makes a second call wait for the
        first); returns False for a model server, which has nothing to load.

        Raises:
            ConfigError: the settings name no usable model (``build_runtime``).
            ModelUnavailable: the model file is missing, unreadable or cannot be downloaded.
        """
        inner = self.runtime().runtime
        load = getattr(inner, "load", None)
        if load is None:
            return False
        load()
        return True

    def start(self) -> bool:
        """For process start-up: ``warm()`` when ``MODELGOV_MODEL_LOAD_AT_START`` is set.

        Returns whether a model was loaded. Raises what ``warm`` raises.
        """
        return self.settings.model_load_at_start and self.warm()

    def answer(
        self,
        question: str,
        *,
        on_partial: PartialCallback | None = None,
        on_position: PositionCallback | None = None,
    ) -> Answer:
        """``service.answer`` over this process's database and runtime (same contract)."""
        return answer(
            question,
            session_factory=self.session_factory,
            clock=self.clock,
            runtime=self.runtime(),
            settings=self.settings,
            on_partial=on_partial,
            on_position=on_position,
            hub=self.hub,
        )

    def queue_length(self) -> int:
        """Questions waiting for the model (0 before the runtime exists)."""
        with self._lock:
            return self._runtime.queue_length() if self._runtime is not None else 0

    def close(self) -> None:
        """Stop the worker and free the model (queued questions are cancelled)."""
        with self._lock:
            runtime, self._runtime = self._runtime, None
        if runtime is not None:
            runtime.close(cancel_pending=True, timeout=30)
