"""The recording of a call, by call id only: the path comes from the database, never the request."""
from __future__ import annotations

import stat
from pathlib import Path

from fastapi import APIRouter, Depends, HTTPException
from fastapi.responses import FileResponse

from pipeline.store import reads
from pipeline.web.deps import RequestStore, User, call_for, current_user, get_store

router = APIRouter()

MEDIA_TYPES = {".wav": "audio/wav", ".mp3": "audio/mpeg", ".ogg": "audio/ogg", ".oga": "audio/ogg", ".opus": "audio/ogg",
               ".flac": "audio/flac", ".m4a": "audio/mp4", ".mp4": "audio/mp4", ".aac": "audio/aac", ".webm": "audio/webm"}


@router.get("/audio/{call_id:path}")
def call_audio(call_id: str, user: User = Depends(current_user), store: RequestStore = Depends(get_store)):
    """The stored recording with HTTP range requests (so the player can seek). Only the absolute
    `calls.source_path` of a call the user may see, a regular file, of an audio type; 404 otherwise."""
    call_for(store, user, call_id)
    source = reads.call_audio_source(store, call_id)
    store.close()  # do not hold the database while the file streams
    if not source or not source.get("source_path") or source.get("purged_at") is not None:
        raise HTTPException(404, "no recording for this call (retention may have removed it)")
    path = Path(source["source_path"])
    media_type = MEDIA_TYPES.get(path.suffix.lower())
    try:
        info = path.stat()
    except OSError:
        info = None
    if not path.is_absolute() or media_type is None or info is None or not stat.S_ISREG(info.st_mode):
        raise HTTPException(404, "the recording is not available")
    return FileResponse(path, media_type=media_type, headers={"Cache-Control": "private, max-age=300"})
