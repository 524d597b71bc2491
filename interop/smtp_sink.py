"""A real SMTP server for the mail tests: aiosmtpd, writing each message it accepts to a file.

    python smtp_sink.py --dir DIR [--port N] [--starttls CERT KEY | --tls CERT KEY]

Prints "LISTENING <port>" once it accepts connections, then serves until killed. Every accepted
message becomes DIR/<n>.eml (written to a temporary name first, then renamed, so a reader never
sees half a file). --starttls offers STARTTLS and refuses mail without it; --tls speaks TLS from
the first byte (SMTPS).
"""

import argparse
import asyncio
import itertools
import os
import ssl
import sys

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP


class Store:
    def __init__(self, directory):
        self.directory = directory
        self.counter = itertools.count(1)

    async def handle_DATA(self, server, session, envelope):
        n = next(self.counter)
        tmp = os.path.join(self.directory, f".{n}.tmp")
        with open(tmp, "wb") as f:
            f.write(b"X-Envelope-To: " + ",".join(envelope.rcpt_tos).encode() + b"\r\n")
            f.write(envelope.original_content or envelope.content)
        os.replace(tmp, os.path.join(self.directory, f"{n:05d}.eml"))
        return "250 Message accepted for delivery"


class TlsController(Controller):
    """A controller whose SMTP sessions offer STARTTLS and require it."""

    def __init__(self, handler, tls_context, **kw):
        self.tls_context = tls_context
        super().__init__(handler, **kw)

    def factory(self):
        return SMTP(self.handler, tls_context=self.tls_context, require_starttls=True)


def context(cert, key):
    ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ctx.load_cert_chain(cert, key)
    return ctx


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--dir", required=True)
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--starttls", nargs=2, metavar=("CERT", "KEY"))
    ap.add_argument("--tls", nargs=2, metavar=("CERT", "KEY"))
    args = ap.parse_args()
    os.makedirs(args.dir, exist_ok=True)
    handler = Store(args.dir)
    port = args.port
    if port == 0:
        import socket

        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
    if args.starttls:
        ctl = TlsController(handler, context(*args.starttls), hostname="127.0.0.1", port=port)
    elif args.tls:
        ctl = Controller(handler, hostname="127.0.0.1", port=port, ssl_context=context(*args.tls))
    else:
        ctl = Controller(handler, hostname="127.0.0.1", port=port)
    ctl.start()
    print(f"LISTENING {port}", flush=True)
    try:
        asyncio.new_event_loop().run_until_complete(asyncio.Event().wait())
    finally:
        ctl.stop()


if __name__ == "__main__":
    sys.exit(main())
