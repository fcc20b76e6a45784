"""Message catalogues: one JSON file per language under ``messages/`` (fi, sv, en), keyed by a short
message id. Finnish is the default; a missing key falls back to English, then to the id itself
(a test checks every catalogue holds every key)."""

from __future__ import annotations

import functools
import json
from collections.abc import Callable
from pathlib import Path

LANGUAGES = ("fi", "sv", "en")
DEFAULT = "fi"
_DIR = Path(__file__).parent / "messages"


@functools.cache
def catalogue(lang: str) -> dict[str, str]:
    messages: dict[str, str] = json.loads((_DIR / f"{lang}.json").read_text(encoding="utf-8"))
    return messages


def translator(lang: str) -> Callable[..., str]:
    lang = lang if lang in LANGUAGES else DEFAULT
    own, fallback = catalogue(lang), catalogue("en")

    def t(key: str, **values: object) -> str:
        text = own.get(key) or fallback.get(key)
        if text is None:  # a value the services added later (a new state): shown as it is, never an error
            return key.split(".", 1)[-1].replace("_", " ")
        return text.format(**values) if values else text

    return t


def pick_language(cookie: str | None, accept_language: str | None) -> str:
    if cookie in LANGUAGES:
        return cookie
    for part in (accept_language or "").split(","):
        code = part.split(";")[0].strip().lower()[:2]
        if code in LANGUAGES:
            return code
    return DEFAULT
