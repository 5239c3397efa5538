"""Per-iteration cost as the embedding spreads (issue 20), side by side in one run.

Fashion-MNIST 70,000 x 784 -> PCA-50 (points_peers.py's cache in --work), 2 threads:
FIt-SNE 2D (1000 iterations), openTSNE 2D (its default 750), then ours in 3D with the
near/far split (default), ours in 3D as before it (--no-near-split --grid-max 160: the
uncapped fine grid), and ours in 2D. Prints each run's wall seconds, 10-NN label
accuracy, final KL where the tool reports it, the time of the 50 iterations ending at
iterations 300, 500, 700 and the last, and every wall time as a ratio to FIt-SNE's.

    PY=~/.cache/sgtsne-peers/bin/python
    $PY ../shared/bench/points_peers.py --skip opentsne,fitsne,umap   # writes /tmp/fmnist/PCA50.npy once
    $PY benches/spread_peers.py --threads 2 [--skip fitsne,opentsne] [--work /tmp/fmnist]
"""

import argparse, os, re, subprocess, sys, tempfile, time

import numpy as np

ITER = re.compile(r"[Ii]teration\s+(\d+).*?(?:in|\()\s*([\d.]+)\s*s")


def label_acc(Y, y, k=10):
    from sklearn.neighbors import NearestNeighbors
    idx = NearestNeighbors(n_neighbors=k + 1).fit(Y).kneighbors(Y, return_distance=False)[:, 1:]
    return float((y[idx] == y[:, None]).mean())


def t50s(text):
    """Iteration -> seconds of the 50 iterations ending there."""
    out, offset, last = {}, 0, 0
    for m in ITER.finditer(text):
        it, s = int(m.group(1)), float(m.group(2))
        if it + offset < last:  # openTSNE counts each phase from 0
            offset = last
        last = it + offset
        if last % 50 == 0:
            out[last] = s
    return out


def captured(fn):
    """Runs fn() with the process's stdout (C code included) sent to a file."""
    with tempfile.TemporaryFile(mode="w+") as f:
        sys.stdout.flush()
        saved = os.dup(1)
        os.dup2(f.fileno(), 1)
        try:
            r = fn()
        finally:
            sys.stdout.flush()
            os.dup2(saved, 1)
            os.close(saved)
        f.seek(0)
        return r, f.read()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--work", default="/tmp/fmnist")
    ap.add_argument("--bin", default="target/release/sgtsne")
    ap.add_argument("--skip", default="")
    a = ap.parse_args()
    skip = set(filter(None, a.skip.split(",")))
    P = np.load(os.path.join(a.work, "PCA50.npy")).astype(np.float64)
    y = np.loadtxt(os.path.join(a.work, "labels.txt"), dtype=int)
    rows = []

    if "fitsne" not in skip:
        import fitsne
        t = time.perf_counter()
        Y, log = captured(lambda: fitsne.FItSNE(np.ascontiguousarray(P), no_dims=2, max_iter=1000,
                                               nthreads=a.threads, rand_seed=42))
        rows.append(("FIt-SNE 2D", time.perf_counter() - t, label_acc(Y, y), None, t50s(log)))
        print(rows[-1][:3], flush=True)
    if "opentsne" not in skip:
        import openTSNE
        t = time.perf_counter()
        Y, log = captured(lambda: openTSNE.TSNE(n_jobs=a.threads, random_state=0, verbose=True).fit(P))
        rows.append(("openTSNE 2D", time.perf_counter() - t, label_acc(np.asarray(Y), y), None, t50s(log)))
        print(rows[-1][:3], flush=True)

    ours = [
        ("ours 3D", ["--dim", "3"]),
        ("ours 3D before", ["--dim", "3", "--no-near-split", "--grid-max", "160"]),
        ("ours 2D", ["--dim", "2"]),
    ]
    for name, extra in ours:
        out = os.path.join(a.work, "spread.txt")
        cmd = [a.bin, os.path.join(a.work, "PCA50.npy"), "--perplexity", "30", "--threads",
               str(a.threads), "-o", out] + extra
        t = time.perf_counter()
        r = subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        s = time.perf_counter() - t
        if r.returncode:
            sys.exit(f"{name} failed ({r.returncode}): {r.stderr[-1500:]}")
        kl = re.search(r"final KL ([\d.]+)", r.stderr)
        rows.append((name, s, label_acc(np.loadtxt(out), y), kl and float(kl.group(1)), t50s(r.stderr)))
        print(rows[-1][:4], flush=True)

    ref = next((r[1] for r in rows if r[0] == "FIt-SNE 2D"), None)
    print()
    print("| run | seconds | vs FIt-SNE 2D | label acc@10 | final KL | t50 @300 | @500 | @700 | @last | last/300 |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    for name, s, acc, kl, t in rows:
        last = max(t) if t else None
        cells = [t.get(i) for i in (300, 500, 700)] + [t.get(last) if last else None]
        ratio = f"{cells[3] / cells[0]:.2f}" if cells[0] and cells[3] else "-"
        print(f"| {name} | {s:.1f} | {s / ref:.2f} |" if ref else f"| {name} | {s:.1f} | - |", end="")
        print(f" {acc:.4f} | {kl if kl else '-'} | " + " | ".join(f"{c:.2f}" if c else "-" for c in cells)
              + f" | {ratio} |")


if __name__ == "__main__":
    main()
