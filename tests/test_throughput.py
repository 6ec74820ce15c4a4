"""Throughput levers that change how Whisper is fed, on plain spans (no audio, no model)."""
from pipeline.audio.transcribe import pack_windows
from pipeline.records import Span


def test_regions_share_a_window_while_their_audio_fits_in_30_s():
    regions = [Span(0, 10), Span(40, 55), Span(100, 104), Span(200, 231), Span(300, 301)]
    windows = pack_windows(regions)
    assert windows == [[Span(0, 10), Span(40, 55), Span(100, 104)], [Span(200, 231)], [Span(300, 301)]]
    assert all(sum(r.duration for r in w) <= 30 or len(w) == 1 for w in windows)  # a long region stays alone
    assert [r for w in windows for r in w] == regions  # every region once, in order
    assert pack_windows([]) == []
