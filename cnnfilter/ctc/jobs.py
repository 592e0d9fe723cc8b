"""CTC jobs: one encode + decode of one sequence at one QP under one setting and configuration."""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .sequences import Sequence

# Bump when the meaning of a result row changes (PSNR definition, row fields): every job reruns.
ROW_SCHEMA = 1


@dataclass(frozen=True)
class Job:
    config: str  # AI | LDP | RA
    setting: str  # a codec setting name, e.g. "anchor", "x265", "cnn:vrcnn"
    sequence: Sequence
    qp: int
    frames: int  # frames coded
    identity: dict[str, Any] = field(default_factory=dict, compare=False)  # setting identity

    @property
    def key(self) -> str:
        """Human-readable identity of the job; one result row per key."""
        return f"{self.config}/{self.setting}/{self.sequence.name}/QP{self.qp}"

    @property
    def file_stem(self) -> str:
        """File-system-safe, collision-free name for the job's row and bitstream."""
        safe = re.sub(r"[^A-Za-z0-9._-]+", "-", self.key.replace("/", "_"))
        return f"{safe}.{hashlib.sha1(self.key.encode()).hexdigest()[:8]}"

    def hash_inputs(self) -> dict[str, Any]:
        """Everything that determines the job's result; a change reruns the job."""
        s = self.sequence
        source: dict[str, Any] = {
            "file": Path(s.path).name,
            "bytes": Path(s.path).stat().st_size if Path(s.path).is_file() else None,
            "width": s.width,
            "height": s.height,
            "fps": s.fps,
            "frame_skip": s.frame_skip,
        }
        if self.config == "RA":
            source["intra_period"] = s.ra_intra_period()
        return {
            "schema": ROW_SCHEMA,
            "config": self.config,
            "setting": self.setting,
            "identity": self.identity,
            "qp": self.qp,
            "frames": self.frames,
            "source": source,
        }

    @property
    def settings_hash(self) -> str:
        blob = json.dumps(self.hash_inputs(), sort_keys=True, separators=(",", ":"))
        return hashlib.sha256(blob.encode()).hexdigest()

    @property
    def weight(self) -> float:
        """Work estimate for progress and scheduling: coded megapixels."""
        return self.frames * self.sequence.width * self.sequence.height / 1e6

    def to_dict(self) -> dict[str, Any]:
        return {
            "config": self.config,
            "setting": self.setting,
            "sequence": self.sequence.to_dict(),
            "qp": self.qp,
            "frames": self.frames,
            "identity": self.identity,
        }


def plan_jobs(
    configs: list[str],
    qps: list[int],
    sequences: list[Sequence],
    settings: list[str],
    frames_cap: int | None,
    identities: dict[tuple[str, str], dict[str, Any]],
) -> list[Job]:
    """All jobs of a CTC run, in a stable order. ``identities[(setting, config)]``."""
    jobs = []
    for config in configs:
        for seq in sequences:
            if config not in seq.configs:
                continue
            for setting in settings:
                for qp in qps:
                    jobs.append(
                        Job(
                            config=config,
                            setting=setting,
                            sequence=seq,
                            qp=qp,
                            frames=seq.coded_frames(frames_cap),
                            identity=identities[(setting, config)],
                        )
                    )
    return jobs
