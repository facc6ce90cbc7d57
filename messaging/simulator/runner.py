"""Serving the simulator: in the current event loop, until a signal (the command), or in a thread for tests."""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import signal
import threading
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from typing import Any

from aiohttp import web

from messaging.simulator.config import SimulatorConfig
from messaging.simulator.handlers import GATEWAY, Gateway, build_app


@dataclass
class Running:
    url: str
    gateway: Gateway


@contextlib.asynccontextmanager
async def serving(config: SimulatorConfig) -> AsyncIterator[Running]:
    """Serve the simulator inside the current event loop; port 0 picks a free port."""
    app = build_app(config)
    runner = web.AppRunner(app, access_log=None)  # a line per request, thousands a second, is noise and CPU
    await runner.setup()
    try:
        await web.TCPSite(runner, config.host, config.port).start()
        host, port = runner.addresses[0][:2]
        yield Running(url=f"http://{host}:{port}", gateway=app[GATEWAY])
    finally:
        await runner.cleanup()


def run(config: SimulatorConfig, announce: Callable[[str], None] = print) -> None:
    """Serve until interrupted (Ctrl+C or SIGTERM), calling `announce` with the base URL once listening."""
    asyncio.run(_serve_until_stopped(config, announce))


async def _serve_until_stopped(config: SimulatorConfig, announce: Callable[[str], None]) -> None:
    stop = asyncio.Event()
    with contextlib.suppress(NotImplementedError):  # no signal handlers on Windows' event loop
        asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, stop.set)
    async with serving(config) as running:
        announce(running.url)
        await stop.wait()


class SimulatorThread:
    """The simulator on its own loop in a daemon thread, for synchronous tests: `with SimulatorThread(cfg) as sim:`."""

    def __init__(self, config: SimulatorConfig) -> None:
        self.config = config
        self.url = ""
        self.gateway: Gateway | None = None
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, name="fake-gateway", daemon=True)
        self._stop: asyncio.Event | None = None

    def __enter__(self) -> SimulatorThread:
        self._thread.start()
        ready: concurrent.futures.Future[Running] = concurrent.futures.Future()
        self._served = asyncio.run_coroutine_threadsafe(self._serve(ready), self._loop)
        try:
            running = ready.result(timeout=10)
        except BaseException:
            self._close()
            raise
        self.url, self.gateway = running.url, running.gateway
        return self

    def __exit__(self, *exc) -> None:
        assert self._stop is not None, "entered"
        self._loop.call_soon_threadsafe(self._stop.set)
        self._served.result(timeout=30)
        self._close()

    def _close(self) -> None:
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=10)
        self._loop.close()

    def stats(self) -> dict[str, Any]:
        """What GET /stats answers, read on the simulator's loop so no counter moves while it is copied."""

        gateway = self.gateway
        assert gateway is not None, "entered"

        async def read() -> dict[str, Any]:
            return gateway.stats_json()

        return asyncio.run_coroutine_threadsafe(read(), self._loop).result(timeout=10)

    async def _serve(self, ready: concurrent.futures.Future[Running]) -> None:
        self._stop = asyncio.Event()
        try:
            async with serving(self.config) as running:
                ready.set_result(running)
                await self._stop.wait()
        except BaseException as exc:
            if not ready.done():  # failed to start (port taken): tell __enter__ rather than time out
                ready.set_exception(exc)
            raise
