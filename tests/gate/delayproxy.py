"""delayproxy.py: a TCP proxy on loopback that delays every reply by DELAY seconds.

Each chunk the upstream server sends is forwarded to the client DELAY seconds after it arrived (order
kept, nothing else changed); requests go upstream at once. In front of redis-server this is a Redis
that answers every command 100 ms late while still serving any number of commands concurrently (its
pipelining is untouched), the backend of issue 12's parking proof. hold() stops forwarding replies
(a server that hangs, without stopping its processes), release() sends what was held. Runs its
asyncio loop on a daemon thread.

    p = DelayProxy("127.0.0.1", redis_port, 0.1).start()   # p.port is the proxy's port
    python3 delayproxy.py UPSTREAM_PORT DELAY_S             # standalone: prints the port, serves forever
"""
import asyncio
import socket
import sys
import threading


class DelayProxy:
    def __init__(self, host, port, delay):
        self.up = (host, port)
        self.delay = delay
        self.port = None
        self._ready = threading.Event()
        self._loop = None
        self._open = None  # asyncio.Event: set while replies flow

    def hold(self):
        self._loop.call_soon_threadsafe(self._open.clear)

    def release(self):
        self._loop.call_soon_threadsafe(self._open.set)

    async def _pipe(self, reader, writer, delay):
        loop = asyncio.get_running_loop()
        try:
            while True:
                data = await reader.read(65536)
                if not data:
                    break
                if delay is not None:
                    await self._open.wait()
                if delay:
                    loop.call_later(delay, self._write, writer, data)
                else:
                    writer.write(data)
        except (ConnectionError, OSError):
            pass
        finally:
            loop.call_later(delay or 0, writer.close)

    @staticmethod
    def _write(writer, data):
        if not writer.is_closing():
            writer.write(data)

    async def _client(self, creader, cwriter):
        try:
            ureader, uwriter = await asyncio.open_connection(*self.up)
        except OSError:
            cwriter.close()
            return
        await asyncio.gather(self._pipe(creader, uwriter, None), self._pipe(ureader, cwriter, self.delay))

    async def _main(self):
        self._loop = asyncio.get_running_loop()
        self._open = asyncio.Event()
        self._open.set()
        srv = await asyncio.start_server(self._client, "127.0.0.1", 0, family=socket.AF_INET, backlog=1024)
        self.port = srv.sockets[0].getsockname()[1]
        self._ready.set()
        async with srv:
            await srv.serve_forever()

    def start(self):
        threading.Thread(target=lambda: asyncio.run(self._main()), daemon=True).start()
        if not self._ready.wait(10):
            raise RuntimeError("delay proxy did not start")
        return self


if __name__ == "__main__":
    p = DelayProxy("127.0.0.1", int(sys.argv[1]), float(sys.argv[2])).start()
    print(p.port, flush=True)
    threading.Event().wait()
