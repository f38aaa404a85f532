#!/usr/bin/env python3
"""Builds CoilNav's demo patient from the fsaverage head that ships inside the `mne` wheel.

Run from the repository root (needs `pip install mne==1.13.2 numpy`; the product itself never
runs Python):

    python3 Mock/demo/make_demo_patient.py            # writes the data files below
    swift run coilnav plan create ...                 # see README in this folder: adds coil poses

Outputs, all in fsaverage MRI surface RAS, millimetres:
  scalp.ply                 the fsaverage scalp surface (2033 vertices, 4062 triangles), outward winding
  mri-fiducials.mrk.json    NAS, LPA, RPA (fsaverage-fiducials.fif) plus Cz and Iz (fsaverage 10-05 montage)
  targets.mrk.json          cortical targets: Fox 2012 DLPFC, and the F3 and 5-cm-rule comparison sites
  head-fiducials.mrk.json   the same fiducials as a pointer would digitise them in head-reference space
                            (ground-truth headToMRI below, 1.0 mm RMS localisation noise, seed 2026)
  head-surface.mrk.json     300 digitised scalp points in head-reference space (0.5 mm noise, seed 2026)
  ground-truth.json         the headToMRI used to simulate the digitisation (for tests and mock scenarios)

Everything is deterministic: the same mne version and seed give byte-identical files.
"""
import json
import os
import sys

import numpy as np

SEED = 2026
FIDUCIAL_NOISE_MM = 1.0   # 3-D RMS localisation error of the simulated pointer digitisation
SURFACE_NOISE_MM = 0.5    # per-axis standard deviation of digitised scalp points
SURFACE_POINTS = 300

# Ground truth: head-reference (a marker on a headband) to MRI. 20° about an oblique axis plus a
# translation of a few centimetres: far enough from identity that a sign or order bug shows.
TRUTH_AXIS = np.array([0.3, -0.5, 0.8])
TRUTH_ANGLE_DEG = 20.0
TRUTH_TRANSLATION_MM = np.array([12.0, -35.0, 48.0])

# Cortical targets in MNI mm (fsaverage's MRI is MNI305 Talairach space; these are MNI152
# coordinates from the literature, which differ from MNI305 by a few millimetres at most).
TARGETS = [
    ("DLPFC-Fox2012", (-38.0, 44.0, 26.0),
     "Fox et al. 2012 (Biol Psychiatry 72:595): connectivity-optimised left DLPFC, sgACC-anticorrelated"),
    ("F3", (-37.0, 26.0, 49.0), "F3 comparison site as tabulated from Fox et al. 2012"),
    ("5cm-rule", (-41.0, 16.0, 54.0), "5-cm-rule average site as tabulated from Fox et al. 2012"),
]


def rotation(axis, angle_deg):
    a = np.asarray(axis, float)
    a = a / np.linalg.norm(a)
    t = np.radians(angle_deg)
    k = np.array([[0, -a[2], a[1]], [a[2], 0, -a[0]], [-a[1], a[0], 0]])
    return np.eye(3) + np.sin(t) * k + (1 - np.cos(t)) * k @ k


def fmt(x):
    # Shortest round-trip repr, stable across platforms; avoid "-0.0".
    x = float(x)
    return 0.0 if x == 0 else round(x, 6)


def markups(points, description):
    """A 3D Slicer markups file (schema v1.0.3) with RAS coordinates."""
    cps = []
    for i, (label, p) in enumerate(points, start=1):
        cps.append({
            "id": str(i), "label": label, "description": "", "associatedNodeID": "",
            "position": [fmt(v) for v in p],
            "orientation": [-1.0, 0.0, 0.0, 0.0, -1.0, 0.0, 0.0, 0.0, 1.0],
            "selected": True, "locked": True, "visibility": True, "positionStatus": "defined",
        })
    return {
        "@schema": "https://raw.githubusercontent.com/slicer/slicer/master/Modules/Loadable/Markups/Resources/Schema/markups-schema-v1.0.3.json#",
        "markups": [{
            "type": "Fiducial", "coordinateSystem": "RAS", "coordinateUnits": "mm", "locked": True,
            "labelFormat": "%N-%d", "description": description, "controlPoints": cps,
            "measurements": [],
        }],
    }


def write_json(path, obj):
    with open(path, "w") as f:
        json.dump(obj, f, indent=2)
        f.write("\n")


