#!/usr/bin/env python3
"""Writes the QA mock scenarios (qa-phantom.json, qa-phantom-3mm-error.json,
qa-phantom-bent-pointer.json) so that the three differ only where they should.

They play the protocol of Calibration/phantoms/mock-phantom.json frame by frame at 60 Hz
(frame 0 = the first frame coilnav qa receives). Run from this folder: python3 make_qa_scenarios.py
"""
import json

# The mock phantom's divots, in the phantom reference's coordinates (mm): as in mock-phantom.json.
DIVOTS = [("L1", [80, 50, 0]), ("L2", [80, -50, 0]), ("L3", [160, -50, 5]), ("L4", [160, 50, 5]),
          ("L5", [120, 0, 45]), ("C1", [120, 35, 30]), ("C2", [145, -25, 35])]
TIP = [-1.2, 0.4, -158.3]  # Calibration/pointers/mock-pointer.json

TIMELINE = (
    "on the timeline of Calibration/phantoms/mock-phantom.json at 60 Hz (frame 0 = the first frame QA receives). "
    "The phantom (reference tool, 30\u00b0 about z at (10, -20, -1400) mm) lies still throughout with known noise: "
    "each tracker coordinate of its origin has a standard deviation of 0.1 mm (3-D jitter RMS sqrt(3) x 0.1 = 0.173 mm), "
    "each rotation-vector component 0.05\u00b0. 0-1 s pause, 1-6 s still phase: the pointer lies beside the phantom, in view. "
    "6-7 s: the pointer is hidden (picked up). 7-13 s pivot phase: the tip sits in the pivot divot at (60, 0, 10) mm in "
    "phantom coordinates while the pointer swings \u00b125\u00b0 about the phantom's x (period 1 s) and y (1.45 s) axes. "
    "13-13.5 s hidden; from 13.5 s the pointer touches L1, L2, L3, L4, L5, C1, C2 in turn, aimed at (120, 0, -60) mm: "
    "travel 0.6 s, dwell 0.9 s each (L1 14.1-15.0 s, ..., C2 23.1-24.0 s). Replies carrying frames 200 (still phase), "
    "600 (pivot phase) and 1200 (between two landmarks) have a corrupt CRC: the host drops them, so 3 frames are dropouts. ")


def scenario(description, tip=TIP, divots=DIVOTS):
    return {
        "format": "coilnav-mock-scenario",
        "version": 1,
        "description": description,
        "frameRateHz": 60,
        "durationSeconds": 25,
        "tools": [
            {
                "name": "phantom", "kind": "phantom", "portHandle": 4,
                "setup": {"type": "passive", "toolDefinition": "tools/phantom.rom"},
                "motion": {"type": "static", "pose": {"axis": [0, 0, 1], "angleDegrees": 30, "translationMM": [10, -20, -1400]}},
                "noise": {"translationSigmaMM": 0.1, "rotationSigmaDegrees": 0.05, "rmsErrorMM": 0.12},
            },
            {
                "name": "pointer", "kind": "pointer", "portHandle": 3,
                "setup": {"type": "passive", "toolDefinition": "tools/pointer.rom"},
                "relativeTo": "phantom",
                "motion": {"type": "sequence", "segments": [
                    {"fromSeconds": 0, "motion": {
                        "type": "static", "pose": {"axis": [0, 1, 0], "angleDegrees": 90, "translationMM": [100, 150, -30]}}},
                    {"fromSeconds": 7, "motion": {
                        "type": "pivot", "pivotMM": [60, 0, 10], "tipMM": tip,
                        "swings": [
                            {"axis": [1, 0, 0], "amplitudeDegrees": 25, "periodSeconds": 1.0},
                            {"axis": [0, 1, 0], "amplitudeDegrees": 25, "periodSeconds": 1.45, "phaseDegrees": 90},
                        ]}},
                    {"fromSeconds": 13, "motion": {
                        "type": "landmarks", "tipMM": tip, "aimAtMM": [120, 0, -60],
                        "points": [{"label": n, "positionMM": p} for n, p in divots],
                        "startSeconds": 13.5, "travelSeconds": 0.6, "dwellSeconds": 0.9, "liftMM": 15}},
                ]},
                "noise": {"translationSigmaMM": 0.05, "rotationSigmaDegrees": 0.02, "rmsErrorMM": 0.15},
                "occlusions": [{"fromSeconds": 6, "toSeconds": 7}, {"fromSeconds": 13, "toSeconds": 13.5}],
            },
        ],
        "faults": [
            {"frameIndex": 200, "type": "corrupt-crc"},
            {"frameIndex": 600, "type": "corrupt-crc"},
            {"frameIndex": 1200, "type": "corrupt-crc"},
        ],
    }


def write(name, d):
    with open(name, "w") as f:
        f.write(json.dumps(d, indent=4, ensure_ascii=False) + "\n")


write("qa-phantom.json", scenario(
    "QA run on the mock phantom, " + TIMELINE +
    "The divots are where the phantom file says and the pointer's tip where its calibration "
    "(Calibration/pointers/mock-pointer.json) says, (-1.2, 0.4, -158.3) mm: QA passes."))

damaged = [(n, [148, -25, 35] if n == "C2" else p) for n, p in DIVOTS]
write("qa-phantom-3mm-error.json", scenario(
    "QA run on the mock phantom with a 3 mm error: identical to qa-phantom.json except that check point C2's divot is "
    "3 mm off its definition, at (148, -25, 35) mm instead of (145, -25, 35) mm (the phantom was knocked and the divot "
    "insert moved; to QA this is the same as a 3 mm tracking error at that point), " + TIMELINE +
    "QA must fail on the TRE at C2 (about 3 mm against a 1 mm threshold); every other figure passes.",
    divots=damaged))

write("qa-phantom-bent-pointer.json", scenario(
    "QA run on the mock phantom with a bent pointer: identical to qa-phantom.json except that the pointer's tip is bent "
    "3 mm sideways (along the pointer's x axis) to (1.8, 0.4, -158.3) mm while its calibration still says "
    "(-1.2, 0.4, -158.3) mm (the pointer was dropped after it was calibrated), " + TIMELINE +
    "QA must fail on the pointer tip: the pivot phase finds it 3 mm from the calibration. The landmark registration "
    "absorbs most of the error (the pointer meets every divot at a similar roll), so FRE and TRE alone would hardly show it.",
    tip=[1.8, 0.4, -158.3]))
