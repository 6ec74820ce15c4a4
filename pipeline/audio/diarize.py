"""Split a mono recording into its two speakers' turns, from speech activity and voice features.

Mono recordings are where commercial tools mix the parties up. The split here is the classic
two-speaker telephone recipe, in plain numpy:

1. **Windows**: the speech (Silero VAD spans) cut into 1.5 s windows, each described by the mean
   and spread of its spectral features (MFCCs and loudness) and its median pitch (`voices.py`).
2. **Two voices**: the windows split in two by spectral clustering (cosine affinities between
   windows, the sign of the graph's Fiedler vector).
3. **Turns**: a Gaussian mixture per voice, trained on its frames, scores every 10 ms frame; a
   Viterbi pass turns the scores into turns, where changing speaker inside continuous speech
   costs `switch_cost` (about half a second of clear evidence) and after a pause costs little.
   Models and turns are refined a few times. So the split never flips every second: a change of
   speaker needs sustained evidence, and a turn inside speech lasts at least `min_turn_s`.
4. **Three starts**: step 2 is tried with pitch weighing little, as set and much; the turns that
   fit the audio best win (a dominant voice, or one whose pitch jumps, otherwise gets cut in two).

The split says who spoke when (the voices in order of their first turn), not
who is the agent: that is decided from what each voice says, after transcription
(`pipeline.scoring.roles`). Until then `agent` is the voice that speaks first.

When the two "voices" may be one, `separable` is False and the call is flagged, not guessed. It
shows two ways: the voices' models barely tell their own frames apart (`separation` under
`min_separation`, e.g. one speaker alone), or the split flips back and forth without a pause far
faster than people take turns (`flicker`, see `Turns`): it is following one voice's intonation
or two very similar voices, not the turns. Measured on real speech (8-16 kHz): a real two-party
call 10-21 changes without a pause a minute of speech, and half its speech in stretches of 2.0 s
or longer; one speaker, or two similar voices, 24-44 changes a minute and stretches of 1.1-1.8 s.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from pipeline.audio import voices
from pipeline.audio.voices import VoiceOptions
from pipeline.records import Span

# Flicker: when the split changes speaker implausibly often (see the module docstring).
QUICK_GAP_S = 0.3           # a change of speaker with less pause than this is "without a pause"
FLICKER_MIN_SPEECH_S = 20.0  # less speech than this: too little to judge the turn-taking
FLICKER_MIN_CHANGES = 5
FLICKER_RATE = 24.0         # changes without a pause per minute of speech: always flicker
FLICKER_RATE_SHORT = 15.0   # ... or this many, when half the speech is in stretches under
FLICKER_TYPICAL_S = 1.8     # this long (time-weighted median stretch)


@dataclass(frozen=True)
class DiarizeOptions:
    """How speech is cut into two speakers' turns.

    Attributes:
      window_s, step_s: windows of speech clustered into two voices; 1.5 s holds enough sounds
        to describe a voice and is shorter than most turns.
      components: Gaussians per voice model (diagonal); 8 fits a minute of speech without
        learning the words.
      rounds: model-and-turns refinements; the split settles after two or three.
      smooth_s: frame scores are averaged over this long before the turns are found.
      switch_cost: log-likelihood a change of speaker inside continuous speech must earn
        (about 0.5 s of clearly one voice); after a pause (`pause_s` or longer) it costs
        `pause_cost`, since turns usually change at pauses.
      min_turn_s: a turn inside continuous speech shorter than this joins its neighbour.
      min_separation: below this mean frame log-likelihood ratio between the two voices' models
        (each on its own frames), the two "voices" may be one: not separable. Measured: one
        real voice split in two 1.5-2.3, one synthetic voice 1.4-5.5; two real voices 4.8-8.7,
        two synthetic ones 10 and more (one pair of similar synthetic voices 2.5, badly split).
        Alone it cannot tell one voice from two (a steady synthetic voice scores high): the
        flicker check and the roles decided from the words catch more.
      pitch_weight: weight of log pitch beside the MFCCs: a voice's pitch says much about it,
        but one voice's pitch also moves with its intonation.
      voice: the frame features.
    """

    window_s: float = 1.5
    step_s: float = 0.75
    components: int = 8
    rounds: int = 3
    smooth_s: float = 0.2
    switch_cost: float = 25.0
    pause_s: float = 0.15
    pause_cost: float = 3.0
    min_turn_s: float = 0.6
    min_separation: float = 3.0
    pitch_weight: float = 1.5
    voice: VoiceOptions = field(default_factory=VoiceOptions)


@dataclass(frozen=True)
class Turns:
    """How the split takes turns: changes of speaker without a pause per minute of speech, and
    the typical stretch (half of the speech lies in stretches at least this long)."""

    quick_changes: int
    per_minute: float
    typical_s: float

    @property
    def flicker(self) -> bool:
        return self.quick_changes >= FLICKER_MIN_CHANGES and (
            self.per_minute >= FLICKER_RATE
            or (self.per_minute >= FLICKER_RATE_SHORT and self.typical_s < FLICKER_TYPICAL_S)
        )


@dataclass(frozen=True)
class Diarization:
    """Two voices' stretches of speech. `agent` is the voice that speaks first until the roles
    are decided from the words (`pipeline.scoring.roles`); `customer` the other one."""

    agent: list[Span]
    customer: list[Span]
    separable: bool
    separation: float = 0.0  # mean frame log-likelihood ratio of each voice's own frames
    reason: str = ""         # why not separable, in words for the flag
    turns: Turns | None = None


def turn_taking(agent: list[Span], customer: list[Span], speech_s: float) -> Turns | None:
    """The split's turn-taking; None with less than FLICKER_MIN_SPEECH_S of speech."""
    stretches = sorted([(s.start, s.end, "agent") for s in agent] + [(s.start, s.end, "customer") for s in customer])
    if speech_s < FLICKER_MIN_SPEECH_S or not stretches:
        return None
    quick = sum(
        1 for prev, cur in zip(stretches, stretches[1:])
        if cur[2] != prev[2] and cur[0] - prev[1] < QUICK_GAP_S
    )
    lengths = np.sort(np.array([end - start for start, end, _ in stretches]))
    half = np.searchsorted(np.cumsum(lengths), lengths.sum() / 2)
    typical = float(lengths[min(half, lengths.size - 1)])
    return Turns(quick, round(quick / (speech_s / 60.0), 1), round(typical, 2))


