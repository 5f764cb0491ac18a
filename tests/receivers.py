"""Loopback receivers for the operator's notices: a webhook (HTTP) and a mail server (SMTP).

The SMTP receiver is written here by hand on the standard library's socketserver: aiosmtpd is not
installed, and the standard library's own smtpd is deprecated (gone in Python 3.12). It speaks
just enough SMTP (HELO/EHLO, MAIL, RCPT, DATA, QUIT) for smtplib to deliver a message to it.
"""

from __future__ import annotations

import email
import email.policy
import json
import socketserver
import threading
from email.message import EmailMessage
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class _Webhook(BaseHTTPRequestHandler):
    def do_POST(self):  # noqa: N802  (the name http.server calls)
        body = self.rfile.read(int(self.headers["Content-Length"]))
        self.server.received.append(
            {"content_type": self.headers["Content-Type"], "json": json.loads(body)}
        )
        self.send_response(200)
        self.end_headers()
        self.wfile.write(b"1")

    def log_message(self, *args):
        pass


class _SMTP(socketserver.StreamRequestHandler):
    def reply(self, line: str) -> None:
        self.wfile.write(line.encode() + b"\r\n")

    def handle(self):
        self.reply("220 localhost test receiver")
        sender, recipients = None, []
        while line := self.rfile.readline():
            command = line.decode().strip()
            verb = command.upper()
            if verb.startswith(("EHLO", "HELO")):
                self.reply("250 localhost")
            elif verb.startswith("MAIL FROM:"):
                sender, recipients = command[10:].strip(), []
                self.reply("250 OK")
            elif verb.startswith("RCPT TO:"):
                recipients.append(command[8:].strip())
                self.reply("250 OK")
            elif verb == "DATA":
                self.reply("354 end with <CRLF>.<CRLF>")
                lines = []
                while (data := self.rfile.readline()) not in (b".\r\n", b""):
                    lines.append(data[1:] if data.startswith(b"..") else data)  # dot-stuffing
                message = email.message_from_bytes(b"".join(lines), policy=email.policy.default)
                self.server.received.append({"from": sender, "to": recipients, "message": message})
                self.reply("250 OK queued")
            elif verb == "QUIT":
                self.reply("221 bye")
                return
            elif verb in ("RSET", "NOOP"):
                self.reply("250 OK")
            else:
                self.reply("502 not implemented")


class _SMTPServer(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True


class Receivers:
    """Both receivers on 127.0.0.1, each on a free port, serving in threads until closed."""

    def __init__(self):
        self.http = ThreadingHTTPServer(("127.0.0.1", 0), _Webhook)
        self.smtp = _SMTPServer(("127.0.0.1", 0), _SMTP)
        for server in (self.http, self.smtp):
            server.received = []
            threading.Thread(target=server.serve_forever, daemon=True).start()

    @property
    def webhook_url(self) -> str:
        return f"http://127.0.0.1:{self.http.server_address[1]}/hooks/bluelight"

    @property
    def smtp_port(self) -> int:
        return self.smtp.server_address[1]

    def posts_about(self, run_id: str) -> list[str]:
        """Texts posted to the webhook that name the run."""
        return [p["json"]["text"] for p in self.http.received if run_id in p["json"]["text"]]

    def mails_about(self, run_id: str) -> list[EmailMessage]:
        return [m["message"] for m in self.smtp.received if run_id in m["message"]["Subject"]]

    def close(self) -> None:
        for server in (self.http, self.smtp):
            server.shutdown()
            server.server_close()
