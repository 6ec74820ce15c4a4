"""Shared by the web tests: a live server in a thread, sign-in with a real form, accounts."""
from __future__ import annotations

import os
import re
import socket
import threading
import time
from pathlib import Path

import uvicorn

from pipeline.store import writes
from pipeline.store.database import Store
from pipeline.web.security import hash_password

ARTIFACTS = Path(os.environ.get("CALLQA_ARTIFACTS") or Path(__file__).resolve().parent / "artifacts")
CHROMIUM = "/usr/bin/chromium"

ACCOUNTS = {  # username: (role, agent_id)
    "rita": ("reviewer", None),
    "rob": ("reviewer", None),
    "lena": ("lead", None),
    "sarah": ("agent", "a001"),
    "dan": ("agent", "a002"),
}


def password(username: str) -> str:
    return f"pw-{username}-correct horse"


def add_accounts(db: Path) -> None:
    store = Store(db)
    for name, (role, agent) in ACCOUNTS.items():
        writes.add_user(store, name, hash_password(password(name)), role, agent, name.title())


def csrf(html: str) -> str:
    return re.search(r'name="csrf_token" value="([^"]+)"', html).group(1)


def sign_in(client, username: str, secret: str | None = None):
    page = client.get("/login")
    return client.post("/login", data={"username": username, "password": secret or password(username),
                                       "csrf_token": csrf(page.text), "next": "/queue"}, follow_redirects=False)


class LiveServer:
    """The app served by uvicorn in a thread on a free port of 127.0.0.1."""

    def __init__(self, app) -> None:
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            self.port = s.getsockname()[1]
        self.server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=self.port, log_level="warning"))
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def __enter__(self) -> "LiveServer":
        self.thread.start()
        deadline = time.monotonic() + 20
        while not self.server.started:
            if time.monotonic() > deadline:
                raise RuntimeError("the review app did not start")
            time.sleep(0.05)
        return self

    def __exit__(self, *exc) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=10)
