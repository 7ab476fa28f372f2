"""The HTTP/1.1 protocol `serve` runs: uvicorn's h11 protocol, with a time limit on receiving a request's headers.

uvicorn closes a kept-alive connection that idles, but not one that trickles its headers a byte at a time; such
clients could hold every socket the server has (slowloris). Here each request's headers must be complete within
HEADER_TIMEOUT_S of the connection opening, or of the previous answer on a kept-alive connection; otherwise the
connection is closed.
"""

from __future__ import annotations

from uvicorn.protocols.http.h11_impl import H11Protocol

HEADER_TIMEOUT_S = 10.0


class HeaderTimeoutProtocol(H11Protocol):
    header_timeout_s = HEADER_TIMEOUT_S

    def connection_made(self, transport) -> None:
        super().connection_made(transport)
        self._arm_header_timer()

    def on_response_complete(self) -> None:
        super().on_response_complete()
        self._arm_header_timer()

    def connection_lost(self, exc) -> None:
        timer = getattr(self, "_header_timer", None)
        if timer is not None:
            timer.cancel()
        super().connection_lost(exc)

    def _arm_header_timer(self) -> None:
        timer = getattr(self, "_header_timer", None)
        if timer is not None:
            timer.cancel()
        waiting_after = self.cycle  # the request answered last (None on a new connection)
        self._header_timer = self.loop.call_later(self.header_timeout_s, self._headers_too_slow, waiting_after)

    def _headers_too_slow(self, waiting_after) -> None:
        if self.cycle is waiting_after and not self.transport.is_closing():  # no new request began in time
            self.transport.close()
