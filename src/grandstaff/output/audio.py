"""The piece as sound: a WAV file rendered in process from its MIDI by a SoundFont synthesiser.

Pip alone installs everything it needs, no system package:

- **midirenderer** (MIT, a Rust wheel built on RustySynth) turns MIDI and a SoundFont into
  48 kHz stereo 16-bit PCM;
- **the sound**: by default the General MIDI SoundFont TimGM6mb (Tim Brechbill, GPL-2.0) that
  the ``pretty-midi`` wheel carries; we read it where pip put it and never copy or change it.
  Any other ``.sf2`` file can be passed as ``soundfont`` (for example the larger
  FluidR3_GM.sf2 of Debian's ``fluid-soundfont-gm``).

The rendered audio is scaled so that its loudest sample peaks at :data:`PEAK_DBFS`: pieces
sound equally loud whatever their texture, and never clip.

>>> from grandstaff.output.audio import write_wav
>>> write_wav("scores/etude.mid", "scores/etude.wav")     # doctest: +SKIP
PosixPath('scores/etude.wav')
"""

from __future__ import annotations

import io
import wave
from pathlib import Path

import numpy as np

from ..errors import BadArgumentError, EngraverMissingError
from ..files import write_atomic

#: Peak level of the written audio, in dB below full scale.
PEAK_DBFS = -1.0
#: What a silent render (no note sounded) reports as its level.
SILENCE_DBFS = -120.0


def default_soundfont() -> Path:
    """The General MIDI SoundFont carried by the ``pretty-midi`` wheel (TimGM6mb.sf2)."""
    try:
        import pretty_midi
    except ImportError:
        raise EngraverMissingError(
            "no SoundFont: install pretty-midi ('pip install pretty-midi'), which carries "
            "one, or pass soundfont=PATH (--soundfont PATH)") from None
    return Path(pretty_midi.__file__).with_name("TimGM6mb.sf2")


#: The largest SoundFont read (it is read whole into memory to play a piece).
MAX_SOUNDFONT_BYTES = 1024 * 2**20


def check_soundfont(soundfont: str | Path | None) -> Path:
    """The SoundFont file to render with: ``soundfont`` if given (it must be an .sf2 file),
    else :func:`default_soundfont`."""
    if soundfont is None:
        return default_soundfont()
    path = Path(soundfont)
    if not path.is_file():
        raise BadArgumentError(
            f"soundfont {str(soundfont)!r} is not a file; give the path of an .sf2 SoundFont")
    with path.open("rb") as file:
        head = file.read(20)
    if head[:4] != b"RIFF" or head[8:12] != b"sfbk" or head[12:16] != b"LIST":
        raise BadArgumentError(
            f"soundfont {str(soundfont)!r} is not a SoundFont 2 (.sf2) file; give an .sf2 file")
    size = path.stat().st_size
    declared = int.from_bytes(head[4:8], "little") + 8
    if size > MAX_SOUNDFONT_BYTES:
        raise BadArgumentError(
            f"soundfont {str(soundfont)!r} is {size / 2**20:,.0f} MB, more than the "
            f"{MAX_SOUNDFONT_BYTES // 2**20} MB grandstaff reads")
    if declared != size:
        raise BadArgumentError(
            f"soundfont {str(soundfont)!r} is {size:,} bytes but its header says {declared:,}; "
            "a SoundFont must be whole (copy it again)")
    return path


def render_wav(midi: bytes, *, soundfont: str | Path | None = None) -> bytes:
    """The WAV bytes (48 kHz, stereo, 16 bit) of the MIDI file ``midi``, peak-normalised."""
    buffer = io.BytesIO()
    write_normalised(_render(midi, soundfont), buffer)
    return buffer.getvalue()


def _render(midi: bytes, soundfont: str | Path | None) -> bytes:
    """The synthesiser's WAV bytes, as it made them (it renders a piece whole)."""
    try:
        import midirenderer
    except ImportError:
        raise EngraverMissingError(
            "midirenderer is not installed; install it with 'pip install midirenderer'") from None
    font = check_soundfont(soundfont).read_bytes()
    try:
        return midirenderer.render_wave_from(font, midi)
    except (ValueError, RuntimeError) as exc:
        raise EngraverMissingError(f"the synthesiser could not render the MIDI: {exc}") from None


#: Frames scaled and written at a time: the audio is never copied whole.
BLOCK_FRAMES = 1 << 16


