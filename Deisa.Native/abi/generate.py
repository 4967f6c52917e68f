#!/usr/bin/env python3
"""Writes every file that carries the C ABI's constants, from deisa_abi.json next to this file.

    python3 Deisa.Native/abi/generate.py           # rewrite the generated files
    python3 Deisa.Native/abi/generate.py --check   # exit 1, naming them, if any is stale

Generated: the constant section of Deisa.Native/include/deisa.h (between its GENERATED
markers), Deisa.Native/fortran/deisa.f90 (through fortran/generate.py, which takes its
parameters from here), python/deisa/_abi.py and Deisa.Core/Model/AbiConstants.g.cs. The C#
enums are written by hand (with their documentation) and checked against the same file by a
test (tests/Deisa.Core.Tests/AbiTests.cs).
"""

import json
import sys
import textwrap
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent
SOURCE = HERE / "deisa_abi.json"
HEADER = ROOT / "Deisa.Native" / "include" / "deisa.h"
PYTHON = ROOT / "python" / "deisa" / "_abi.py"
CSHARP = ROOT / "Deisa.Core" / "Model" / "AbiConstants.g.cs"
BEGIN = "/* BEGIN GENERATED from Deisa.Native/abi/deisa_abi.json by generate.py: do not edit */"
END = "/* END GENERATED */"


def load():
    return json.loads(SOURCE.read_text())


def enums(abi):
    """Every enum, the status codes first: (description, values)."""
    return [abi["status"]] + abi["enums"]


def c_comment(text):
    return f" /* {text} */" if text else ""


def c_constants(abi):
    lines = [BEGIN, "", f'#define DEISA_VERSION "{abi["version"]}"', ""]
    for e in enums(abi):
        lines += textwrap.wrap(e["doc"], 96, initial_indent="/* ", subsequent_indent=" * ")
        lines[-1] += " */"
        lines.append(f"typedef enum {e['c_type']} {{")
        width = max(len(v["c"]) for v in e["values"])
        for i, v in enumerate(e["values"]):
            comma = "," if i + 1 < len(e["values"]) else ""
            doc = v.get("doc") or v.get("message") or v.get("numpy", "")
            lines.append(f"    {v['c'] + ' = ' + str(v['value']) + comma:<{width + 6}}{c_comment(doc)}")
        lines.append(f"}} {e['c_type']};")
        lines.append("")
    lines.append("/* Limits. */")
    width = max(len(x["c"]) for x in abi["limits"])
    for x in abi["limits"]:
        lines.append(f"#define {x['c']:<{width}} {x.get('expression', str(x['value']))}{c_comment(x['doc'])}")
    lines += ["", END]
    return "\n".join(lines)


def header(abi, current):
    start, end = current.index(BEGIN), current.index(END) + len(END)
    return current[:start] + c_constants(abi) + current[end:]


def python(abi):
    out = ['"""The C ABI\'s constants (deisa.h), GENERATED from Deisa.Native/abi/deisa_abi.json by',
           'Deisa.Native/abi/generate.py: edit that file, not this one."""', "",
           f'VERSION = "{abi["version"]}"', ""]
    for e in enums(abi):
        out += textwrap.wrap(e["doc"], 96, initial_indent="# ", subsequent_indent="# ")
        for v in e["values"]:
            out.append(f"{v['c'][len('DEISA_'):]} = {v['value']}")
        out.append("")
    status = abi["status"]["values"]
    out.append("STATUS_NAMES = {")
    out += [f"    {v['value']}: {json.dumps(v['c'])}," for v in status]
    out += ["}", ""]
    out.append("STATUS_MESSAGES = {")
    out += [f"    {v['value']}: {json.dumps(v['message'])}," for v in status]
    out += ["}", "", "# The Python exception of each error status (by name: errors.py defines the classes)."]
    out.append("STATUS_EXCEPTIONS = {")
    out += [f"    {v['value']}: {json.dumps(v['python'])}," for v in status if "python" in v]
    out.append("}")
    out.append("")
    for e in abi["enums"]:
        key = e["python"]
        named = [v for v in e["values"] if "numpy" in v or "python" in v]
        if e["c_type"] == "deisa_dtype":
            out.append("# dtype code -> (numpy name, bytes per element)")
            out.append(f"{key}S = {{")
            out += [f"    {v['value']}: ({json.dumps(v['numpy'])}, {v['itemsize']})," for v in named]
        elif e["c_type"] == "deisa_order":
            out.append("# memory order code -> numpy's order letter")
            out.append(f"{key}S = {{")
            out += [f"    {v['value']}: {json.dumps(v['numpy'])}," for v in named]
        else:
            out.append("# the Python argument -> its code")
            out.append(f"{key} = {{")
            out += [f"    {json.dumps(v['python'])}: {v['value']}," for v in named]
        out += ["}", ""]
    out.append("# Limits")
    for x in abi["limits"]:
        out.append(f"{x['c'][len('DEISA_'):]} = {x['value']}  # {x['doc']}")
    return "\n".join(out) + "\n"


def csharp(abi):
    status = abi["status"]["values"]
    out = ["// GENERATED from Deisa.Native/abi/deisa_abi.json by Deisa.Native/abi/generate.py: edit that file,",
           "// not this one. The enums (DeisaStatus, DType, ...) are written by hand and checked against the",
           "// same file by tests/Deisa.Core.Tests/AbiTests.cs.",
           "#nullable enable", "", "namespace Deisa.Model;", "",
           "/// <summary>The C ABI's version and limits (deisa.h), and the text of each status code.</summary>",
           "public static class AbiConstants", "{",
           "    /// <summary>Version of the library and of its C ABI.</summary>",
           f'    public const string Version = "{abi["version"]}";', ""]
    for x in abi["limits"]:
        kind = "long" if x["value"] > 2**31 - 1 else "int"
        out.append(f"    /// <summary>{x['doc'][0].upper() + x['doc'][1:]}.</summary>")
        out.append(f"    public const {kind} {x['csharp']} = {x['value']};")
        out.append("")
    out.append("    /// <summary>What a status code means (<c>deisa_status_string</c>); null for a code that is not one.</summary>")
    out.append("    public static string? StatusMessage(DeisaStatus status) => status switch")
    out.append("    {")
    out += [f"        DeisaStatus.{v['csharp']} => {json.dumps(v['message'])}," for v in status]
    out += ["        _ => null,", "    };", "}"]
    return "\n".join(out) + "\n"


def outputs(abi):
    """(path, text) of every file written here (deisa.f90 is fortran/generate.py's)."""
    return [(HEADER, header(abi, HEADER.read_text())), (PYTHON, python(abi)), (CSHARP, csharp(abi))]


def fortran_text():
    sys.path.insert(0, str(HERE.parent / "fortran"))
    import generate as fortran  # noqa: E402 - fortran/generate.py, next to deisa.f90

    return fortran.TARGET, fortran.module()


def main():
    abi = load()
    files = outputs(abi) + [fortran_text()]
    if "--check" in sys.argv:
        stale = [p for p, text in files if not p.exists() or p.read_text() != text]
        for p in stale:
            print(f"{p.relative_to(ROOT)} is stale: run python3 Deisa.Native/abi/generate.py", file=sys.stderr)
        return 1 if stale else 0
    for path, text in files:
        if not path.exists() or path.read_text() != text:
            path.write_text(text)
            print(f"wrote {path.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