def main():
    import mne

    out = os.path.dirname(os.path.abspath(__file__))
    fsdir = os.path.join(os.path.dirname(mne.__file__), "data", "fsaverage")
    surf = mne.read_bem_surfaces(os.path.join(fsdir, "fsaverage-head.fif"), verbose=False)[0]
    rr = surf["rr"] * 1000.0
    tris = surf["tris"].astype(np.int64)
    # Outward winding: positive signed volume.
    vol = np.einsum("ij,ij->i", rr[tris[:, 0]], np.cross(rr[tris[:, 1]], rr[tris[:, 2]])).sum() / 6
    if vol < 0:
        tris = tris[:, [0, 2, 1]]
    with open(os.path.join(out, "scalp.ply"), "w") as f:
        f.write("ply\nformat ascii 1.0\n")
        f.write(f"comment fsaverage scalp (fsaverage-head.fif from MNE-Python {mne.__version__}), MRI surface RAS, mm\n")
        f.write(f"element vertex {len(rr)}\nproperty double x\nproperty double y\nproperty double z\n")
        f.write(f"element face {len(tris)}\nproperty list uchar int vertex_indices\nend_header\n")
        for v in rr:
            f.write("%.6f %.6f %.6f\n" % tuple(float(c) for c in v))
        for t in tris:
            f.write("3 %d %d %d\n" % tuple(int(i) for i in t))

    fids, _ = mne.io.read_fiducials(os.path.join(fsdir, "fsaverage-fiducials.fif"), verbose=False)
    name = {1: "LPA", 2: "NAS", 3: "RPA"}
    by_name = {name[int(f["ident"])]: f["r"].astype(float) * 1000.0 for f in fids}
    montage = os.path.join(os.path.dirname(mne.__file__), "channels", "data", "montages", "fsaverage_1005.tsv")
    rows = {}
    with open(montage) as f:
        next(f)
        for line in f:
            lab, x, y, z = line.split()
            rows[lab] = np.array([float(x), float(y), float(z)]) * 1000.0
    mri_fids = [("NAS", by_name["NAS"]), ("LPA", by_name["LPA"]), ("RPA", by_name["RPA"]),
                ("Cz", rows["Cz"]), ("Iz", rows["Iz"])]
    write_json(os.path.join(out, "mri-fiducials.mrk.json"),
               markups(mri_fids, "fsaverage anatomical fiducials (MNE) and 10-05 Cz, Iz; MRI RAS mm"))
    write_json(os.path.join(out, "targets.mrk.json"),
               markups([(n, p) for n, p, _ in TARGETS], "; ".join(f"{n}: {d}" for n, _, d in TARGETS)))

    rng = np.random.default_rng(SEED)
    R = rotation(TRUTH_AXIS, TRUTH_ANGLE_DEG)
    t = TRUTH_TRANSLATION_MM
    # headToMRI: p_mri = R p_head + t  =>  p_head = Rᵀ (p_mri − t)
    def to_head(p):
        return R.T @ (np.asarray(p) - t)

    head_fids = []
    for lab, p in mri_fids:
        noise = rng.normal(0.0, FIDUCIAL_NOISE_MM / np.sqrt(3.0), 3)
        head_fids.append((lab, to_head(p + noise)))
    write_json(os.path.join(out, "head-fiducials.mrk.json"),
               markups(head_fids, f"simulated pointer digitisation in head-reference space, FLE {FIDUCIAL_NOISE_MM} mm RMS, seed {SEED}"))

    # Scalp sweep: area-weighted random points on triangles above the ears (z > -20 mm), away from
    # the face (y < 70 mm or z > 40 mm), as an operator sweeps the cranium.
    a, b, c = rr[tris[:, 0]], rr[tris[:, 1]], rr[tris[:, 2]]
    centre = (a + b + c) / 3
    keep = (centre[:, 2] > -20) & ((centre[:, 1] < 70) | (centre[:, 2] > 40))
    area = 0.5 * np.linalg.norm(np.cross(b - a, c - a), axis=1) * keep
    pick = rng.choice(len(tris), SURFACE_POINTS, p=area / area.sum())
    u = rng.random((SURFACE_POINTS, 2))
    flip = u.sum(1) > 1
    u[flip] = 1 - u[flip]
    pts = a[pick] + u[:, :1] * (b[pick] - a[pick]) + u[:, 1:] * (c[pick] - a[pick])
    pts = pts + rng.normal(0.0, SURFACE_NOISE_MM, pts.shape)
    write_json(os.path.join(out, "head-surface.mrk.json"),
               markups([(f"scalp-{i + 1}", to_head(p)) for i, p in enumerate(pts)],
                       f"simulated scalp sweep in head-reference space, {SURFACE_NOISE_MM} mm noise, seed {SEED}"))

    m = np.eye(4)
    m[:3, :3] = R
    m[:3, 3] = t
    write_json(os.path.join(out, "ground-truth.json"), {
        "description": "headToMRI used to simulate head-fiducials.mrk.json and head-surface.mrk.json",
        "headToMRI": [[float(v) if abs(v) > 1e-15 else 0.0 for v in row] for row in m.tolist()],
        "headToMRIExact": {"axis": TRUTH_AXIS.tolist(), "angleDegrees": TRUTH_ANGLE_DEG,
                           "translationMM": TRUTH_TRANSLATION_MM.tolist()},
        "seed": SEED, "fiducialNoiseMM": FIDUCIAL_NOISE_MM, "surfaceNoiseMM": SURFACE_NOISE_MM,
        "mneVersion": mne.__version__,
    })
    print(f"wrote demo patient to {out}", file=sys.stderr)


if __name__ == "__main__":
    main()
