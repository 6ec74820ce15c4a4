"""The app factory: middleware, error pages, routers."""
from __future__ import annotations

from pathlib import Path
from urllib.parse import quote

from fastapi import FastAPI, HTTPException, Request
from fastapi.responses import RedirectResponse
from fastapi.staticfiles import StaticFiles
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.middleware.sessions import SessionMiddleware

from pipeline.store.database import NoDatabase, StorageError, Store, StoreBusy
from pipeline.web.deps import NotSignedIn, render
from pipeline.web.routers import audio, auth, calibration, calls, disputes, queue, scorecards
from pipeline.web.security import SignInLimiter, session_secret

STATIC = Path(__file__).resolve().parent / "static"

SECURITY_HEADERS = {
    # Scripts and styles only from this app (no inline script can run even if text were not escaped).
    "Content-Security-Policy": "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
                               "media-src 'self'; object-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'",
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",
}


def create_app(db_path: str | Path, secret_key: str | None = None, wait_s: float = 60.0,
               limiter: SignInLimiter | None = None, session_max_age_s: int = 12 * 3600) -> FastAPI:
    """The workbench for one database. The database must exist (its schema is brought up to date
    here, once); the session key comes from `secret_key`, $CALLQA_SECRET_KEY or `<db>.secret`."""
    db_path = Path(db_path).expanduser().resolve()
    if not db_path.is_file():
        raise NoDatabase(f"no callqa database at {db_path}: run `callqa score` first, or pass --db")
    Store(db_path)  # create the review tables and views on an older database
    app = FastAPI(title="callqa review", docs_url=None, redoc_url=None, openapi_url=None)
    app.state.db_path = db_path
    app.state.wait_s = wait_s
    app.state.limiter = limiter or SignInLimiter()
    app.add_middleware(SessionMiddleware, secret_key=secret_key or session_secret(db_path),
                       session_cookie="callqa_session", max_age=session_max_age_s, same_site="strict",
                       https_only=False)  # served on 127.0.0.1 over http; the cookie is always HttpOnly

    @app.middleware("http")
    async def security_headers(request: Request, call_next):
        response = await call_next(request)
        for key, value in SECURITY_HEADERS.items():
            response.headers.setdefault(key, value)
        if request.url.path.startswith(("/calls", "/queue", "/audio", "/disputes", "/calibration", "/scorecards",
                                          "/coaching")):
            response.headers.setdefault("Cache-Control", "no-store")
        return response

    @app.exception_handler(NotSignedIn)
    async def to_sign_in(request: Request, exc: NotSignedIn):
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        return RedirectResponse("/login?next=" + quote(target, safe=""), status_code=303)

    @app.exception_handler(StarletteHTTPException)
    async def error_page(request: Request, exc: StarletteHTTPException):
        return render(request, "error.html", status_code=exc.status_code, user=None,
                      title={403: "Not allowed", 404: "Not found"}.get(exc.status_code, "Something went wrong"),
                      message=str(exc.detail))

    @app.exception_handler(StoreBusy)
    async def busy_page(request: Request, exc: StoreBusy):
        return render(request, "error.html", status_code=503, user=None, title="The database is busy",
                      message="Another callqa process is holding the database. Nothing was lost: try again in a moment.")

    @app.exception_handler(StorageError)
    async def storage_page(request: Request, exc: StorageError):
        return render(request, "error.html", status_code=500, user=None, title="The database cannot be read",
                      message=str(exc))

    @app.get("/", include_in_schema=False)
    def home():
        return RedirectResponse("/queue", status_code=303)

    app.mount("/static", StaticFiles(directory=STATIC), name="static")
    for router in (auth.router, queue.router, calls.router, audio.router, disputes.router, calibration.router,
                   scorecards.router):
        app.include_router(router)
    from pipeline.web.routers import coaching; app.include_router(coaching.router)  # agent reports, trends, coaching log
    return app


__all__ = ["create_app", "HTTPException"]
