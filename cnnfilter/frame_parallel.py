"""Frame-parallel All-Intra encoding (``cnnfilter encode --threads N``).

All-Intra pictures reference nothing, so N encoders of the same configuration can code them at
once: picture i is coded by encoder i mod N, on that encoder's own thread (so the in-loop CNN is
called on the thread that called the encoder, as docs/models.md says), and every other encoder
records it as coded elsewhere. Each encoder then codes its pictures exactly as one encoder
coding them all would, and the access units, taken back in coding order, are the same
bitstream for any N (tested).
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from .config import ConfigError
from .gop import Picture


def check_frame_parallel(pictures: list[Picture], settings: Any) -> None:
    """Refuses what frame-parallel coding cannot do bit-exactly, with the reason."""
    inter = [p for p in pictures if p.slice_type != "I" or p.refs]
    if inter:
        raise ConfigError(
            f"--threads codes pictures in parallel, which needs All-Intra, but POC {inter[0].poc} "
            f"is a {inter[0].slice_type} picture with references (use "
            "cfg/encoder_intra_main.cfg, or --threads 1)"
        )
    if settings["PrevTreeUp"] >= 0 or settings["PrevTreeDown"] >= 0:
        raise ConfigError(
            "--threads cannot be used with the PrevTree keys: they guide each picture by the "
            "previous one, which another thread codes"
        )


def frame_parallel(
    encoders: list[Any],
    inputs: Iterable[tuple[Picture, tuple]],
    code: Callable[[Any, int, Picture, tuple], Any],
    picture_args: Callable[[Picture], dict[str, Any]],
) -> Iterator[Any]:
    """Yields ``code(encoder, i, picture, planes)`` for each (picture, planes) of ``inputs``, in
    their order, with picture i coded by ``encoders[i % N]`` on its own thread. At most 2N
    pictures are in flight, so memory stays bounded."""
    n = len(encoders)
    recorded = [-1] * n  # the last picture each encoder has coded or recorded
    pics: list[Picture] = []

    def task(k: int, i: int, planes: tuple) -> Any:
        enc = encoders[k]
        for j in range(recorded[k] + 1, i):
            enc.record_coded_elsewhere(**picture_args(pics[j]))
        recorded[k] = i
        return code(enc, i, pics[i], planes)

    pools = [ThreadPoolExecutor(1, thread_name_prefix=f"cnnfilter-encoder-{k}") for k in range(n)]
    pending: deque = deque()
    try:
        for i, (pic, planes) in enumerate(inputs):
            pics.append(pic)
            pending.append(pools[i % n].submit(task, i % n, i, planes))
            while len(pending) > 2 * n or (pending and pending[0].done()):
                yield pending.popleft().result()
        while pending:
            yield pending.popleft().result()
    finally:
        for pool in pools:
            pool.shutdown(wait=True, cancel_futures=True)


__all__ = ["check_frame_parallel", "frame_parallel"]
