"""Compiling native test programs against libdeisa.so, the way a user's build would.

The header and the library are found through the package's command line
(``python -m deisa --include-dir`` / ``--lib-path``); programs link with ``-L dir -ldeisa``
and an rpath, so they run without LD_LIBRARY_PATH. ``compile_c`` is for C; ``compile_native``
is the general form (any compiler driver, e.g. gfortran for Fortran programs).
"""

import os
import shlex
import shutil
import subprocess
import sys
from functools import lru_cache
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


class BuildError(RuntimeError):
    """A compilation failed; the message holds the command and the compiler's output."""


def deisa_cli(*args):
    env = dict(os.environ)
    # The package as the tests import it (a checkout's python/ when PYTHONPATH points there).
    paths = [str(Path(p).resolve()) for p in env.get("PYTHONPATH", "").split(os.pathsep) if p]
    env["PYTHONPATH"] = os.pathsep.join(paths)
    r = subprocess.run([sys.executable, "-m", "deisa", *args], capture_output=True, text=True, env=env, timeout=60)
    if r.returncode != 0:
        raise BuildError(f"python -m deisa {' '.join(args)} failed ({r.returncode}):\n{r.stdout}{r.stderr}")
    return Path(r.stdout.strip())


@lru_cache(maxsize=None)
def deisa_paths():
    """(include directory holding deisa.h, directory holding libdeisa.so)."""
    include = deisa_cli("--include-dir")
    lib = deisa_cli("--lib-path")
    if not (include / "deisa.h").is_file():
        raise BuildError(f"python -m deisa --include-dir gave {include}, which has no deisa.h")
    if not lib.is_file():
        raise BuildError(f"python -m deisa --lib-path gave {lib}, which does not exist")
    return include, lib.parent


def find_compiler(candidates=("cc", "gcc", "clang")):
    """The first of ``candidates`` on PATH, or None."""
    for c in candidates:
        path = shutil.which(c)
        if path:
            return path
    return None


def link_flags():
    """Flags that link a program with libdeisa.so and let it find the library at run time."""
    _, libdir = deisa_paths()
    return [f"-L{libdir}", "-ldeisa", f"-Wl,-rpath,{libdir}"]


def compile_native(compiler, sources, out, flags=(), timeout=300):
    """Runs ``compiler flags sources -o out`` (flags come first, libraries after the sources).

    Returns ``out`` as a Path; raises BuildError with the command and the compiler's output.
    """
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    sources = [str(s) for s in ([sources] if isinstance(sources, (str, Path)) else sources)]
    compile_flags = [f for f in flags if not f.startswith(("-l", "-L", "-Wl,"))]
    libraries = [f for f in flags if f.startswith(("-l", "-L", "-Wl,"))]
    cmd = [str(compiler), *compile_flags, *sources, "-o", str(out), *libraries]
    try:
        r = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)
    except FileNotFoundError as e:
        raise BuildError(f"compiler not found: {compiler} ({e})") from None
    except subprocess.TimeoutExpired:
        raise BuildError(f"compilation took more than {timeout} s: {shlex.join(cmd)}") from None
    if r.returncode != 0 or not out.is_file():
        raise BuildError(f"compilation failed ({r.returncode}): {shlex.join(cmd)}\n{r.stdout}{r.stderr}")
    return out


def compile_c(sources, out, extra_flags=(), compiler=None):
    """Compiles C sources against deisa.h and links them with libdeisa.so (-Wall -Werror).

    Returns the path of the program; raises BuildError with the compiler's output on failure.
    """
    compiler = compiler or find_compiler()
    if compiler is None:
        raise BuildError("no C compiler (cc, gcc or clang) on PATH")
    include, _ = deisa_paths()
    flags = ["-std=c11", "-Wall", "-Wextra", "-Werror", "-O1", "-g", f"-I{include}", *extra_flags,
             *link_flags(), "-lpthread", "-lm"]
    return compile_native(compiler, sources, out, flags)
