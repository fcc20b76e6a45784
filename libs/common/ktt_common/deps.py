"""Annotated dependency aliases shared by every service's routers."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy.ext.asyncio import AsyncSession

from ktt_common.auth import Principal, current_principal
from ktt_common.runtime import Runtime


async def _session(request: Request) -> AsyncIterator[AsyncSession]:
    """Request-scoped session: committed when the endpoint returns, rolled back if it raised."""
    rt: Runtime = request.app.state.runtime
    async with rt.sessionmaker() as session:
        try:
            yield session
            await session.commit()
        except BaseException:
            await session.rollback()
            raise


# scope="function": the commit happens before the response is sent, so a failed commit is
# never reported to the caller as a success.
SessionDep = Annotated[AsyncSession, Depends(_session, scope="function")]


def get_runtime(request: Request) -> Runtime:
    runtime: Runtime = request.app.state.runtime
    return runtime


RuntimeDep = Annotated[Runtime, Depends(get_runtime)]



CurrentPrincipal = Annotated[Principal, Depends(current_principal)]
