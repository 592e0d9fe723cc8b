"""cnnfilter: an HEVC codec with a CNN in-loop filter, for video-coding research."""

from ._hevc import BitstreamError, UnsupportedError
from .decoding import DecodedPicture, DecodeResult, PictureInfo, decode

__version__ = "0.1.0"

__all__ = [
    "BitstreamError",
    "UnsupportedError",
    "DecodeResult",
    "DecodedPicture",
    "PictureInfo",
    "decode",
    "__version__",
]
