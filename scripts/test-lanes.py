#!/usr/bin/env python3
"""Runs the workspace's test binaries in two lanes side by side.

`cargo test` runs one test binary after another. Most of zklink-cli's binary (the devnet drills)
is spent waiting on proofs, block times and L1 round trips, so it runs beside the other crates'
binaries instead: the cli lane in the background (its output shown when it ends), every other
binary in the foreground, one after another. The devnets of the cli lane restart on ports below
the OS's ephemeral range, which the other lane's servers (bound to port 0) never take.

Builds nothing itself beyond `cargo test --workspace --no-run` (which the caller may have run
already); each binary runs in its package's directory, as `cargo test` runs it. Exits non-zero
if any binary failed, after both lanes have ended.
"""
import json
import os
import subprocess
import sys
import tempfile

BACKGROUND = {"zklink-cli"}


def test_binaries():
    """(package name, package dir, executable) of every test binary of the workspace."""
    out = subprocess.run(
        ["cargo", "test", "--workspace", "--locked", "--no-run", "--message-format=json-render-diagnostics"],
        check=True, stdout=subprocess.PIPE, text=True).stdout
    found = []
    for line in out.splitlines():
        msg = json.loads(line)
        if msg.get("reason") == "compiler-artifact" and msg.get("executable") and msg["profile"]["test"]:
            name = msg["target"]["name"]
            pkg_dir = os.path.dirname(msg["manifest_path"])
            pkg_name = os.path.basename(pkg_dir)
            found.append((pkg_name, pkg_dir, name, msg["executable"]))
    return sorted(found, key=lambda b: (b[0], b[2]))


def main():
    binaries = test_binaries()
    background = [b for b in binaries if f"zklink-{b[0]}" in BACKGROUND]
    foreground = [b for b in binaries if f"zklink-{b[0]}" not in BACKGROUND]
    logs = []
    running = []
    for pkg, pkg_dir, name, exe in background:
        log = tempfile.TemporaryFile(mode="w+")
        print(f"     Running {exe} (beside the others; output below when it ends)", flush=True)
        running.append((pkg, name, exe, subprocess.Popen([exe], cwd=pkg_dir, stdout=log, stderr=subprocess.STDOUT), log))
    failed = []
    for pkg, pkg_dir, name, exe in foreground:
        print(f"     Running {exe}", flush=True)
        if subprocess.run([exe], cwd=pkg_dir).returncode != 0:
            failed.append(f"{pkg}/{name}")
    for pkg, name, exe, proc, log in running:
        code = proc.wait()
        log.seek(0)
        print(f"---- {exe} ----", flush=True)
        sys.stdout.write(log.read())
        sys.stdout.flush()
        if code != 0:
            failed.append(f"{pkg}/{name}")
    if failed:
        print(f"test binaries failed: {', '.join(failed)}", file=sys.stderr)
        return 1
    print(f"all {len(binaries)} test binaries passed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
