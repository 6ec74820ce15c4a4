"""Sign in and out."""
from __future__ import annotations

from urllib.parse import urlsplit

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import RedirectResponse
from starlette.concurrency import run_in_threadpool

from pipeline.store import reads
from pipeline.web.deps import RequestStore, csrf_protect, get_store, render
from pipeline.web.security import new_csrf_token, password_stamp, verify_password

router = APIRouter()


def _safe_next(target: str) -> str:
    """Only a path of this app (never another site) to go to after signing in."""
    parts = urlsplit(target or "")
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return "/queue"
    return target


@router.get("/login")
def login_page(request: Request, next: str = "/queue"):
    return render(request, "login.html", user=None, next=_safe_next(next), error=None)


@router.post("/login", dependencies=[Depends(csrf_protect)])
async def login(request: Request, username: str = Form(""), password: str = Form(""), next: str = Form("/queue"),
                store: RequestStore = Depends(get_store)):
    limiter = request.app.state.limiter
    client = request.client.host if request.client else "-"
    username = username.strip()[:200]
    wait = limiter.retry_after(username, client)
    if wait > 0:
        return render(request, "login.html", status_code=429, user=None, next=_safe_next(next),
                      error=f"Too many failed sign-ins. Try again in {int(wait // 60) + 1} minute(s).")
    account = await run_in_threadpool(reads.user_account, store, username)
    store.close()
    ok = await run_in_threadpool(verify_password, account["password_hash"] if account else None, password)
    if not ok or account["disabled"]:
        limiter.failed(username, client)
        return render(request, "login.html", status_code=401, user=None, next=_safe_next(next),
                      error="Wrong user name or password (or the account is disabled).")
    limiter.succeeded(username)
    request.session.clear()  # a fresh session (and CSRF token) on every sign-in
    request.session.update(user=account["username"], pw=password_stamp(account["password_hash"]), csrf=new_csrf_token())
    return RedirectResponse(_safe_next(next), status_code=303)


@router.post("/logout", dependencies=[Depends(csrf_protect)])
def logout(request: Request):
    request.session.clear()
    return RedirectResponse("/login", status_code=303)
