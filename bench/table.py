"""Rows of the result table, and the table as text (terminal) and Markdown (bench/results.md)."""

import datetime


class Row:
    """One figure: deisa's number, the reference's number, their ratio and the target.

    ``met`` is True/False when the row has a target, None for rows shown for information.
    """

    def __init__(self, fig, what, deisa, reference, ratio, target="—", met=None, note=""):
        self.fig, self.what, self.deisa, self.reference = fig, what, deisa, reference
        self.ratio, self.target, self.met, self.note = ratio, target, met, note

    @property
    def verdict(self):
        return "—" if self.met is None else ("met" if self.met else "missed")


class Failed(Row):
    """A figure whose measurement itself failed: reported, never raised."""

    def __init__(self, fig, what, error):
        super().__init__(fig, what, "error", "—", "—", "—", False, str(error).strip().splitlines()[-1][:200])


def fmt_time(s):
    if s != s:  # nan
        return "n/a"
    if s < 1e-3:
        return f"{s * 1e6:.1f} µs"
    if s < 1:
        return f"{s * 1e3:.2f} ms"
    return f"{s:.2f} s"


def fmt_bytes(n):
    for unit, size in (("GiB", 2 ** 30), ("MiB", 2 ** 20), ("KiB", 2 ** 10)):
        if n >= size:
            v = n / size
            return f"{v:.0f} {unit}" if v == int(v) else f"{v:.1f} {unit}"
    return f"{n} B"


def fmt_ratio(r):
    if isinstance(r, str):
        return r
    if r != r:
        return "n/a"
    if r >= 100:
        return f"{r:.0f}×"
    if r >= 10:
        return f"{r:.1f}×"
    return f"{r:.3f}" if r < 0.1 else f"{r:.2f}"


HEADER = ("fig", "figure", "deisa", "reference", "ratio", "target", "result")


def cells(row):
    return (row.fig, row.what, row.deisa, row.reference, fmt_ratio(row.ratio), row.target, row.verdict)


def text_table(headers, rows):
    widths = [max(len(str(h)), *(len(str(r[i])) for r in rows)) if rows else len(str(h)) for i, h in enumerate(headers)]
    line = "  ".join("-" * w for w in widths)
    out = ["  ".join(str(h).ljust(w) for h, w in zip(headers, widths)), line]
    out += ["  ".join(str(c).ljust(w) for c, w in zip(r, widths)) for r in rows]
    return "\n".join(out)


def md_table(headers, rows):
    out = ["| " + " | ".join(headers) + " |", "|" + "|".join("---" for _ in headers) + "|"]
    out += ["| " + " | ".join(str(c).replace("|", "\\|") for c in r) + " |" for r in rows]
    return "\n".join(out)


def notes(rows):
    return [f"{r.fig}: {r.note}" for r in rows if r.note]


def machine_line(m):
    return (f"{m['cpu']}, {m['cores']} cores, {m['memory'] / 2 ** 30:.1f} GiB memory, /dev/shm "
            f"{m['shm'] / 2 ** 30:.1f} GiB, Linux {m['kernel']}, Python {m['python']}")


def markdown(rows, scaling, m, mode, elapsed, load_before, load_after):
    when = datetime.datetime.now().astimezone().strftime("%Y-%m-%d %H:%M %Z")
    out = [f"# Deisa benchmark ({mode} run)", "",
           f"{when} — {machine_line(m)}. Load average {load_before[0]:.1f} before, {load_after[0]:.1f} after; "
           f"the run took {elapsed:.0f} s. Every ratio is against a reference measured in the same run; "
           "absolute numbers are for information.", "",
           md_table(HEADER, [cells(r) for r in rows]), ""]
    for title, headers, trs in scaling:
        out += [f"**{title}**", "", md_table(headers, trs), ""]
    ns = notes(rows)
    if ns:
        out += ["Notes:", ""] + [f"- {n}" for n in ns] + [""]
    return "\n".join(out)