# --- frames, windows, clusters ---------------------------------------------------------------------

def speech_mask(spans: list[Span], times: np.ndarray) -> np.ndarray:
    mask = np.zeros(times.size, dtype=bool)
    for span in spans:
        mask[np.searchsorted(times, span.start): np.searchsorted(times, span.end, side="right")] = True
    return mask


def normalise(feats: np.ndarray, hz: np.ndarray, mask: np.ndarray, pitch_weight: float) -> np.ndarray:
    """Features standardised over the speech frames (the call's channel and level taken out),
    with log pitch as a last column: voiced frames standardised and weighted, unvoiced ones far
    below them (so a voice model keeps a component for them)."""
    speech = feats[mask]
    out = (feats - speech.mean(axis=0)) / (speech.std(axis=0) + 1e-6)
    voiced = mask & (hz > 0)
    column = np.full(hz.size, -3.0 * pitch_weight)
    if voiced.sum() > 10:
        logs = np.log(hz[voiced])
        column[hz > 0] = pitch_weight * np.clip((np.log(hz[hz > 0]) - logs.mean()) / (logs.std() + 1e-6), -2.5, 2.5)
    return np.c_[out, column]


def runs(mask: np.ndarray) -> list[tuple[int, int]]:
    """[start, end) of each run of True."""
    edges = np.diff(np.r_[0, mask.astype(np.int8), 0])
    return list(zip(np.where(edges == 1)[0], np.where(edges == -1)[0]))


def windows(mask: np.ndarray, size: int, step: int) -> list[tuple[int, int]]:
    """Windows of `size` frames every `step` inside runs of speech; a shorter run is one window
    when it is at least a third of `size` (a short answer is a turn too)."""
    out = []
    for start, end in runs(mask):
        if end - start < size:
            if end - start >= size // 3:
                out.append((start, end))
            continue
        out.extend((s, s + size) for s in range(start, end - size + 1, step))
    return out


