"""Builds bench/csender.c against the checkout's libdeisa.so (into bench/build/, git-ignored)."""

import subprocess

from common import BENCH, PYTHON, child_env


def deisa_dirs():
    def ask(flag):
        out = subprocess.run([PYTHON, "-m", "deisa", flag], env=child_env(), capture_output=True, text=True, check=True)
        return out.stdout.strip()

    lib = ask("--lib-path")
    return ask("--include-dir"), lib.rsplit("/", 1)[0]


def build_csender():
    """Path of the compiled C sender, or None (with the reason) when it cannot be built."""
    out = BENCH / "build" / "csender"
    out.parent.mkdir(exist_ok=True)
    try:
        include, libdir = deisa_dirs()
        subprocess.run(["cc", "-O2", "-std=c11", "-o", str(out), str(BENCH / "csender.c"), f"-I{include}",
                        f"-L{libdir}", "-ldeisa", f"-Wl,-rpath,{libdir}"], check=True, capture_output=True, text=True)
    except (OSError, subprocess.CalledProcessError) as e:
        return None, getattr(e, "stderr", None) or str(e)
    return str(out), None
