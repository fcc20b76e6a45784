"""The console's pages, by audience: :mod:`.official` (Typake officials and social workers),
:mod:`.provider` (providers) and :mod:`.common` (settlements and a client's timeline, for both), on the
shared fetch/render/service-down helpers of :mod:`.kit`. Each reads the services' REST APIs with the
viewer's own token, so what a page shows is what the services let that person see (DATA-3); a service
that is down becomes a readable message in its section, never a 500."""

from __future__ import annotations

from fastapi import FastAPI

from ktt_console.pages import common, official, provider
from ktt_console.pages.common import client_timeline

__all__ = ["client_timeline", "install"]


def install(app: FastAPI) -> None:
    official.install(app)
    common.install(app)
    provider.install(app)
