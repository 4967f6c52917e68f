"""Figure 12: a live timestep read over Arrow Flight. Arrow's C# Flight client reads a 64 MiB
float64 timestep held by a run from deisa's Flight endpoint (bench/flight: each block copied
once, from shared memory into the socket), against the same bytes streamed by Apache Arrow's
own C# Flight server (a FlightServer writing a record batch over native memory: three copies),
in the same process, read by the same client; reads alternate, the ratio is the median over the
pairs. memcpy of the same bytes is shown for scale."""

import json
import subprocess

from common import ROOT, median
from table import Row


def fig12(quick):
    mib, reads, pairs = (8, 2, 1) if quick else (64, 8, 5)
    out = subprocess.run(["dotnet", "run", "-c", "Release", "--project", str(ROOT / "bench" / "flight"), "--",
                          "--mib", str(mib), "--reads", str(reads), "--pairs", str(pairs)],
                         capture_output=True, text=True, timeout=900, check=True)
    r = json.loads(out.stdout.strip().splitlines()[-1])
    ratios = [a / b for a, b in zip(r["deisa_gbs"], r["arrow_gbs"])]
    ratio = median(ratios)
    deisa, arrow = median(r["deisa_gbs"]), median(r["arrow_gbs"])
    return [Row("12", f"Arrow Flight read of a live timestep ({mib} MiB float64, one block), GB/s, "
                      "against Arrow's own C# Flight server streaming the same bytes, same client",
                f"{deisa:.2f} GB/s", f"Arrow {arrow:.2f} GB/s", ratio, "≥ 1.0", ratio >= 1.0,
                f"{pairs} alternating pairs of {reads} reads; ratios {', '.join(f'{x:.2f}' for x in ratios)}; "
                f"memcpy {r['memcpy_gbs']:.1f} GB/s (the client's own copies and HTTP/2 bound both)")]
