#!/usr/bin/env python3
"""Writes the NumPy/zip/gzip fixtures that Tests/PVSharedTests/{NPY,NPZ,Gzip}Tests.swift read back.

Run from the repository root:  python3 Tests/reference/make_npy_fixtures.py
Every file is produced by numpy / zipfile / gzip themselves (not by pv), so the Swift readers are checked against
an independent writer. The float values are given as IEEE-754 bit patterns; the Swift tests hold the same list and
compare bit for bit. Output is deterministic (gzip mtime 0, fixed zip timestamps from numpy).
"""
import gzip
import io
import os

import numpy as np

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "PVSharedTests", "Fixtures")

# float32 3x4, row-major: +0, -0, 1, -1.5, smallest denormal, largest denormal, smallest normal, FLT_MAX,
# -FLT_MAX, +inf, 1/3, pi.  (Keep in sync with NPYTests.f32Bits.)
F32_BITS = [0x00000000, 0x80000000, 0x3F800000, 0xBFC00000,
            0x00000001, 0x007FFFFF, 0x00800000, 0x7F7FFFFF,
            0xFF7FFFFF, 0x7F800000, 0x3EAAAAAB, 0x40490FDB]
I64 = [0, 1, -1, 2**62 + 7, -(2**63), 2**63 - 1, 123456789012]
I32 = [[-(2**31), -1, 0], [1, 2**31 - 1, 42]]


def f32():
    return np.array(F32_BITS, dtype=np.uint32).view(np.float32).reshape(3, 4)


def save(name, arr, **kw):
    path = os.path.join(OUT, name)
    with open(path, "wb") as f:
        np.lib.format.write_array(f, arr, allow_pickle=False, **kw)


def gz(data):
    b = io.BytesIO()
    with gzip.GzipFile(fileobj=b, mode="wb", mtime=0, filename="") as g:
        g.write(data)
    return b.getvalue()


def main():
    os.makedirs(OUT, exist_ok=True)
    a = f32()
    save("f32_3x4.npy", a)
    save("i64_1d.npy", np.array(I64, dtype="<i8"))
    save("i32_2x3.npy", np.array(I32, dtype="<i4"))
    save("f32_3x4_v2.npy", a, version=(2, 0))
    save("f64_1d.npy", np.array([0.5, -2.0, 1e-300], dtype="<f8"))
    save("f32_empty_0x5.npy", np.zeros((0, 5), dtype="<f4"))
    save("f32_scalar.npy", np.array(2.5, dtype="<f4"))
    # Arrays pv must refuse, written by numpy itself.
    save("f32_fortran.npy", np.asfortranarray(a))
    save("f32_bigendian.npy", a.astype(">f4"))
    save("f16.npy", np.array([1, 2], dtype="<f2"))
    save("u8.npy", np.array([1, 2], dtype="|u1"))

    for name, fn in (("savez.npz", np.savez), ("savez_compressed.npz", np.savez_compressed)):
        fn(os.path.join(OUT, name), W=a, idx=np.array(I64, dtype="<i8"), b=np.arange(6, dtype="<f4").reshape(2, 3))

    # A zip with deflated members, one of them empty (zlib must not be handed a null output buffer).
    import zipfile
    with zipfile.ZipFile(os.path.join(OUT, "deflated.zip"), "w", zipfile.ZIP_DEFLATED) as z:
        for name, data in (("empty.txt", b""), ("some.txt", b"hello " * 100)):
            z.writestr(zipfile.ZipInfo(name, date_time=(2020, 1, 1, 0, 0, 0)), data, compress_type=zipfile.ZIP_DEFLATED)

    # Two concatenated gzip members (as `cat a.gz b.gz` or bgzip make); the second lacks a final newline.
    with open(os.path.join(OUT, "two_members.txt.gz"), "wb") as f:
        f.write(gz(b"alpha\tone\nbeta\ttwo\n") + gz(b"gamma\tthree\r\ndelta\tfour"))
    # A gzip file whose name does not say so.
    with open(os.path.join(OUT, "gzipped_plain_name.tsv"), "wb") as f:
        f.write(gz(b"# provenance\nid\tvalue\nx\t1\ny\t2\n"))


if __name__ == "__main__":
    main()
