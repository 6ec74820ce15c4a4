"""Prefect flows over the `pipeline` library: they orchestrate, the library does the work."""
from pipeline.settings import apply_quiet_environment

apply_quiet_environment()  # before Prefect or onnxruntime are imported
