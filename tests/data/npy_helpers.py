"""Helpers of the data tests: raw .npy bytes, to build broken files from."""

from __future__ import annotations

import io

import numpy as np


def npy_bytes(array=None, *, header=None) -> bytes:
    """The bytes of a .npy file: ``array`` saved, or only a version 1.0 ``header`` dict."""
    buf = io.BytesIO()
    if header is not None:
        np.lib.format.write_array_header_1_0(buf, header)
    else:
        np.save(buf, array, allow_pickle=True)
    return buf.getvalue()