def describe(feats: np.ndarray, spans: list[tuple[int, int]], pitch_weight: float = 1.5) -> np.ndarray:
    """Each window as the mean and spread of its spectral frames and the median pitch of its
    voiced ones, standardised over the windows; pitch weighs `pitch_weight` times 3 columns."""
    spectral, column = feats[:, :-1], feats[:, -1]
    rows, tones = [], []
    for a, b in spans:
        voiced = column[a:b][column[a:b] > -2.9 * pitch_weight]
        rows.append(np.r_[spectral[a:b].mean(axis=0), spectral[a:b].std(axis=0)])
        tones.append(float(np.median(voiced)) if voiced.size >= 5 else np.nan)
    rows_arr = np.array(rows)
    rows_arr = (rows_arr - rows_arr.mean(axis=0)) / (rows_arr.std(axis=0) + 1e-6)
    tone = np.array(tones)
    tone = np.where(np.isnan(tone), np.nanmean(tone) if np.isfinite(tone).any() else 0.0, tone)
    tone = (tone - tone.mean()) / (tone.std() + 1e-6)
    return np.c_[rows_arr, np.repeat(pitch_weight * tone[:, None], 3, axis=1)]


def spectral_two(rows: np.ndarray, neighbours: float = 0.2) -> np.ndarray:
    """0/1 per row by spectral clustering: cosine affinities, each row keeping its nearest
    `neighbours` share, split on the sign of the graph's Fiedler vector."""
    unit = rows / (np.linalg.norm(rows, axis=1, keepdims=True) + 1e-9)
    affinity = unit @ unit.T
    keep = max(2, int(neighbours * rows.shape[0]))
    threshold = -np.sort(-affinity, axis=1)[:, keep - 1: keep]
    affinity = np.where(affinity >= threshold, np.maximum(affinity, 0.0), 0.0)
    affinity = np.maximum(affinity, affinity.T)
    degree = affinity.sum(axis=1) + 1e-9
    norm = affinity / np.sqrt(degree[:, None] * degree[None, :])
    vectors = np.linalg.eigh(norm)[1]
    fiedler = vectors[:, -2] / np.sqrt(degree)
    return two_clusters(fiedler[:, None])


def two_clusters(rows: np.ndarray, rounds: int = 20) -> np.ndarray:
    """0/1 per row by 2-means, started from the two ends of the rows' main axis (deterministic)."""
    centred = rows - rows.mean(axis=0)
    axis = np.linalg.svd(centred, full_matrices=False)[2][0]
    position = centred @ axis
    centres = np.stack([rows[position <= np.percentile(position, 20)].mean(axis=0),
                        rows[position >= np.percentile(position, 80)].mean(axis=0)])
    labels = np.zeros(rows.shape[0], dtype=int)
    for _ in range(rounds):
        distance = ((rows[:, None, :] - centres[None]) ** 2).sum(axis=2)
        new = distance.argmin(axis=1)
        if (new == labels).all() and _ > 0:
            break
        labels = new
        for k in (0, 1):
            if (labels == k).any():
                centres[k] = rows[labels == k].mean(axis=0)
    return labels


# --- voice models and turns -----------------------------------------------------------------------

@dataclass(frozen=True)
class Gmm:
    """A diagonal Gaussian mixture: weights (K), means (K x D), variances (K x D)."""

    weights: np.ndarray
    means: np.ndarray
    variances: np.ndarray

    def loglik(self, x: np.ndarray) -> np.ndarray:
        """Log-likelihood of each row of x."""
        inv = 1.0 / self.variances
        const = np.log(self.weights) - 0.5 * (np.log(2 * np.pi * self.variances).sum(axis=1) + (self.means**2 * inv).sum(axis=1))
        per = const[None] - 0.5 * (x**2) @ inv.T + x @ (self.means * inv).T
        top = per.max(axis=1, keepdims=True)
        return (top + np.log(np.exp(per - top).sum(axis=1, keepdims=True)))[:, 0]


