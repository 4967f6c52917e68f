"""Figure 2: the zero-copy send (buffer / acquire-commit) of a 64 MiB block against one memcpy."""

from common import MiB, Run, median
from table import Row, fmt_time


def _python(n, steps, fill_steps, pace):
    cfg = {"mode": "zerocopy", "n": n, "steps": steps, "fill_steps": fill_steps, "pace": pace}
    with Run("fig2") as run:
        ana = run.start("ana_deisa.py", {"arrays": ["x"], "consume": "touch", "count_segments": True})
        r = run.ranks("sim_deisa.py", 1, cfg)[0].wait()[0]
        r["segments"] = max(ana.wait()[0].get("segments") or [0])
    return r


def _c(csender, n, steps, pace):
    with Run("fig2c") as run:
        ana = run.start("ana_deisa.py", {"arrays": ["x"], "consume": "touch"})
        r = run.start_cmd([csender, "0", "1", "zerocopy", str(n), str(steps), str(pace)], name="csender").wait()[0]
        ana.wait()
    return r


def fig2(quick, csender):
    n = 64 * MiB // 8
    steps, fill_steps, pace = (10, 3, 0.02) if quick else (40, 10, 0.02)
    r = _python(n, steps, fill_steps, pace)
    zc, ref = median(r["zerocopy"]), median(r["memcpy"])
    slow = [x for x in r["zerocopy"] if x > 3 * ref]
    fill, fill_ref, send = median(r["fill"]), median(r["fill_memcpy"]), median(r["send"])
    rows = [Row("2", "Zero-copy send of 64 MiB, Python `with bridge.buffer(...)` (vs one 64 MiB memcpy)",
                fmt_time(zc), f"memcpy {fmt_time(ref)}", zc / ref, "≤ 0.010", zc / ref <= 0.010,
                f"acquire + numpy view + commit, paced {pace * 1e3:.0f} ms apart so no back-pressure wait is timed; "
                f"median of {steps} (enter = acquire {fmt_time(median(r['acquire']))}, exit = commit "
                f"{fmt_time(median(r['commit']))}), fastest {fmt_time(min(r['zerocopy']))}; {len(slow)} took more than 3 memcpys "
                f"(the pool grew to {r['segments']} segments: a new one is created and pre-faulted in the acquire). "
                f"Writing 64 MiB into the buffer: "
                f"{fmt_time(fill)} (memcpy into touched private memory {fmt_time(fill_ref)}); bridge.send of the "
                f"same block {fmt_time(send)}")]
    if csender:
        c = _c(csender, n, steps, pace)
        rows.append(Row("2·C", "Zero-copy send of 64 MiB from C, deisa_bridge_acquire + deisa_block_commit",
                        fmt_time(c["zerocopy"]), f"memcpy {fmt_time(c['memcpy'])}", c["zerocopy"] / c["memcpy"],
                        "≤ 0.004", c["zerocopy"] / c["memcpy"] <= 0.004,
                        f"median of {steps}, fastest {fmt_time(c['zerocopy_min'])}"))
    return rows
