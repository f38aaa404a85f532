#!/usr/bin/env python3
"""Drive a CoilNav mock tracker over TCP with scikit-surgerynditracker 1.0.6 as a Vega:
NDITracker({"tracker type": "vega", "ip address", "port", "romfiles"}), start_tracking,
get_frame, stop_tracking, close.

usage: sksurgery_session.py PORT FRAMES ROM [ROM ...]

NDITracker pings the address before connecting (`ping -c 1`); the calling test puts a stub
`ping` first on PATH where the machine has none.

Prints one JSON object per frame:
  {"handles": [h, ...], "frames": [n, ...], "tracking": [[q0,qx,qy,qz,tx,ty,tz] | [nan...], ...],
   "quality": [rms, ...]}
and finally {"done": true}.
"""
import json
import math
import sys

from sksurgerynditracker.nditracker import NDITracker


def clean(values):
    return [None if math.isnan(v) else float(v) for v in values]


def main():
    port, frames = int(sys.argv[1]), int(sys.argv[2])
    roms = sys.argv[3:]
    tracker = NDITracker({
        "tracker type": "vega",
        "ip address": "127.0.0.1",
        "port": port,
        "romfiles": roms,
        "use quaternions": True,
    })
    tracker.start_tracking()
    for _ in range(frames):
        handles, _, frame_numbers, tracking, quality = tracker.get_frame()
        print(json.dumps({
            "handles": [int(h) for h in handles],
            "frames": [int(n) for n in frame_numbers],
            "tracking": [clean(t.ravel()) for t in tracking],
            "quality": clean(quality),
        }), flush=True)
    tracker.stop_tracking()
    tracker.close()
    print(json.dumps({"done": True}), flush=True)


if __name__ == "__main__":
    main()