def fit_gmm(x: np.ndarray, components: int, rounds: int = 8, floor: float = 1e-2) -> Gmm:
    """EM for a diagonal GMM, started from evenly spaced frames of x sorted on its first axis."""
    k = max(1, min(components, x.shape[0] // 20))
    order = np.argsort(x[:, 0] + 0.5 * x[:, 1 % x.shape[1]])
    means = x[order[np.linspace(0, x.shape[0] - 1, k + 2).astype(int)[1:-1]]].copy()
    variances = np.tile(x.var(axis=0) + floor, (k, 1))
    weights = np.full(k, 1.0 / k)
    for _ in range(rounds):
        inv = 1.0 / variances
        per = (np.log(weights) - 0.5 * np.log(2 * np.pi * variances).sum(axis=1) - 0.5 * (means**2 * inv).sum(axis=1))[None] \
            - 0.5 * (x**2) @ inv.T + x @ (means * inv).T
        per -= per.max(axis=1, keepdims=True)
        resp = np.exp(per)
        resp /= resp.sum(axis=1, keepdims=True)
        mass = resp.sum(axis=0) + 1e-6
        weights = mass / mass.sum()
        means = (resp.T @ x) / mass[:, None]
        variances = np.maximum((resp.T @ (x**2)) / mass[:, None] - means**2, floor)
    return Gmm(weights, means, variances)


def smooth(values: np.ndarray, frames: int) -> np.ndarray:
    if frames <= 1:
        return values
    return np.convolve(values, np.ones(frames) / frames, mode="same")


def viterbi(score: np.ndarray, continuous: np.ndarray, switch_cost: float, pause_cost: float) -> np.ndarray:
    """Best 0/1 path for per-frame evidence `score` (>0: voice 0), where changing voice costs
    `switch_cost` when the frame follows its predecessor in continuous speech, else `pause_cost`."""
    n = score.size
    if n == 0:
        return np.zeros(0, dtype=int)
    gain = np.stack([score / 2, -score / 2], axis=1)
    back = np.zeros((n, 2), dtype=np.int8)
    best = gain[0].copy()
    for t in range(1, n):
        cost = switch_cost if continuous[t] else pause_cost
        stay, move = best, best[::-1] - cost
        back[t] = move > stay  # 1: came from the other voice
        best = np.maximum(stay, move) + gain[t]
    path = np.zeros(n, dtype=int)
    path[-1] = int(best.argmax())
    for t in range(n - 1, 0, -1):
        path[t - 1] = path[t] ^ back[t, path[t]]
    return path


def join_short_turns(labels: np.ndarray, continuous: np.ndarray, min_frames: int) -> np.ndarray:
    """A turn shorter than `min_frames` inside continuous speech (no pause on either side) takes
    its neighbours' voice: flicker, not a turn."""
    labels = labels.copy()
    starts = np.r_[0, np.where((np.diff(labels) != 0) | ~continuous[1:])[0] + 1]
    ends = np.r_[starts[1:], labels.size]
    for i, (a, b) in enumerate(zip(starts, ends)):
        if b - a >= min_frames or i == 0 or i == len(starts) - 1:
            continue
        inside = continuous[a] and (b >= labels.size or continuous[b])
        if inside and labels[a - 1] == labels[b] != labels[a]:
            labels[a:b] = labels[a - 1]
    return labels


def refine(x: np.ndarray, labels: np.ndarray, continuous: np.ndarray, options: DiarizeOptions) -> tuple[np.ndarray, float, float]:
    """Voice models and turns, refined `rounds` times from a first labelling of the frames.

    Returns the labels, the separation (mean log-likelihood ratio of each frame for its own
    voice's model) and the fit: mean log-likelihood of the frames under their voice's model, less
    the cost of the changes of voice, per frame (to choose among starts)."""
    hop = options.voice.hop_s
    separation, fit = 0.0, -np.inf
    for _ in range(options.rounds):
        if min((labels == 0).sum(), (labels == 1).sum()) < 50:
            return labels, 0.0, -np.inf
        models = [fit_gmm(x[labels == k], options.components) for k in (0, 1)]
        own = np.stack([m.loglik(x) for m in models], axis=1)
        ratio = own[:, 0] - own[:, 1]
        separation = float(np.mean(np.where(labels == 0, ratio, -ratio)))
        score = smooth(np.clip(ratio, -10, 10), max(1, int(options.smooth_s / hop)))
        labels = viterbi(score, continuous, options.switch_cost, options.pause_cost)
        labels = join_short_turns(labels, continuous, int(options.min_turn_s / hop))
        changes = np.diff(labels) != 0
        cost = np.where(continuous[1:], options.switch_cost, options.pause_cost)[changes].sum()
        fit = float((own[np.arange(labels.size), labels].sum() - cost) / labels.size)
    return labels, separation, fit


def label_frames(feats: np.ndarray, mask: np.ndarray, options: DiarizeOptions) -> tuple[np.ndarray, np.ndarray, float]:
    """Voice 0/1 of each speech frame (in order), whether each follows its predecessor without a
    pause, and the separation of the two voice models.

    The first split of the windows decides much, and which features should lead it depends on
    the voices (spectrum for two voices of one pitch, pitch for one synthesiser's two voices),
    so it is tried with pitch weighing little, as set, and much; the start whose refined turns
    fit the audio best wins (a likelihood, comparable since every start ends in models of the
    same size)."""
    hop = options.voice.hop_s
    index = np.where(mask)[0]
    continuous = np.r_[False, np.diff(index) <= max(1, int(options.pause_s / hop))]
    spans = windows(mask, int(options.window_s / hop), int(options.step_s / hop))
    x = feats[index]
    if len(spans) < 4:
        return np.zeros(index.size, dtype=int), continuous, 0.0
    best = (np.zeros(index.size, dtype=int), 0.0, -np.inf)
    for weight in sorted({options.pitch_weight / 3, options.pitch_weight, options.pitch_weight * 2}):
        clusters = spectral_two(describe(feats, spans, weight))
        # Frames take the voice of the windows that cover them (majority).
        votes = np.zeros((feats.shape[0], 2))
        for (a, b), c in zip(spans, clusters):
            votes[a:b, c] += 1
        labels, separation, fit = refine(x, (votes[index, 1] > votes[index, 0]).astype(int), continuous, options)
        if fit > best[2]:
            best = (labels, separation, fit)
    return best[0], continuous, best[1]


def to_spans(index: np.ndarray, labels: np.ndarray, continuous: np.ndarray, times: np.ndarray, hop: float) -> tuple[list[Span], list[Span]]:
    """Frames back to spans per voice, cut at pauses and changes of voice."""
    out: tuple[list[Span], list[Span]] = ([], [])
    if index.size == 0:
        return out
    cuts = np.r_[0, np.where((np.diff(labels) != 0) | ~continuous[1:])[0] + 1, index.size]
    for a, b in zip(cuts[:-1], cuts[1:]):
        start, end = float(times[index[a]] - hop / 2), float(times[index[b - 1]] + hop / 2)
        out[labels[a]].append(Span(round(max(0.0, start), 2), round(end, 2)))
    return out


def split_speakers(samples: np.ndarray, spans: list[Span], sample_rate: int = 16_000,
                   options: DiarizeOptions = DiarizeOptions()) -> Diarization:
    """Cut speech spans into two voices' turns (`agent`: the voice heard first, for now)."""
    feats = voices.features(samples, options.voice, sample_rate)
    times = voices.frame_times(feats.shape[0], options.voice)
    mask = speech_mask(spans, times)
    if mask.sum() < int(3.0 / options.voice.hop_s):
        return Diarization(list(spans), [], False, 0.0, "too little speech to hear two voices")
    feats = normalise(feats, voices.pitch(samples, options.voice, sample_rate)[: feats.shape[0]], mask, options.pitch_weight)
    labels, continuous, separation = label_frames(feats, mask, options)
    index = np.where(mask)[0]
    first, second = to_spans(index, labels, continuous, times, options.voice.hop_s)
    if first and second and second[0].start < first[0].start:
        first, second = second, first
    speech_s = float(mask.sum() * options.voice.hop_s)
    turns = turn_taking(first, second, speech_s)
    share = sum(s.duration for s in first) / max(speech_s, 1e-9)
    reason = ""
    if not first or not second:
        reason = "one voice only"
    elif separation < options.min_separation:
        reason = f"the two voice models barely differ: separation {separation:.2f} < {options.min_separation:.2f}"
    elif not 0.05 <= share <= 0.95:
        reason = f"one voice has {100 * max(share, 1 - share):.0f} % of the speech"
    elif turns is not None and turns.flicker:
        reason = (f"the speaker changes {turns.per_minute:.0f} times a minute without a pause, half the speech "
                  f"in stretches of {turns.typical_s:.1f} s or less: similar voices, or one")
    return Diarization(first, second, not reason, round(separation, 3), reason, turns)
