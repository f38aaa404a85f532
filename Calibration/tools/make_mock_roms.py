#!/usr/bin/env python3
"""Writes the synthetic tool-definition images used with CoilNav's mock tracker.

These are NOT NDI tool definitions (NDI's SROM layout is not public here). Each file is a
fixed 1024-byte image the mock tracker recognises: the ASCII magic "COILNAV-MOCK-TOOL\\0",
the tool name (NUL-terminated), then zero padding. The driver uploads it with PVWR exactly as
it would upload a vendor .rom file; the mock matches the uploaded bytes against the tool
definitions its scenario names. On a real tracker, point the tool set at the vendor's .rom file
for the physical marker array instead.

Run from the repository root: python3 Calibration/tools/make_mock_roms.py
"""
import os

TOOLS = ["head-reference", "coil-reference", "pointer", "phantom"]
SIZE = 1024


def image(name: str) -> bytes:
    body = b"COILNAV-MOCK-TOOL\x00" + name.encode("ascii") + b"\x00"
    return body + bytes(SIZE - len(body))


def main() -> None:
    here = os.path.dirname(os.path.abspath(__file__))
    for t in TOOLS:
        with open(os.path.join(here, t + ".rom"), "wb") as f:
            f.write(image(t))


if __name__ == "__main__":
    main()
