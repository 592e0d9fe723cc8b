"""cnnfilter: an HEVC codec with a CNN in-loop filter, for video-coding research."""

from ._hevc import BitstreamError, UnsupportedError
from .config import ConfigError
from .decoding import DecodedPicture, DecodeResult, PictureInfo, decode
from .encoding import EncodeResult, FrameStats, encode

__version__ = "0.1.0"

__all__ = [
    "BitstreamError",
    "ConfigError",
    "EncodeResult",
    "FrameStats",
    "encode",
    "UnsupportedError",
    "DecodeResult",
    "DecodedPicture",
    "PictureInfo",
    "decode",
    "__version__",
]
