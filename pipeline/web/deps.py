"""What every route shares: the database for one request, the signed-in user, CSRF checks, templates."""
from __future__ import annotations

from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator, Optional
from urllib.parse import quote

from fastapi import Depends, HTTPException, Request
from fastapi.templating import Jinja2Templates

from pipeline.scoring.rules import clock
from pipeline.store import reads
from pipeline.store.database import Store
from pipeline.web.security import new_csrf_token, password_stamp, same_token

TEMPLATES = Jinja2Templates(directory=str(Path(__file__).resolve().parent / "templates"))


class RequestStore(Store):
    """The database for one request: one read connection, opened on first use and shared by every
    read query of the request (a page runs several), closed at the end of the request.

    A write (`transaction()`) closes the read connection first: DuckDB will not open the same file
    read-write and read-only in one process at once, and the access lock is per connection.
    """

    def __init__(self, path: Path, wait_s: float) -> None:  # noqa: D107 - no schema work per request
        self.path, self.wait_s = path, wait_s
        self._reader = None
        self._reader_cm = None

    @contextmanager
    def connect(self, read_only: bool = False):
        if not read_only:
            self.close()
            with Store.connect(self, read_only=False) as con:
                yield con
            return
        if self._reader is None:
            self._reader_cm = Store.connect(self, read_only=True)
            self._reader = self._reader_cm.__enter__()
        yield self._reader

    def close(self) -> None:
        if self._reader_cm is not None:
            cm, self._reader_cm, self._reader = self._reader_cm, None, None
            cm.__exit__(None, None, None)


def get_store(request: Request) -> Iterator[RequestStore]:
    store = RequestStore(request.app.state.db_path, request.app.state.wait_s)
    try:
        yield store
    finally:
        store.close()


@dataclass(frozen=True)
class User:
    username: str
    role: str  # reviewer | lead | agent
    agent_id: Optional[str]
    display_name: Optional[str]

    @property
    def can_review(self) -> bool:
        return self.role in ("reviewer", "lead")

    @property
    def is_lead(self) -> bool:
        return self.role == "lead"

    @property
    def own_agent(self) -> str:
        """The agent whose calls this user is limited to ('' for reviewers and leads)."""
        return (self.agent_id or "-no-agent-") if self.role == "agent" else ""


class NotSignedIn(Exception):
    """Raised by `current_user`; the app answers with a redirect to the sign-in page."""


def current_user(request: Request, store: RequestStore = Depends(get_store)) -> User:
    """The signed-in user, checked against the database on every request (a disabled account is
    out at once)."""
    username = request.session.get("user")
    if not username:
        raise NotSignedIn()
    account = reads.user_account(store, username)
    if account is None or account["disabled"] or password_stamp(account["password_hash"]) != request.session.get("pw"):
        request.session.clear()
        raise NotSignedIn()
    return User(account["username"], account["role"], account.get("agent_id"), account.get("display_name"))


def reviewer(user: User = Depends(current_user)) -> User:
    if not user.can_review:
        raise HTTPException(403, "reviewers and leads only")
    return user


def lead(user: User = Depends(current_user)) -> User:
    if not user.is_lead:
        raise HTTPException(403, "leads only")
    return user


def csrf_token(request: Request) -> str:
    token = request.session.get("csrf")
    if not token:
        token = request.session["csrf"] = new_csrf_token()
    return token


async def csrf_protect(request: Request) -> None:
    """Every form posts the session's token; a post without it (another site's form) is refused."""
    form = await request.form()
    if not same_token(form.get("csrf_token"), request.session.get("csrf")):
        raise HTTPException(403, "the form expired or came from elsewhere: reload the page and try again")


def call_for(store: RequestStore, user: User, call_id: str) -> str:
    """The call's agent, if the user may see the call; 404 otherwise (an agent does not learn that
    another agent's call exists)."""
    agent = reads.call_agent(store, call_id)
    if agent is None or (user.role == "agent" and agent != user.own_agent):
        raise HTTPException(404, "no such call")
    return agent


def records(frame) -> list[dict]:
    """A DataFrame as rows for a template, with missing values as None (never 'nan')."""
    return frame.astype(object).where(frame.notna(), None).to_dict("records")


def render(request: Request, template: str, status_code: int = 200, **context):
    return TEMPLATES.TemplateResponse(request, template, {"csrf_token": csrf_token(request), **context},
                                      status_code=status_code)


def call_url(call_id: str) -> str:
    return "/calls/" + quote(str(call_id), safe="/~")


def review_url(call_id: str) -> str:
    return "/reviews/" + quote(str(call_id), safe="/~")


def audio_url(call_id: str) -> str:
    return "/audio/" + quote(str(call_id), safe="/~")


def _score(value) -> str:
    if value is None or value != value:
        return "-"
    return f"{float(value):g}"


def _day(value) -> str:
    if value is None or value != value:
        return "-"
    return value.strftime("%Y-%m-%d") if hasattr(value, "strftime") else str(value)[:10]


def _when(value) -> str:
    if value is None or value != value:
        return "-"
    try:
        return value.strftime("%Y-%m-%d %H:%M")
    except AttributeError:
        return str(value)


TEMPLATES.env.filters.update(clock=lambda s: clock(float(s)) if s is not None and s == s else "-",
                             score=_score, when=_when, day=_day, call_url=call_url, audio_url=audio_url, review_url=review_url,
                             q=lambda v: quote(str(v), safe=""))
