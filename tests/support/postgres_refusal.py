"""A loopback server that speaks PostgreSQL's start-up protocol just far enough to refuse a
password, as a real server with ``password`` (or md5/scram) authentication does.

The test PostgreSQL trusts every local connection, so a wrong password would be accepted
there; this stand-in answers exactly what a server answers instead (protocol 3.0): ``N`` to
an SSL or GSSAPI encryption request, ``AuthenticationCleartextPassword`` to the start-up
message, then, after the password message, an ``ErrorResponse`` with severity FATAL, SQLSTATE
28P01 and the server's own text, and it closes the connection.
"""

from __future__ import annotations

import contextlib
import socket
import struct
import threading
from collections.abc import Iterator
from contextlib import contextmanager

_SSL_REQUEST = 80877103
_GSS_REQUEST = 80877104
_PROTOCOL_3 = 196608


def _recv_exact(conn: socket.socket, n: int) -> bytes:
    data = b""
    while len(data) < n:
        chunk = conn.recv(n - len(data))
        if not chunk:
            raise ConnectionError("client went away")
        data += chunk
    return data


def _error_response(sqlstate: str, message: str) -> bytes:
    fields = b"".join(
        code + value.encode() + b"\0"
        for code, value in ((b"S", "FATAL"), (b"V", "FATAL"), (b"C", sqlstate), (b"M", message))
    )
    body = fields + b"\0"
    return b"E" + struct.pack("!I", len(body) + 4) + body


def _serve_one(conn: socket.socket) -> None:
    with conn:
        while True:
            length, code = struct.unpack("!II", _recv_exact(conn, 8))
            if code in (_SSL_REQUEST, _GSS_REQUEST):
                conn.sendall(b"N")
                continue
            if code != _PROTOCOL_3:
                return
            params = _recv_exact(conn, length - 8).split(b"\0")
            user = params[params.index(b"user") + 1].decode() if b"user" in params else ""
            break
        conn.sendall(b"R" + struct.pack("!II", 8, 3))  # AuthenticationCleartextPassword
        kind = _recv_exact(conn, 1)
        (size,) = struct.unpack("!I", _recv_exact(conn, 4))
        _recv_exact(conn, size - 4)
        if kind == b"p":
            conn.sendall(
                _error_response("28P01", f'password authentication failed for user "{user}"')
            )


@contextmanager
def refusing_postgres() -> Iterator[int]:
    """Yield the port of a server that refuses every password; stopped on exit."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(8)
    listener.settimeout(0.2)
    stop = threading.Event()

    def accept() -> None:
        while not stop.is_set():
            try:
                conn, _ = listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            conn.settimeout(5)
            threading.Thread(target=_safe_serve, args=(conn,), daemon=True).start()

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    try:
        yield int(listener.getsockname()[1])
    finally:
        stop.set()
        listener.close()
        thread.join(timeout=5)


def _safe_serve(conn: socket.socket) -> None:
    # A client that hung up mid-handshake: nothing to answer.
    with contextlib.suppress(ConnectionError, OSError, struct.error):
        _serve_one(conn)
