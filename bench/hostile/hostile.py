#!/usr/bin/env python3
"""A seeded hostile pass over pv's tools (issue 10): absurd option values, corrupted inputs and SIGKILL at random
moments, each run checked against DESIGN.md's "handled cleanly": exit 0/64/65/66/74 (never a signal, never a hang),
on failure exactly one stderr line (besides warnings) starting with the tool's name, no output and no temp file
left, and after a kill no mixed or half-written output set (the next reader accepts or refuses it cleanly).

  python3 bench/hostile/hostile.py [--bin .build/release] [--seed 1] [--mutants 40] [--kills 12]

Prints one line per fault found and a count per category; exit status 1 when any fault was found.
Python standard library only (numpy is not needed)."""
import argparse, os, random, shutil, signal, subprocess, sys, tempfile, time

ap = argparse.ArgumentParser()
ap.add_argument("--bin", default=".build/release")
ap.add_argument("--seed", type=int, default=1)
ap.add_argument("--mutants", type=int, default=40, help="corrupted files per input kind")
ap.add_argument("--kills", type=int, default=12, help="SIGKILLed runs per writing tool")
ap.add_argument("--timeout", type=float, default=60)
args = ap.parse_args()
BIN = os.path.abspath(args.bin)
rng = random.Random(args.seed)
work = tempfile.mkdtemp(prefix="pv-hostile-")
faults, counts = [], {"runs": 0, "clean": 0}
OK = {0, 64, 65, 66, 74}


def tool(name, argv, timeout=None, cwd=None):
    counts["runs"] += 1
    try:
        p = subprocess.run([os.path.join(BIN, name)] + argv, capture_output=True, text=True, errors="replace",
                           timeout=timeout or args.timeout, cwd=cwd)
        return p.returncode, p.stderr
    except subprocess.TimeoutExpired:
        return "hang", ""


def temps(d):
    out = []
    for root, dirs, files in os.walk(d):
        out += [os.path.join(root, f) for f in files + dirs if f.endswith(".tmp")]
    return out


def check(what, name, rc, err, outdir=None, outputs=()):
    """Records a fault unless the run was handled cleanly."""
    problem = None
    if rc == "hang":
        problem = "hang (over %ds)" % args.timeout
    elif rc < 0:
        problem = "killed by signal %d" % -rc
    elif rc not in OK:
        problem = "exit %d" % rc
    elif rc != 0:
        lines = [l for l in err.splitlines() if l and "warning:" not in l]
        if len(lines) != 1 or not lines[0].startswith(name + ": "):
            problem = "error is not one line starting with %s: %r" % (name, err[-300:])
        elif any(ord(c) < 32 and c != "\t" for c in lines[0]):
            problem = "unescaped control character in %r" % lines[0][:200]
        else:
            left = [o for o in outputs if os.path.exists(o)]
            if left:
                problem = "failed but left %s" % left
    if outdir and temps(outdir):
        problem = (problem + "; " if problem else "") + "temp files left: %s" % temps(outdir)
    if problem:
        faults.append("%s: %s %s" % (what, name, problem))
    else:
        counts["clean"] += 1
    return problem is None


def must(name, argv):
    rc, err = tool(name, argv)
    if rc != 0:
        sys.exit("hostile: setup failed: %s %s: %s" % (name, " ".join(argv), err))


# --- a small valid pipeline ---------------------------------------------------------------------------------
W = work
must("pv-simulate", ["--genes", "40", "--targets", "4", "--doubles", "2", "--cells-per-condition", "30", "--seed", "3",
                     "--quiet", "--out", W + "/sim"])
must("pv-normalize", ["--labels", W + "/sim/cells.tsv", "--quiet", "--out", W + "/norm", W + "/sim"])
must("pv-split", ["--seed", "1", "--out", W + "/split.tsv", W + "/norm/obs.tsv"])
must("pv-train", ["--model", "additive", "--quiet", "--out", W + "/add.npz", W + "/norm/expr.npy", W + "/split.tsv"])
must("pv-train", ["--hidden", "16", "--latent-inv", "4", "--latent-resp", "2", "--epochs", "2", "--quiet",
                  "--out", W + "/pvae.npz", W + "/norm/expr.npy", W + "/split.tsv"])
must("pv-predict", ["--quiet", "--out", W + "/pred", W + "/add.npz", W + "/norm/expr.npy", W + "/split.tsv"])
EXPR, SPLIT = W + "/norm/expr.npy", W + "/split.tsv"
O = W + "/o"

# --- 1. absurd option values ------------------------------------------------------------------------------------
absurd = ["0", "-1", "-9223372036854775808", "2147483648", "9223372036854775807", "99999999999999999999", "1e12",
          "1e400", "nan", "inf", "", "0x10", "1.5", " 3"]
