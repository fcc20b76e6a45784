"""``python -m ktt_console``: serve the console (port CONSOLE_PORT, default 8000)."""

from __future__ import annotations

import uvicorn

from ktt_console.app import create_app
from ktt_console.settings import load_console_settings


def main() -> None:
    settings = load_console_settings()
    config = uvicorn.Config(create_app(settings), host=settings.host, port=settings.port, log_config=None,
                            access_log=False, proxy_headers=True, timeout_graceful_shutdown=5)
    uvicorn.Server(config).run()


if __name__ == "__main__":
    main()
