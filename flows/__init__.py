"""Prefect flows over the `pipeline` library: they orchestrate, the library does the work."""
import os

# Quiet, offline defaults, set before Prefect or onnxruntime are imported.
os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
os.environ.setdefault("ORT_DISABLE_TELEMETRY", "1")
os.environ.setdefault("DO_NOT_TRACK", "1")