options = {
    "pv-simulate": (["--genes", "--targets", "--doubles", "--cells-per-condition", "--cells", "--latent-inv",
                     "--latent-resp", "--edge-density", "--effect", "--library-size", "--library-sd", "--seed"],
                    lambda: ["--quiet", "--out", O]),
    "pv-normalize": (["--min-counts", "--min-genes", "--min-cells", "--n-top-genes", "--n-bins", "--target-sum"],
                     lambda: ["--quiet", "--labels", W + "/sim/cells.tsv", "--out", O, W + "/sim"]),
    "pv-split": (["--seed", "--holdout-singles", "--holdout-cells", "--val-cells"],
                 lambda: ["--quiet", "--out", O + "/split.tsv", W + "/norm/obs.tsv"]),
    "pv-train": (["--hidden", "--latent-inv", "--latent-resp", "--node-hidden", "--epochs", "--steps", "--batch",
                  "--lr", "--beta", "--alpha", "--checkpoint-every", "--seed", "--threads"],
                 lambda: ["--quiet", "--epochs", "1", "--out", O + "/m.npz", EXPR, SPLIT]),
    "pv-predict": (["--cells-per-condition", "--seed", "--mean-draws", "--batch", "--edge-threshold", "--threads"],
                   lambda: ["--quiet", "--out", O, W + "/pvae.npz", EXPR, SPLIT]),
    "pv-score": (["--n-de", "--l2-genes", "--block-size", "--seed", "--threads"],
                 lambda: ["--quiet", "--pred", "a=" + W + "/pred/pred.npy", "--out", O + "/s.tsv", EXPR, SPLIT]),
    "pv-export": (["--chunk-rows"], lambda: ["--quiet", "--out", O + "/x.zarr", EXPR]),
}
for name, (opts, base) in options.items():
    for opt in opts:
        for v in absurd:
            shutil.rmtree(O, ignore_errors=True); os.makedirs(O)
            argv = [opt, v] + base()
            rc, err = tool(name, argv, timeout=20)
            # A slow but valid run (a large seed, many epochs) is no fault: only crashes, hangs and messages count.
            if rc == "hang" and v in ("2147483648", "1e12", "9223372036854775807", "99999999999999999999"):
                counts["runs"] -= 1
                continue
            check("option %s %r" % (opt, v), name, rc, err, O, [] if rc == 0 else [os.path.join(O, f) for f in os.listdir(O)])


# --- 2. corrupted inputs ----------------------------------------------------------------------------------------
def mutate(src, dst):
    b = bytearray(open(src, "rb").read())
    kind = rng.choice(["flip", "byte", "truncate", "insert", "nan", "zero-run"])
    if kind == "flip" and b:
        for _ in range(rng.randint(1, 8)):
            i = rng.randrange(len(b)); b[i] ^= 1 << rng.randrange(8)
    elif kind == "byte" and b:
        i = rng.randrange(len(b)); b[i] = rng.choice([0, 9, 10, 13, 0x2b, 0x7f, 0xff, 0x23])
    elif kind == "truncate":
        b = b[:rng.randrange(len(b) + 1)]
    elif kind == "insert":
        i = rng.randrange(len(b) + 1); b[i:i] = bytes(rng.choice([b"\n", b"\t", b"+", b"\x00", b"nan", b"-1", b"\xef\xbf\xbd"]))
    elif kind == "nan" and len(b) > 200:
        i = rng.randrange(128, len(b) - 4) & ~3; b[i:i + 4] = rng.choice([b"\x00\x00\xc0\x7f", b"\x00\x00\x80\x7f"])
    elif b:
        i = rng.randrange(len(b)); b[i:i + 16] = bytes(min(16, len(b) - i))
    open(dst, "wb").write(bytes(b))
    return kind


def corrupt_runs(label, src, place, runner):
    for k in range(args.mutants):
        d = W + "/c"
        shutil.rmtree(d, ignore_errors=True); shutil.copytree(W + "/norm", d + "/norm")
        shutil.copy(SPLIT, d + "/split.tsv"); shutil.copytree(W + "/pred", d + "/pred")
        shutil.copy(W + "/add.npz", d + "/add.npz"); shutil.copy(W + "/pvae.npz", d + "/pvae.npz")
        kind = mutate(src, d + "/" + place)
        for name, argv, outs in runner(d):
            rc, err = tool(name, argv, timeout=30)
            check("%s mutant %d (%s)" % (label, k, kind), name, rc, err, d, outs if rc != 0 else [])


