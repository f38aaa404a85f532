#!/usr/bin/env python3
"""Drive a CoilNav mock tracker over TCP with ndicapy (NDI's Combined API C library, PyPI
ndicapi 3.7.6), the way scikit-surgerynditracker drives a Vega: INIT, PHSR:01 + PHF,
PHRQ + PVWR from the ROM file per tool, PHSR:02 + PINIT, PHSR:03 + PENA, TSTART, BX:0801 (and
TX:0801), TSTOP.

usage: ndicapy_session.py HOST PORT FRAMES ROM [ROM ...]

Prints one JSON object per line:
  {"event": "handles", "roms": {ROM: handle}}
  {"event": "bx", "i": k, "handle": h, "frame": n, "portStatus": s, "transform": [q0,qx,qy,qz,tx,ty,tz,err] | "MISSING" | "DISABLED"}
  {"event": "tx", ...same fields from the TX reply (0.0001 / 0.01 mm resolution)}
  {"event": "done"}
Exits non-zero (with a message on stderr) when ndicapy reports an error.
"""
import json
import sys

import ndicapy


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
    for i in range(frames):
        command("BX:0801")
        for handle in enabled:
            h = bytes([handle])
            print(json.dumps({
                "event": "bx", "i": i, "handle": handle,
                "frame": ndicapy.ndiGetBXFrame(device, h),
                "portStatus": ndicapy.ndiGetBXPortStatus(device, h),
                "transform": ndicapy.ndiGetBXTransform(device, h),
            }), flush=True)
    command("TX:0801")
    for handle in enabled:
        h = bytes([handle])
        print(json.dumps({
            "event": "tx", "i": frames, "handle": handle,
            "frame": ndicapy.ndiGetTXFrame(device, h),
            "transform": ndicapy.ndiGetTXTransform(device, h),
        }), flush=True)
    command("TSTOP:")
    ndicapy.ndiCloseNetwork(device)
    print(json.dumps({"event": "done"}), flush=True)


if __name__ == "__main__":
    main()
