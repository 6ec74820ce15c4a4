"""callqa: score every call-centre call against its SOP scorecard.

The library runs without Prefect. One call's journey, stage by stage:

    audio.load_call()            decode, resample, split channels          (pydub)
    activity.analyse()           speech per party, holds, call metrics     (Silero VAD)
    transcribe.transcribe_call() utterances with word times                (faster-whisper)
    detect.detect()              findings with evidence                    (spaCy Matcher)
    score.score_call()           item results, call score, flags
    store.Store.save()           one transaction per call                  (DuckDB)

`process.process_call()` runs them in that order for one recording.
"""

__version__ = "0.1.0"
