#!/usr/bin/env python3
"""Structure checks run by scripts/test.sh (docs: issue 15, CONTRIBUTING in README):

1. no module cycle inside any crate (module A uses B and B uses A, directly or through others);
2. the remote prover and the oracle do not link the operator node;
3. no library crate returns `Result<_, String>` (errors are typed and keep their cause);
4. every crate inherits the workspace lints.

Prints what is wrong and exits 1, or prints one line per check and exits 0.
"""
import glob
import os
import re
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
os.chdir(ROOT)
failures = []


def module_of(src, path):
    """The top-level module a source file belongs to (`<root>` for lib.rs/main.rs)."""
    rel = os.path.relpath(path, src)[:-3].split(os.sep)
    if rel[-1] in ("mod", "lib", "main"):
        rel = rel[:-1]
    return rel


def strip(text):
    text = re.sub(r"//[^\n]*", "", text)
    cut = text.find("#[cfg(test)]")
    return text if cut < 0 else text[:cut]


def module_edges(crate):
    """Edges between the crate's modules, at two levels (`a`, `a/b`)."""
    src = os.path.join(crate, "src")
    known = set()
    for path in glob.glob(src + "/**/*.rs", recursive=True):
        parts = module_of(src, path)
        for n in (1, 2):
            if len(parts) >= n:
                known.add("/".join(parts[:n]))
    edges = {}
    for path in glob.glob(src + "/**/*.rs", recursive=True):
        parts = module_of(src, path)
        here = "/".join(parts[:2]) or "<root>"
        text = strip(open(path, encoding="utf-8").read())
        targets = set()
        for group in re.finditer(r"\bcrate::\{([^;]*?)\};", text, re.S):
            for item in re.split(r",(?![^{]*\})", group.group(1)):
                targets.add(tuple(item.strip().strip("{} \n").split("::")[:2]))
        for m in re.finditer(r"\bcrate::([a-z_][a-z0-9_]*)(?:::([a-z_][a-z0-9_]*))?", text):
            targets.add(tuple(x for x in m.groups() if x))
        for m in re.finditer(r"\bsuper::([a-z_][a-z0-9_]*)", text):
            if parts:
                targets.add(tuple(parts[:-1] + [m.group(1)])[:2])
        for t in targets:
            if not t or not t[0]:
                continue
            name = "/".join(t[:2]) if "/".join(t[:2]) in known else t[0]
            if name not in known or name == here or here.startswith(name + "/"):
                continue
            edges.setdefault(here, set()).add(name)
    return edges


def cycles(edges):
    index, low, stack, on, out, counter = {}, {}, [], set(), [], [0]
    sys.setrecursionlimit(10000)

    def visit(v):
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on.add(v)
        for w in edges.get(v, ()):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                out.append(sorted(comp))

    for v in list(edges):
        if v not in index:
            visit(v)
    return out


crates = sorted(c for c in glob.glob("crates/*") if os.path.isfile(os.path.join(c, "Cargo.toml")))
for crate in crates:
    for comp in cycles(module_edges(crate)):
        failures.append(f"{crate}: modules {', '.join(comp)} import each other (a cycle)")
print(f"module cycles: checked {len(crates)} crates")

for package in ("zklink-prover-worker", "zklink-oracle"):
    tree = subprocess.run(
        ["cargo", "tree", "--locked", "-p", package, "--prefix", "none", "-f", "{p}"],
        capture_output=True, text=True, check=True,
    ).stdout
    if re.search(r"^zklink-node ", tree, re.M):
        failures.append(f"{package} depends on zklink-node (cargo tree -p {package} -i zklink-node shows how)")
print("dependency direction: the prover worker and the oracle do not link the node")

string_results = re.compile(r"Result<[^;{]*,\s*String\s*>")
for crate in crates:
    if crate.endswith("/cli"):
        continue  # the binary may carry its own context-carrying error type
    for path in glob.glob(crate + "/src/**/*.rs", recursive=True):
        for n, line in enumerate(open(path, encoding="utf-8"), 1):
            if string_results.search(line) and not line.lstrip().startswith("//"):
                failures.append(f"{path}:{n}: a library returns Result<_, String>: {line.strip()}")
print("typed errors: no Result<_, String> in library crates")

for crate in crates:
    manifest = open(os.path.join(crate, "Cargo.toml"), encoding="utf-8").read()
    if not re.search(r"^\[lints\]\s*\nworkspace\s*=\s*true", manifest, re.M):
        failures.append(f"{crate}/Cargo.toml does not inherit the workspace lints ([lints] workspace = true)")
print("lints: every crate inherits [workspace.lints]")

if failures:
    print("\nstructure check failed:", file=sys.stderr)
    for f in failures:
        print("  " + f, file=sys.stderr)
    sys.exit(1)
