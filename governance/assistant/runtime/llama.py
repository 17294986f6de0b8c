"""In-process generation with llama-cpp-python: one ``Llama`` per runtime, loaded once.

Not thread-safe for generation by design: a ``Llama`` must not run two generations at once, so
callers share it through ``QueuedRuntime``. Loading and token counting are guarded by locks.

Quiet: llama.cpp logs from C through a callback. llama-cpp-python's own callback prints to
stderr by a level table that is off by one for current llama.cpp (its warnings pass as
errors), so "llama_context: n_ctx_seq (256) > n_ctx_train (0)" reached users. Importing
llama_cpp here installs a callback that hands every line to the ``llama_cpp.native`` logger
at DEBUG instead; nothing is printed.
"""

from __future__ import annotations

import ctypes
import functools
import json
import logging
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

from governance.assistant.runtime.base import (
    BUNDLED_MODEL_NAME,
    REPEAT_PENALTY,
    STOP_SEQUENCES,
    ChatMessage,
    Generation,
    JsonSchema,
    ModelUnavailable,
    PromptTooLong,
    TokenCallback,
    available_cpus,
    locate_bundled_model,
)

if TYPE_CHECKING:
    from llama_cpp import Llama
    from llama_cpp.llama_grammar import LlamaGrammar

native_log = logging.getLogger("llama_cpp.native")

DEFAULT_N_CTX = 4096
DEFAULT_MAX_TOKENS = 256