def write_normalised(wav_bytes: bytes, target, peak_dbfs: float = PEAK_DBFS) -> None:
    """Write ``wav_bytes`` (16-bit PCM) to ``target`` (a path or a binary file) scaled so that
    the loudest sample is at ``peak_dbfs``; silence stays silence. The samples are read in
    place and scaled and written in blocks of :data:`BLOCK_FRAMES`, so a long piece costs its
    rendered bytes and a block, not several copies of itself."""
    params, samples = pcm_view(wav_bytes)
    peak = 0
    for start in range(0, len(samples), BLOCK_FRAMES):
        block = samples[start:start + BLOCK_FRAMES].astype(np.int32)
        peak = max(peak, int(np.abs(block).max(initial=0)))
    gain = 32767 * 10 ** (peak_dbfs / 20) / peak if peak else 1.0
    with wave.open(target, "wb") as writer:
        writer.setnchannels(params.nchannels)
        writer.setsampwidth(2)
        writer.setframerate(params.framerate)
        for start in range(0, len(samples), BLOCK_FRAMES):
            block = samples[start:start + BLOCK_FRAMES]
            if peak:
                block = np.clip(np.round(block * gain), -32768, 32767)
            writer.writeframesraw(np.ascontiguousarray(block, dtype="<i2").tobytes())


def normalise(wav_bytes: bytes, peak_dbfs: float = PEAK_DBFS) -> bytes:
    """``wav_bytes`` (16-bit PCM) scaled so that the loudest sample is at ``peak_dbfs``;
    silence stays silence."""
    buffer = io.BytesIO()
    write_normalised(wav_bytes, buffer, peak_dbfs)
    return buffer.getvalue()


def pcm_view(wav_bytes: bytes) -> tuple[wave._wave_params, np.ndarray]:
    """The header and the samples (frames × channels, int16) of 16-bit PCM WAV bytes, the
    samples a view into ``wav_bytes`` (no copy)."""
    with wave.open(io.BytesIO(wav_bytes)) as reader:
        params = reader.getparams()
    if params.sampwidth != 2:
        raise ValueError(f"expected 16-bit PCM, got {8 * params.sampwidth}-bit")
    start, size = _data_chunk(wav_bytes)
    frames = min(params.nframes, size // (2 * params.nchannels))
    samples = np.frombuffer(wav_bytes, dtype="<i2", count=frames * params.nchannels,
                            offset=start)
    return params, samples.reshape(-1, params.nchannels)


def _data_chunk(wav_bytes: bytes) -> tuple[int, int]:
    """Where the ``data`` chunk of RIFF WAV bytes starts, and its size."""
    position = 12  # past "RIFF", the size and "WAVE"
    while position + 8 <= len(wav_bytes):
        name = wav_bytes[position:position + 4]
        size = int.from_bytes(wav_bytes[position + 4:position + 8], "little")
        if name == b"data":
            return position + 8, min(size, len(wav_bytes) - position - 8)
        position += 8 + size + (size & 1)
    raise ValueError("the WAV holds no data chunk")


def read_pcm(wav_bytes: bytes) -> tuple[wave._wave_params, np.ndarray]:
    """The header and the samples (frames × channels, int16) of 16-bit PCM WAV bytes."""
    with wave.open(io.BytesIO(wav_bytes)) as reader:
        params = reader.getparams()
        if params.sampwidth != 2:
            raise ValueError(f"expected 16-bit PCM, got {8 * params.sampwidth}-bit")
        frames = reader.readframes(params.nframes)
    return params, np.frombuffer(frames, dtype="<i2").reshape(-1, params.nchannels)


def pcm_bytes(params: wave._wave_params, samples: np.ndarray) -> bytes:
    """WAV bytes of int16 ``samples`` (frames × channels) with ``params``' rate and channels."""
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as writer:
        writer.setnchannels(params.nchannels)
        writer.setsampwidth(2)
        writer.setframerate(params.framerate)
        writer.writeframes(np.ascontiguousarray(samples, dtype="<i2").tobytes())
    return buffer.getvalue()


def loudness(wav_bytes: bytes) -> dict[str, float]:
    """Seconds, peak and RMS level (dBFS) of WAV bytes: what a test or a user checks first.

    >>> import numpy as np, wave
    >>> tone = (16384 * np.sin(np.arange(48000) / 48000 * 2 * np.pi * 440)).astype("<i2")
    >>> params = wave._wave_params(1, 2, 48000, 48000, "NONE", "not compressed")
    >>> {k: round(v, 1) for k, v in loudness(pcm_bytes(params, tone[:, None])).items()}
    {'seconds': 1.0, 'peak_dbfs': -6.0, 'rms_dbfs': -9.0}
    """
    params, samples = read_pcm(wav_bytes)
    values = samples.astype(np.float64) / 32768

    def level(x: float) -> float:
        return float(20 * np.log10(x)) if x > 0 else SILENCE_DBFS

    return {"seconds": params.nframes / params.framerate,
            "peak_dbfs": level(float(np.abs(values).max(initial=0))),
            "rms_dbfs": level(float(np.sqrt(np.mean(values ** 2))) if values.size else 0.0)}


def write_wav(midi: str | Path | bytes, path: str | Path, *, soundfont: str | Path | None = None,
              force: bool = True) -> Path:
    """Render the MIDI file ``midi`` (a path or its bytes) to a WAV file at ``path``,
    atomically."""
    data = midi if isinstance(midi, bytes) else Path(midi).read_bytes()
    rendered = _render(data, soundfont)
    return write_atomic(Path(path), lambda tmp: write_normalised(rendered, str(tmp)),
                        force=force)
