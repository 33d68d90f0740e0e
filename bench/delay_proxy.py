"""A TCP proxy on 127.0.0.1 that holds every chunk a client sends for a fixed delay before passing it
on (answers go back at once): an object store "farther away" than loopback, for the fleet report's
S3 figure. It counts the chunks held at the same time (one per request: a request's head is one
write) and the most held at once, i.e. how many requests the client keeps in flight.

    python -m bench.delay_proxy TARGET_PORT DELAY_MS
prints its port, then on each line read from stdin prints ``{"requests": N, "max_in_flight": M}``
since the previous line (and starts counting again).
"""

from __future__ import annotations

import asyncio
import json
import sys

state = {"held": 0, "max_in_flight": 0, "requests": 0}


async def _pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, delay: float) -> None:
    try:
        while data := await reader.read(65536):
            if delay:
                state["held"] += 1
                state["requests"] += 1
                state["max_in_flight"] = max(state["max_in_flight"], state["held"])
                try:
                    await asyncio.sleep(delay)
                finally:
                    state["held"] -= 1
            writer.write(data)
            await writer.drain()
    except (ConnectionError, asyncio.CancelledError):
        pass
    finally:
        writer.close()


async def serve(target: int, delay: float) -> None:
    async def handle(client_r: asyncio.StreamReader, client_w: asyncio.StreamWriter) -> None:
        server_r, server_w = await asyncio.open_connection("127.0.0.1", target)
        await asyncio.gather(_pipe(client_r, server_w, delay), _pipe(server_r, client_w, 0.0))

    server = await asyncio.start_server(handle, "127.0.0.1", 0)
    print(server.sockets[0].getsockname()[1], flush=True)
    loop = asyncio.get_running_loop()
    while await loop.run_in_executor(None, sys.stdin.readline):
        print(json.dumps({"requests": state["requests"], "max_in_flight": state["max_in_flight"]}), flush=True)
        state.update(requests=0, max_in_flight=0)


if __name__ == "__main__":
    asyncio.run(serve(int(sys.argv[1]), float(sys.argv[2]) / 1000))
