"""RGB -> Y'CbCr (BT.601, limited range), the colour space frames are composed in.

Composing straight into yuv420p planes skips the per-frame RGB conversion (which cost more than the
drawing and the H.264 encode together) and halves the bytes touched. Alpha blending commutes with this
affine transform, so blending in YUV gives the same picture as blending in RGB. The encoder tags the
stream BT.601 / limited range so players convert back with the same matrix.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

F64 = npt.NDArray[np.float64]
U8 = npt.NDArray[np.uint8]

# AVColorSpace / AVColorPrimaries / AVColorTransferCharacteristic SMPTE170M (= BT.601 525), AVCOL_RANGE_MPEG.
AV_SMPTE170M = 6
AV_RANGE_MPEG = 1

_MATRIX = np.array(
    [
        [0.256788, 0.504129, 0.097906],
        [-0.148223, -0.290993, 0.439216],
        [0.439216, -0.367788, -0.071427],
    ]
)
_OFFSET = np.array([16.0, 128.0, 128.0])


def rgb_to_yuv(rgb: npt.ArrayLike) -> F64:
    """``(..., 3)`` RGB 0..255 -> ``(..., 3)`` float Y, Cb, Cr (Y 16..235, Cb/Cr 16..240)."""
    out: F64 = np.asarray(rgb, dtype=np.float64) @ _MATRIX.T + _OFFSET
    return out


def yuv_u8(rgb: npt.ArrayLike) -> U8:
    return np.clip(np.rint(rgb_to_yuv(rgb)), 0, 255).astype(np.uint8)


def half(plane: F64) -> F64:
    """2x2 box average (both sides even): full-resolution plane -> chroma resolution."""
    h, w = plane.shape[:2]
    out: F64 = plane.reshape(h // 2, 2, w // 2, 2, *plane.shape[2:]).mean(axis=(1, 3))
    return out
