"""Synthesise the board's alert sounds (our own tones, no recorded or copied audio) into resources/sounds/.

    python packaging/make_sounds.py

Red: three bright two-tone pulses (880 / 1175 Hz), 1.1 s, distinct from a phone ring and loud enough for a room.
Amber: one soft low tone (523 Hz), 0.35 s. 16-bit mono PCM at 22,050 Hz, with short fades so nothing clicks.
The output is deterministic: running it again gives the same bytes.
"""

from __future__ import annotations

import math
import struct
import wave
from pathlib import Path

RATE = 22050
OUT = Path(__file__).resolve().parent.parent / "resources" / "sounds"


def tone(freq: float, seconds: float, amplitude: float, fade_s: float = 0.012) -> list[float]:
    n = round(RATE * seconds)
    fade = max(1, round(RATE * fade_s))
    out = []
    for i in range(n):
        envelope = min(1.0, i / fade, (n - 1 - i) / fade)
        # A touch of the second harmonic makes the tone carry across a room without sounding harsh.
        s = math.sin(2 * math.pi * freq * i / RATE) + 0.25 * math.sin(4 * math.pi * freq * i / RATE)
        out.append(amplitude * envelope * s / 1.25)
    return out


def silence(seconds: float) -> list[float]:
    return [0.0] * round(RATE * seconds)


def write(name: str, samples: list[float]) -> Path:
    OUT.mkdir(parents=True, exist_ok=True)
    path = OUT / name
    with wave.open(str(path), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(RATE)
        w.writeframes(b"".join(struct.pack("<h", round(max(-1.0, min(1.0, s)) * 32767)) for s in samples))
    return path


def red() -> list[float]:
    pulse = tone(880, 0.14, 0.9) + tone(1175, 0.14, 0.9)
    return pulse + silence(0.08) + pulse + silence(0.08) + pulse


def amber() -> list[float]:
    return tone(523.25, 0.35, 0.5, fade_s=0.05)


def main() -> None:
    for name, samples in (("alert_red.wav", red()), ("alert_amber.wav", amber())):
        print(write(name, samples))


if __name__ == "__main__":
    main()
