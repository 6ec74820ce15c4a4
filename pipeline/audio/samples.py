"""One party's 16 kHz samples, kept on disk and read a stretch at a time.

Why: a call's stages read its audio a stretch at a time (Silero VAD in blocks, Whisper in 30 s
windows, the bleed and same-mix checks in short windows), yet holding every party's samples in
memory made a call's peak grow with its length: 64 KB per second per party as float32, 920 MB
for two hours of stereo before Whisper ran at all. Here the decoded 16-bit samples go to an
unnamed temporary file (32 KB per second per party on disk; the operating system removes it
when the call is done, even if the process is killed) and each slice is read from it as the
float32 array Silero and Whisper take. Nothing else in the pipeline changes: `Samples` slices
like a 1-D ndarray, so the stages work on it and on plain arrays (tests, mono mixes) alike.
"""
from __future__ import annotations

import os
import tempfile

import numpy as np

SCALE = np.float32(1 / 32768)  # 16-bit PCM to [-1, 1), as faster-whisper's decode_audio does


class Samples:
    """A party's samples: int16 on disk, float32 when sliced (`samples[a:b]`, step 1 only).

    `np.asarray(samples)` reads the whole party at once: for short clips and for analyses that
    need every sample together (voices of a mono call); the pipeline's stereo path never does.
    The file closes (and the system frees it) when the object is dropped, after its call.
    """

    ndim = 1
    dtype = np.dtype(np.float32)

    def __init__(self) -> None:
        self._file = tempfile.TemporaryFile(prefix="callqa-samples-", buffering=0)
        self.size = 0

    def append(self, pcm: np.ndarray) -> None:
        """Add 16-bit samples at the end (decoding writes the call block by block)."""
        pcm = np.ascontiguousarray(pcm, dtype="<i2")
        self._file.write(pcm.tobytes())
        self.size += pcm.size

    @property
    def shape(self) -> tuple[int]:
        return (self.size,)

    def __len__(self) -> int:
        return self.size

    def __getitem__(self, key):
        if isinstance(key, (int, np.integer)):
            index = key + self.size if key < 0 else key
            if not 0 <= index < self.size:
                raise IndexError(f"sample {key} out of range for {self.size} samples")
            return self[index:index + 1][0]
        if not isinstance(key, slice) or key.step not in (None, 1):
            raise TypeError("Samples take an int or a slice with step 1")
        start, stop, _ = key.indices(self.size)
        count = max(0, stop - start)
        data = os.pread(self._file.fileno(), count * 2, start * 2) if count else b""
        out = np.empty(len(data) // 2, np.float32)
        np.multiply(np.frombuffer(data, "<i2"), SCALE, out=out, casting="unsafe")
        return out

    def __array__(self, dtype=None, copy=None) -> np.ndarray:
        whole = self[:]
        return whole if dtype is None else whole.astype(dtype, copy=False)

    def __repr__(self) -> str:
        return f"Samples({self.size} samples, {self.size / 16_000:.1f} s at 16 kHz)"
