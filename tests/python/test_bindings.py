"""The hand-written parts of the bindings, checked against deisa.h: every function the Python (ctypes)
and Fortran (bind(C)) bindings declare has the header's name, parameter count and parameter kinds.
(The constants are generated from Deisa.Native/abi/deisa_abi.json; see test_native_packaging.py.)"""

import ctypes
import re
from pathlib import Path

import pytest

from deisa._native import SIGNATURES

ROOT = Path(__file__).resolve().parents[2]
HEADER = ROOT / "Deisa.Native" / "include" / "deisa.h"
FORTRAN = ROOT / "Deisa.Native" / "fortran" / "deisa.f90"

# The kind of a parameter, the same for the three languages: a scalar passed by value, or a pointer
# to one ("int*" also for an enum's pointer, "char*" for a string, "ptr" a handle or untyped
# buffer by value, "ptr*" where the callee writes a pointer or reads an array of them).
_SCALARS = {"int": "int", "int64_t": "int64", "double": "double", "void": "void"}


def _c_kind(declaration, enums):
    declaration = re.sub(r"\bconst\b", "", declaration)
    stars = declaration.count("*")
    base = declaration.replace("*", " ").split()[0]
    base = "int" if base in enums else base
    if stars == 0:
        return _SCALARS[base]
    if stars == 2:
        return "ptr*"
    if base == "char":
        return "char*"
    if base in ("int", "int64_t", "double"):
        return _SCALARS[base] + "*"
    return "ptr"


def header_signatures():
    """name -> (return kind, [parameter kinds]) for every function deisa.h declares."""
    text = re.sub(r"/\*.*?\*/", " ", HEADER.read_text(), flags=re.S)
    enums = set(re.findall(r"typedef\s+enum\s+\w+\s*\{[^}]*\}\s*(\w+)\s*;", text))
    found = {}
    for ret, name, params in re.findall(r"^\s*((?:const\s+)?\w+\s*\**)\s*(deisa_\w+)\s*\(([^)]*)\)\s*;",
                                        text, re.M):
        params = " ".join(params.split())
        kinds = [] if params in ("void", "") else [_c_kind(p, enums) for p in params.split(",")]
        found[name] = ("ptr" if "*" in ret else _c_kind(ret, enums), kinds)
    return found


def _ctypes_kind(t):
    if t is None:
        return "void"
    simple = {ctypes.c_int: "int", ctypes.c_int64: "int64", ctypes.c_double: "double",
              ctypes.c_char_p: "char*", ctypes.c_void_p: "ptr"}
    if t in simple:
        return simple[t]
    target = getattr(t, "_type_", None)
    pointers = {ctypes.c_int: "int*", ctypes.c_int64: "int64*", ctypes.c_double: "double*",
                ctypes.c_void_p: "ptr*", ctypes.c_char_p: "ptr*"}
    if target in pointers:
        return pointers[target]
    raise AssertionError(f"unknown ctypes type {t!r}")


def fortran_signatures():
    """name -> [parameter kinds] for every function the Fortran module binds with bind(C)."""
    text = FORTRAN.read_text().replace("&\n", " ")
    found = {}
    pattern = (r"^\s*(?:integer\(c_int\)|type\(c_ptr\))\s+function\s+\w+\(([^)]*)\)\s*bind\(C,\s*name=\"(\w+)\"\)"
               r"(.*?)end function")
    for params, name, body in re.findall(pattern, text, re.M | re.S):
        declared = {}
        for line in body.splitlines():
            if "::" not in line or line.strip().startswith("import"):
                continue
            attributes, names = line.split("::")
            by_value = "value" in attributes
            array = "dimension(*)" in attributes
            if "character(kind=c_char)" in attributes:
                kind = "char*"
            elif "type(c_ptr)" in attributes:
                kind = "ptr" if by_value else "ptr*"
            else:
                scalar = {"integer(c_int)": "int", "integer(c_int64_t)": "int64", "real(c_double)": "double"}
                base = next(v for k, v in scalar.items() if attributes.strip().startswith(k + ","))
                kind = base if by_value and not array else base + "*"
            for n in names.split(","):
                declared[n.strip()] = kind
        order = [p.strip() for p in params.split(",") if p.strip()]
        found[name] = [declared[p] for p in order]
    return found


def test_the_header_parser_reads_every_function():
    signatures = header_signatures()
    assert len(signatures) >= 30, sorted(signatures)
    assert signatures["deisa_bridge_send"] == (
        "int", ["ptr", "char*", "ptr", "int64", "int", "int", "int64*", "int", "int64"])
    assert signatures["deisa_last_error"] == ("ptr", [])


@pytest.mark.parametrize("name", sorted(SIGNATURES))
def test_python_binding_matches_the_header(name):
    header = header_signatures()
    assert name in header, f"{name} is bound in deisa/_native.py but not declared in deisa.h"
    restype, argtypes = SIGNATURES[name]
    ret, params = header[name]
    python_params = [_ctypes_kind(t) for t in argtypes]
    # A string the library allocates is read as a raw pointer (freed by deisa_string_free).
    params = ["ptr" if (p == "char*" and q == "ptr") else p for p, q in zip(params, python_params)] \
        + params[len(python_params):]
    assert python_params == params, f"{name}: ctypes {python_params}, deisa.h {params}"
    assert _ctypes_kind(restype) in (ret, "char*" if ret == "ptr" else ret), f"{name} returns {ret}"


def test_fortran_binding_matches_the_header():
    header = header_signatures()
    fortran = fortran_signatures()
    assert len(fortran) >= 15, sorted(fortran)
    for name, params in fortran.items():
        assert name in header, f"{name} is bound in deisa.f90 but not declared in deisa.h"
        assert params == header[name][1], f"{name}: Fortran {params}, deisa.h {header[name][1]}"


def test_a_wrong_binding_is_caught():
    # The checks can fail: a parameter dropped or retyped in either binding shows.
    header = header_signatures()
    restype, argtypes = SIGNATURES["deisa_bridge_close"]
    assert [_ctypes_kind(t) for t in argtypes[:-1]] != header["deisa_bridge_close"][1]
    assert [_ctypes_kind(t) for t in [*argtypes[:-1], ctypes.c_int]] != header["deisa_bridge_close"][1]
    fortran = fortran_signatures()["deisa_bridge_close"]
    assert ["int" if k == "int64" else k for k in fortran] != header["deisa_bridge_close"][1]
