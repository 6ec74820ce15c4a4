"""The reviewer workbench: `callqa review` serves it on 127.0.0.1.

FastAPI with Jinja2 templates and plain forms (one small local script, no build step). One router
per area (`routers/`), dependencies for the database and the signed-in user (`deps.py`); every
page reads through `pipeline.store.reads` and every write goes through `pipeline.store.writes`
(short transactions, no run lock: reviews go in between the nightly run's calls).

    /login /logout     sign in and out (argon2 hashes, failed sign-ins limited)
    /queue             flagged and uncertain calls first, filters, counts, a calibration sample
    /calls/<id>        audio, transcript, timeline, scorecard with evidence, the review form
    /audio/<id>        the recording, by call id, with HTTP range requests
    /disputes          disputes of reviewed items; a lead resolves them
    /calibration       machine-vs-reviewer and reviewer-vs-reviewer agreement per item
    /scorecards        agent scorecards on final (reviewed) results
"""
from pipeline.web.app import create_app

__all__ = ["create_app"]
