"""A party's samples on disk (`pipeline.audio.samples.Samples`) slice like the float32 array
they replace, so every stage reads the same numbers it read from memory."""
from __future__ import annotations

import numpy as np
import pytest

from pipeline.audio.samples import Samples


def _stored(pcm: np.ndarray, blocks: int = 3) -> Samples:
    samples = Samples()
    for part in np.array_split(pcm, blocks):
        samples.append(part)
    return samples


def test_slices_read_back_what_an_in_memory_float32_array_holds():
    pcm = np.random.default_rng(7).integers(-32768, 32767, 10_001, dtype=np.int16)
    expected = pcm.astype(np.float32) * np.float32(1 / 32768)
    samples = _stored(pcm)
    assert len(samples) == samples.size == 10_001 and samples.shape == (10_001,)
    for key in (slice(None), slice(0, 5), slice(9_990, None), slice(-7, None), slice(3, 3), slice(20_000, 30_000),
                slice(5, 2), slice(None, -1)):
        got = samples[key]
        assert got.dtype == np.float32
        assert np.array_equal(got, expected[key]), key
    assert samples[-1] == expected[-1] and samples[0] == expected[0]
    assert np.array_equal(np.asarray(samples), expected)
    assert np.asarray(samples, dtype=np.float64).dtype == np.float64


def test_what_an_array_refuses_a_party_refuses_too():
    samples = _stored(np.zeros(10, np.int16), 1)
    with pytest.raises(IndexError):
        samples[10]
    with pytest.raises(TypeError):
        samples[::2]


def test_an_empty_party_is_empty():
    samples = Samples()
    assert samples.size == 0 and samples[:].size == 0 and samples[0:100].dtype == np.float32
