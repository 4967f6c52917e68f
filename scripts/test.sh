#!/usr/bin/env bash
# Runs every test suite (xunit, pytest) after installing what they need, and ends with one
# line "N passed, N failed" counting all suites together. Exits non-zero if any test failed.
set -uo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh || { echo "0 passed, 1 failed"; exit 1; }

results=build/test-results
rm -rf "$results"; mkdir -p "$results"
status=0

# One trx file per xunit project (all of them are counted below).
echo "== xunit: engine rules"
dotnet test tests/Deisa.Core.Tests/Deisa.Core.Tests.csproj -nologo -v quiet \
  --logger "trx;LogFileName=xunit-core.trx" --results-directory "$results" || status=1

echo "== xunit: the C# doors across real processes"
dotnet test tests/Deisa.Processes.Tests/Deisa.Processes.Tests.csproj -nologo -v quiet \
  --logger "trx;LogFileName=xunit-processes.trx" --results-directory "$results" || status=1

echo "== pytest: end-to-end with real processes"
.venv/bin/python -m pytest tests/python -q -p no:cacheprovider --junitxml="$results/pytest.xml" || status=1

read -r passed failed < <(.venv/bin/python - "$results" <<'PY'
import sys, pathlib, xml.etree.ElementTree as ET
root = pathlib.Path(sys.argv[1])
passed = failed = 0
# Every trx file; a suite that produced none (e.g. it did not build) counts as one failure.
expected = {"xunit-core.trx", "xunit-processes.trx"}
for name in sorted(expected | {p.name for p in root.glob("*.trx")}):
    trx = root / name
    if not trx.exists():
        failed += 1
        continue
    c = next(e for e in ET.parse(trx).iter() if e.tag.endswith("Counters"))
    passed += int(c.get("passed", 0)); failed += int(c.get("failed", 0)) + int(c.get("error", 0))
junit = root / "pytest.xml"
if junit.exists():
    for s in ET.parse(junit).iter("testsuite"):
        n, f, e, sk = (int(s.get(k, 0)) for k in ("tests", "failures", "errors", "skipped"))
        passed += n - f - e - sk; failed += f + e
else:
    failed += 1
print(passed, failed)
PY
)
[ "${failed:-1}" -eq 0 ] || status=1
echo "${passed:-0} passed, ${failed:-1} failed"
exit $status