class LlamaCppRuntime:
    """A GGUF model run in-process.

    Build it with ``LlamaCppRuntime()`` (the bundled SmolLM2), ``LlamaCppRuntime(model_path=...)``
    or ``LlamaCppRuntime.from_hub(repo_id, filename)``. The model loads on first use unless
    ``eager=True``.
    """

    def __init__(
        self,
        model_path: str | Path | None = None,
        *,
        name: str | None = None,
        n_ctx: int = DEFAULT_N_CTX,
        max_tokens: int = DEFAULT_MAX_TOKENS,
        n_threads: int | None = None,
        temperature: float = 0.2,
        seed: int | None = None,
        eager: bool = False,
        clock: Callable[[], float] = time.monotonic,
        _loader: Callable[[dict[str, Any]], Llama] | None = None,
    ) -> None:
        if n_ctx < 64:
            raise ValueError("n_ctx must be at least 64 tokens")
        if max_tokens < 1:
            raise ValueError("max_tokens must be at least 1")
        self._path = Path(model_path) if model_path is not None else None
        self._hub: tuple[str, str] | None = None
        self._hub_cache_dir: str | None = None
        self._name = name
        self.n_ctx = n_ctx
        self.max_tokens = max_tokens
        self.n_threads = n_threads or available_cpus()
        self.temperature = temperature
        self.seed = seed
        self._clock = clock
        self._loader = _loader
        self._llm: Llama | None = None
        self._vocab: Llama | None = None
        self._load_lock = threading.Lock()
        self._vocab_lock = threading.Lock()
        if eager:
            self.load()

    @classmethod
    def from_hub(
        cls,
        repo_id: str,
        filename: str,
        *,
        cache_dir: str | Path | None = None,
        **kwargs: Any,
    ) -> LlamaCppRuntime:
        """A runtime whose GGUF is downloaded from the Hub (``Llama.from_pretrained``) on load.

        ``filename`` may be a glob (``*Q4_K_M.gguf``), as ``from_pretrained`` allows.
        """
        kwargs.setdefault("name", f"{repo_id} ({filename})")
        eager = kwargs.pop("eager", False)
        runtime = cls(**kwargs)
        runtime._hub = (repo_id, filename)
        if cache_dir is not None:
            runtime._hub_cache_dir = str(cache_dir)
        if eager:
            runtime.load()
        return runtime

    @property
    def name(self) -> str:
        if self._name:
            return self._name
        if self._path is None:
            return BUNDLED_MODEL_NAME
        return self._path.stem

    @property
    def context_window(self) -> int:
        return self.n_ctx

    @property
    def loaded(self) -> bool:
        return self._llm is not None

    def _llama_kwargs(self, *, vocab_only: bool = False) -> dict[str, Any]:
        kwargs: dict[str, Any] = {
            "n_ctx": self.n_ctx,
            "n_threads": self.n_threads,
            "n_threads_batch": self.n_threads,
            "verbose": False,
        }
        if vocab_only:
            # Tokenizing needs no KV cache; 256 is the smallest context llama.cpp accepts.
            kwargs.update(vocab_only=True, n_ctx=256)
        if self.seed is not None:
            kwargs["seed"] = self.seed
        return kwargs

    def _construct(self, kwargs: dict[str, Any]) -> Llama:
        if self._hub is None:
            return self._construct_local(self._path or locate_bundled_model(), kwargs)
        repo_id, filename = self._hub
        if self._loader is not None:
            return self._loader({"repo_id": repo_id, "filename": filename, **kwargs})
        Llama = _import_llama()
        try:
            return Llama.from_pretrained(
                repo_id=repo_id, filename=filename, cache_dir=self._hub_cache_dir, **kwargs
            )
        except Exception as exc:  # any download/listing failure: offline, 401 gated, 404
            raise ModelUnavailable(
                f"Could not get {filename} from the Hub repo {repo_id}: "
                f"{type(exc).__name__}: {str(exc).rstrip('.')}. Check the repo id, the file "
                "name, network access and (for gated repos) HF_TOKEN, or configure a local GGUF "
                "path."
            ) from exc

    def _construct_local(self, path: Path, kwargs: dict[str, Any]) -> Llama:
        if self._loader is not None:
            return self._loader({"model_path": str(path), **kwargs})
        if not path.is_file():
            raise ModelUnavailable(f"The model file {path} does not exist.")
        Llama = _import_llama()
        try:
            return Llama(model_path=str(path), **kwargs)
        except (ValueError, RuntimeError) as exc:  # llama-cpp raises these for unreadable GGUFs
            raise ModelUnavailable(f"Could not load the model file {path}: {exc}") from exc

    def load(self) -> Llama:
        """Load the model now (idempotent); returns the ``Llama`` object."""
        with self._load_lock:
            if self._llm is None:
                self._llm = self._construct(self._llama_kwargs())
            return self._llm

    def count_tokens(self, text: str) -> int | None:
        """Exact token count, from a vocab-only copy so it never touches the generating model."""
        with self._vocab_lock:
            if self._vocab is None:
                if self._hub is None:
                    path = self._path or locate_bundled_model()
                elif self._llm is not None:
                    path = Path(self._llm.model_path)
                else:
                    return None  # a Hub model not downloaded yet: callers fall back to estimates
                self._vocab = self._construct_local(path, self._llama_kwargs(vocab_only=True))
            return len(self._vocab.tokenize(text.encode("utf-8"), add_bos=False, special=False))

    def completion_kwargs(
        self,
        messages: list[ChatMessage],
        *,
        max_tokens: int,
        json_schema: JsonSchema | None = None,
    ) -> dict[str, Any]:
        """The arguments of ``Llama.create_chat_completion`` for one generation (not streamed).

        The benchmark makes its raw llama-cpp-python call with exactly these, so both sides
        sample the same way under the same grammar.
        """
        kwargs: dict[str, Any] = {
            "messages": messages,
            "max_tokens": max(1, min(max_tokens, self.max_tokens)),
            "temperature": self.temperature,
            "seed": self.seed,
            "repeat_penalty": REPEAT_PENALTY,
            "stop": list(STOP_SEQUENCES),
        }
        if json_schema is not None:
            kwargs["grammar"] = _grammar(json.dumps(json_schema, sort_keys=True))
        return kwargs

    def generate(
        self,
        messages: list[ChatMessage],
        *,
        max_tokens: int,
        deadline: float | None = None,
        on_token: TokenCallback | None = None,
        json_schema: JsonSchema | None = None,
    ) -> Generation:
        llm = self.load()
        start = self._clock()
        if deadline is not None and start >= deadline:
            # The budget ran out while queued: do not start a generation nobody will wait for.
            return Generation("", 0, 0.0, True, self.name, finish_reason="deadline")
        kwargs = self.completion_kwargs(messages, max_tokens=max_tokens, json_schema=json_schema)
        try:
            stream: Iterator[dict[str, Any]] = llm.create_chat_completion(  # type: ignore[assignment]  # stream=True gives chunks; the hints say chunks or one reply
                **kwargs, stream=True
            )
            pieces: list[str] = []
            tokens = 0
            finish: str | None = None
            timed_out = False
            try:
                for chunk in stream:
                    choice = chunk["choices"][0]
                    piece = choice.get("delta", {}).get("content")
                    if piece:
                        # llama-cpp streams one chunk per sampled token (text held back for a
                        # possible stop sequence arrives merged, so this can undercount by a few).
                        tokens += 1
                        pieces.append(piece)
                        if on_token is not None:
                            on_token(piece)
                    if choice.get("finish_reason"):
                        finish = choice["finish_reason"]
                    elif deadline is not None and self._clock() >= deadline:
                        timed_out = True
                        finish = "deadline"
                        break
            finally:
                # Closing the generator stops decoding; the Llama stays usable for the next call.
                close = getattr(stream, "close", None)
                if close is not None:
                    close()
        except ValueError as exc:
            if "context window" in str(exc):
                raise PromptTooLong(
                    f"The question and its sources do not fit in the model's {self.n_ctx}-token "
                    "context; ask a narrower question."
                ) from exc
            raise
        return Generation(
            text="".join(pieces),
            completion_tokens=tokens,
            elapsed=self._clock() - start,
            timed_out=timed_out,
            model_name=self.name,
            finish_reason=finish,
        )

    def close(self) -> None:
        """Free the native model memory; a later call loads it again."""
        with self._load_lock, self._vocab_lock:
            for llm in (self._llm, self._vocab):
                if llm is not None:
                    llm.close()
            self._llm = None
            self._vocab = None


def _import_llama() -> type[Llama]:
    try:
        from llama_cpp import Llama
    except (ImportError, OSError) as exc:  # a broken native build should say so, not crash later
        raise ModelUnavailable(
            f"llama-cpp-python cannot be imported ({exc}). Reinstall it with the CMAKE_ARGS "
            "given in the README."
        ) from exc
    route_native_logs()
    return Llama


def _log_native(level: int, text: bytes | None, user_data: ctypes.c_void_p) -> None:
    if text:
        native_log.debug("%s", text.decode("utf-8", "replace").rstrip("\n"))


@functools.cache
def route_native_logs() -> object:
    """Send everything llama.cpp logs to the ``llama_cpp.native`` logger at DEBUG (once per
    process); returns the installed C callback, which the cache keeps alive (if it were
    collected, llama.cpp would call freed memory)."""
    import llama_cpp

    callback = llama_cpp.llama_log_callback(_log_native)
    llama_cpp.llama_log_set(callback, ctypes.c_void_p(0))
    return callback


@functools.cache
def _grammar(schema_json: str) -> LlamaGrammar:
    """The llama.cpp grammar for a JSON schema (cached: the same schema recurs per size)."""
    from llama_cpp.llama_grammar import LlamaGrammar

    return LlamaGrammar.from_json_schema(schema_json, verbose=False)
