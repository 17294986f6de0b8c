"""Model families: which new repos by an author are releases in a watched model's family."""

from __future__ import annotations

import re

_TOKEN = re.compile(r"[-_.\s]+")
_LEADING_LETTERS = re.compile(r"^[A-Za-z]+")


def family_of(repo_id: str) -> str:
    """The family prefix of a repo name, lowercased: the words before the first version/size.

    ``meta-llama/Llama-3.1-8B`` -> ``llama``; ``Qwen/Qwen2.5-7B`` -> ``qwen``;
    ``mistralai/Mistral-7B-v0.1`` -> ``mistral``; ``google/gemma-2-9b`` -> ``gemma``.
    """
    name = repo_id.rsplit("/", 1)[-1]
    words: list[str] = []
    for token in _TOKEN.split(name):
        if not token:
            continue
        if token.isalpha():
            words.append(token.lower())
            continue
        letters = _LEADING_LETTERS.match(token)
        if letters and not words:
            words.append(letters.group(0).lower())
        break
    return "-".join(words)


def same_family(watched_repo: str, candidate_repo: str) -> bool:
    """True when both repos share an author and a non-empty family prefix (and differ)."""
    watched_author, _, _ = watched_repo.partition("/")
    candidate_author, _, _ = candidate_repo.partition("/")
    if watched_author.lower() != candidate_author.lower():
        return False
    if watched_repo.lower() == candidate_repo.lower():
        return False
    family = family_of(watched_repo)
    return bool(family) and family == family_of(candidate_repo)
