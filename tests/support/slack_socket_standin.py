"""A loopback stand-in for Slack's Socket Mode: ``apps.connections.open`` and the WebSocket.

- ``POST /api/apps.connections.open`` (``Authorization: Bearer xapp-...``): ``{"ok": true,
  "url": "ws://127.0.0.1:PORT/link/?ticket=..."}``; a token that is not ``xapp-`` gets
  ``{"ok": false, "error": "invalid_auth"}``, as on Slack. While ``down`` the port refuses
  connections (nothing listens), as when Slack is unreachable.
- The WebSocket (RFC 6455, written here: no websocket server library is installed): after the
  handshake it sends ``hello``; ``send_envelope`` sends an event with an ``envelope_id`` and
  records the client's ack (``{"envelope_id": ...}``); pings are answered with pongs;
  ``disconnect`` sends Slack's ``{"type": "disconnect"}`` message, ``drop`` closes the TCP
  connection without a word.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import json
import socket
import struct
import threading
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

_GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"


class SlackSocketStandin:
    """Slack's Socket Mode endpoints on one loopback port; ``start()`` brings them up."""

    def __init__(self, port: int) -> None:
        self.port = port
        self._server: ThreadingHTTPServer | None = None
        self._lock = threading.Lock()
        self._cond = threading.Condition(self._lock)
        self._sockets: list[socket.socket] = []
        self.connections_opened = 0  # apps.connections.open answered ok
        self.hellos_sent = 0
        self.acks: dict[str, dict[str, Any]] = {}

    @property
    def base_url(self) -> str:
        """The Web API base URL for ``WebClient(base_url=...)`` (trailing slash kept)."""
        return f"http://127.0.0.1:{self.port}/api/"

    def start(self) -> None:
        server = ThreadingHTTPServer(("127.0.0.1", self.port), _handler(self))
        server.daemon_threads = True
        server.allow_reuse_address = True
        self._server = server
        threading.Thread(
            target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        ).start()

    def stop(self) -> None:
        """Stop listening and cut every WebSocket."""
        self.drop()
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def wait_for(self, predicate: Any, timeout: float = 30.0) -> bool:
        """Wait until ``predicate(self)`` holds (checked on every event); True if it did."""
        with self._cond:
            return self._cond.wait_for(lambda: predicate(self), timeout=timeout)

    def send_envelope(self, kind: str, payload: dict[str, Any]) -> str:
        """Send an event envelope (``slash_commands``, ``interactive``...) to the newest socket."""
        envelope_id = str(uuid.uuid4())
        message = {
            "envelope_id": envelope_id,
            "payload": payload,
            "type": kind,
            "accepts_response_payload": kind != "events_api",
            "retry_attempt": 0,
            "retry_reason": "",
        }
        self._send_text(json.dumps(message))
        return envelope_id

    def disconnect(self, reason: str = "refresh_requested") -> None:
        """Slack's polite goodbye: the client is expected to reconnect with a new URL."""
        self._send_text(json.dumps({"type": "disconnect", "reason": reason, "debug_info": {}}))

    def drop(self) -> None:
        """Close every WebSocket's TCP connection without a close frame."""
        with self._lock:
            sockets, self._sockets = self._sockets, []
        for sock in sockets:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
            sock.close()

    def _send_text(self, text: str) -> None:
        with self._lock:
            sock = self._sockets[-1]
        sock.sendall(_frame(0x1, text.encode()))

    def _notify(self) -> None:
        with self._cond:
            self._cond.notify_all()

    def _serve_websocket(self, sock: socket.socket) -> None:
        with self._lock:
            self._sockets.append(sock)
            self.hellos_sent += 1
        hello = {
            "type": "hello",
            "num_connections": 1,
            "debug_info": {"host": "standin", "approximate_connection_time": 18060},
            "connection_info": {"app_id": "A0STANDIN"},
        }
        sock.sendall(_frame(0x1, json.dumps(hello).encode()))
        self._notify()
        try:
            while True:
                opcode, data = _read_frame(sock)
                if opcode == 0x8:  # close
                    sock.sendall(_frame(0x8, data[:2]))
                    return
                if opcode == 0x9:  # ping
                    sock.sendall(_frame(0xA, data))
                elif opcode == 0x1:
                    message = json.loads(data)
                    if isinstance(message, dict) and "envelope_id" in message:
                        with self._lock:
                            self.acks[message["envelope_id"]] = message
                        self._notify()
        except (OSError, ConnectionError, ValueError):
            return
        finally:
            with self._lock:
                if sock in self._sockets:
                    self._sockets.remove(sock)


def _frame(opcode: int, payload: bytes) -> bytes:
    """One unmasked server frame (FIN set)."""
    head = bytes([0x80 | opcode])
    n = len(payload)
    if n < 126:
        return head + bytes([n]) + payload
    if n < 65536:
        return head + bytes([126]) + struct.pack("!H", n) + payload
    return head + bytes([127]) + struct.pack("!Q", n) + payload


def _recv_exact(sock: socket.socket, n: int) -> bytes:
    data = b""
    while len(data) < n:
        chunk = sock.recv(n - len(data))
        if not chunk:
            raise ConnectionError("closed")
        data += chunk
    return data


def _read_frame(sock: socket.socket) -> tuple[int, bytes]:
    """Read one client frame (clients must mask); returns (opcode, unmasked payload)."""
    b1, b2 = _recv_exact(sock, 2)
    n = b2 & 0x7F
    if n == 126:
        n = struct.unpack("!H", _recv_exact(sock, 2))[0]
    elif n == 127:
        n = struct.unpack("!Q", _recv_exact(sock, 8))[0]
    if not b2 & 0x80:
        raise ValueError("client frame not masked")
    mask = _recv_exact(sock, 4)
    data = bytes(b ^ mask[i % 4] for i, b in enumerate(_recv_exact(sock, n)))
    return b1 & 0x0F, data


def _handler(standin: SlackSocketStandin) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args: object) -> None:
            pass

        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            self.rfile.read(length)
            if self.path.split("?")[0] != "/api/apps.connections.open":
                body = {"ok": False, "error": "unknown_method"}
            elif not self.headers.get("Authorization", "").startswith("Bearer xapp-"):
                body = {"ok": False, "error": "invalid_auth"}
            else:
                ticket = uuid.uuid4().hex
                url = f"ws://127.0.0.1:{standin.port}/link/?ticket={ticket}&app_id=A0STANDIN"
                body = {"ok": True, "url": url}
                with standin._lock:
                    standin.connections_opened += 1
            data = json.dumps(body).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json; charset=utf-8")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def do_GET(self) -> None:
            key = self.headers.get("Sec-WebSocket-Key")
            if not self.path.startswith("/link/") or key is None:
                self.send_error(404)
                return
            accept = base64.b64encode(hashlib.sha1((key + _GUID).encode()).digest()).decode()
            self.send_response(101, "Switching Protocols")
            self.send_header("Upgrade", "websocket")
            self.send_header("Connection", "Upgrade")
            self.send_header("Sec-WebSocket-Accept", accept)
            self.end_headers()
            self.wfile.flush()
            self.close_connection = True
            standin._serve_websocket(self.connection)

    return Handler
