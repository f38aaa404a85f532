#!/usr/bin/env python3
"""Drive a CoilNav mock tracker over TCP with ndicapy (NDI's Combined API C library, PyPI
ndicapi 3.7.6), the way scikit-surgerynditracker drives a Vega: INIT, PHSR:01 + PHF,
PHRQ + PVWR from the ROM file per tool, PHSR:02 + PINIT, PHSR:03 + PENA, TSTART, BX:0801 (ndiBX; and
TX:0801 with ndiTX), TSTOP.

usage: ndicapy_session.py HOST PORT FRAMES ROM [ROM ...]

Prints one JSON object per line:
  {"event": "handles", "roms": {ROM: handle}}
  {"event": "bx", "i": k, "handle": h, "frame": n, "portStatus": s,
   "transform": [q0,qx,qy,qz,tx,ty,tz,err] | "MISSING" | "DISABLED", "bits": [8 float32 bit patterns] | null}
  {"event": "tx", ...same fields from the TX reply (0.0001 / 0.01 mm resolution)}
  {"event": "done", "bxDecodeFailures": n}
Exits non-zero (with a message on stderr) when ndicapy reports an error.
"""
import json
import struct
import sys

import ndicapy


def float32_bits(transform):
    """The IEEE binary32 bit patterns of the 8 values (ndicapy widens BX floats to doubles
    exactly), so the Swift test compares bits rather than decimal text."""
    if not isinstance(transform, tuple):
        return None
    return [struct.unpack("<I", struct.pack("<f", v))[0] for v in transform]


def main():
    host, port, frames = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    roms = sys.argv[4:]
    device = ndicapy.ndiOpenNetwork(host, port)
    if not device:
        sys.exit("ndiOpenNetwork(%s, %d) failed" % (host, port))

    def command(text):
        reply = ndicapy.ndiCommand(device, text)
        error = ndicapy.ndiGetError(device)
        if error != ndicapy.NDI_OKAY:
            sys.exit("%s failed: %s (0x%x)" % (text, ndicapy.ndiErrorString(error), error))
        return reply

    def handles(filter_code):
        command("PHSR:%02X" % filter_code)
        count = ndicapy.ndiGetPHSRNumberOfHandles(device)
        return [ndicapy.ndiGetPHSRHandle(device, i) for i in range(count)]

    command("INIT:")
    for handle in handles(0x01):
        command("PHF:%02X" % handle)
    assigned = {}
    for rom in roms:
        command("PHRQ:*********1****")
        handle = ndicapy.ndiGetPHRQHandle(device)
        ndicapy.ndiPVWRFromFile(device, handle, rom)
        error = ndicapy.ndiGetError(device)
        if error != ndicapy.NDI_OKAY:
            sys.exit("PVWR from %s failed: %s" % (rom, ndicapy.ndiErrorString(error)))
        assigned[rom] = handle
    print(json.dumps({"event": "handles", "roms": assigned}), flush=True)
    for _ in range(4):
        todo = handles(0x02)
        if not todo:
            break
        for handle in todo:
            command("PINIT:%02X" % handle)
    enabled = []
    for handle in handles(0x03):
        command("PENA:%02X%c" % (handle, "D"))
        enabled.append(handle)
    enabled.sort()
    command("TSTART:")
    decode_failures = 0

    def tracking(function, name):
        # ndicapy's binding returns every reply as PyUnicode_FromString(reply): for a binary BX
        # reply that is the bytes up to the first NUL decoded as UTF-8, which raises
        # UnicodeDecodeError when they are not valid UTF-8 (e.g. a body length byte >= 0x80,
        # as here, or on a real Vega). The C library has already checked and parsed the reply
        # by then, so carry on with its ndiGetBX* accessors and ndiGetError.
        nonlocal decode_failures
        try:
            function(device, 0x0801)
        except UnicodeDecodeError:
            decode_failures += 1
        error = ndicapy.ndiGetError(device)
        if error != ndicapy.NDI_OKAY:
            sys.exit("%s:0801 failed: %s (0x%x)" % (name, ndicapy.ndiErrorString(error), error))

    for i in range(frames):
        tracking(ndicapy.ndiBX, "BX")
        for handle in enabled:
            h = bytes([handle])
            transform = ndicapy.ndiGetBXTransform(device, h)
            print(json.dumps({
                "event": "bx", "i": i, "handle": handle,
                "frame": ndicapy.ndiGetBXFrame(device, h),
                # ndicapi builds the port status from signed chars
                # ((int)replyIndex[0] | (int)replyIndex[1] << 8 | ..., ndicapi.cxx), so a
                # byte >= 0x80 is sign-extended: the wire's 0x000000B1 (partly out of volume)
                # comes back as -79. Printed as its 32-bit pattern, 0xFFFFFFB1.
                "portStatus": ndicapy.ndiGetBXPortStatus(device, h) & 0xFFFFFFFF,
                "portStatusRaw": ndicapy.ndiGetBXPortStatus(device, h),
                "transform": transform,
                "bits": float32_bits(transform),
            }), flush=True)
    tracking(ndicapy.ndiTX, "TX")
    for handle in enabled:
        h = bytes([handle])
        print(json.dumps({
            "event": "tx", "i": frames, "handle": handle,
            "frame": ndicapy.ndiGetTXFrame(device, h),
            "transform": ndicapy.ndiGetTXTransform(device, h),
        }), flush=True)
    command("TSTOP:")
    ndicapy.ndiCloseNetwork(device)
    print(json.dumps({"event": "done", "bxDecodeFailures": decode_failures}), flush=True)


if __name__ == "__main__":
    main()