corrupt_runs("expr.npy", EXPR, "norm/expr.npy", lambda d: [
    ("pv-train", ["--model", "additive", "-q", "--out", d + "/m.npz", d + "/norm/expr.npy", d + "/split.tsv"], [d + "/m.npz"]),
    ("pv-predict", ["-q", "--out", d + "/p", d + "/add.npz", d + "/norm/expr.npy", d + "/split.tsv"], [d + "/p/pred.npy"]),
    ("pv-score", ["-q", "--pred", "a=" + d + "/pred/pred.npy", "--out", d + "/s.tsv", d + "/norm/expr.npy", d + "/split.tsv"], [d + "/s.tsv"])])
corrupt_runs("split.tsv", SPLIT, "split.tsv", lambda d: [
    ("pv-train", ["--model", "additive", "-q", "--out", d + "/m.npz", d + "/norm/expr.npy", d + "/split.tsv"], [d + "/m.npz"]),
    ("pv-predict", ["-q", "--out", d + "/p", d + "/add.npz", d + "/norm/expr.npy", d + "/split.tsv"], [d + "/p/pred.npy"])])
corrupt_runs("add.npz", W + "/add.npz", "add.npz", lambda d: [
    ("pv-predict", ["-q", "--out", d + "/p", d + "/add.npz", d + "/norm/expr.npy", d + "/split.tsv"], [d + "/p/pred.npy"])])
corrupt_runs("pvae.npz", W + "/pvae.npz", "pvae.npz", lambda d: [
    ("pv-predict", ["-q", "--out", d + "/p", d + "/pvae.npz", d + "/norm/expr.npy", d + "/split.tsv"], [d + "/p/pred.npy"])])
for f in ["pred.tsv", "pred.npy", "means.npy", "means.tsv"]:
    corrupt_runs(f, W + "/pred/" + f, "pred/" + f, lambda d: [
        ("pv-score", ["-q", "--pred", "a=" + d + "/pred/pred.npy", "--out", d + "/s.tsv", d + "/norm/expr.npy", d + "/split.tsv"], [d + "/s.tsv"])])
corrupt_runs("genes.tsv", W + "/norm/genes.tsv", "norm/genes.tsv", lambda d: [
    ("pv-predict", ["-q", "--out", d + "/p", d + "/add.npz", d + "/norm/expr.npy", d + "/split.tsv"], [d + "/p/pred.npy"])])


# --- 3. SIGKILL at random moments ----------------------------------------------------------------------------------
def killed(name, argv, delay):
    counts["runs"] += 1
    p = subprocess.Popen([os.path.join(BIN, name)] + argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    time.sleep(delay)
    p.send_signal(signal.SIGKILL)
    p.wait()


kill_cases = [
    ("pv-simulate", lambda d: ["--genes", "300", "--targets", "6", "--cells-per-condition", "400", "--seed", str(rng.randrange(9)), "-q", "--out", d],
     lambda d: ("pv-normalize", ["-q", "--labels", d + "/cells.tsv", "--out", d + "/n", d])),
    ("pv-normalize", lambda d: ["-q", "--labels", W + "/sim/cells.tsv", "--n-top-genes", str(rng.choice([10, 20, 40])), "--out", d, W + "/sim"],
     lambda d: ("pv-split", ["-q", "--out", d + "/s.tsv", d + "/obs.tsv"])),
    ("pv-predict", lambda d: ["-q", "--seed", str(rng.randrange(9)), "--out", d, W + "/pvae.npz", EXPR, SPLIT],
     lambda d: ("pv-score", ["-q", "--pred", "a=" + d + "/pred.npy", "--out", d + "/s.tsv", EXPR, SPLIT])),
    ("pv-train", lambda d: ["-q", "--hidden", "16", "--latent-inv", "4", "--latent-resp", "2", "--epochs", "30", "--checkpoint-every", "1",
                            "--out", d + "/m.npz", EXPR, SPLIT],
     lambda d: ("pv-predict", ["-q", "--out", d + "/p", d + "/m.npz", EXPR, SPLIT]) if os.path.exists(d + "/m.npz") else None),
]
for name, argv, reader in kill_cases:
    d = W + "/k-" + name
    shutil.rmtree(d, ignore_errors=True)
    for k in range(args.kills):
        killed(name, argv(d), rng.uniform(0.0, 1.5))
        # The killed run's outputs (old, new, or a mix of two runs) must be read cleanly: success or one error line.
        r = reader(d)
        if r:
            rc, err = tool(r[0], r[1], timeout=60)
            check("%s killed #%d, then" % (name, k), r[0], rc, err)
        # A later successful run removes the killed run's temp files and leaves a consistent set.
        if k % 3 == 2:
            rc, err = tool(name, argv(d), timeout=120)
            check("%s rerun after kill #%d" % (name, k), name, rc, err, d)

shutil.rmtree(work, ignore_errors=True)
for f in faults:
    print("FAULT", f)
print("hostile: %d runs, %d handled cleanly, %d faults (seed %d)" % (counts["runs"], counts["clean"], len(faults), args.seed))
sys.exit(1 if faults else 0)
