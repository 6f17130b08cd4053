"""Runs cfn-lint with the rules beside this file on template.yaml and on the fixtures, and
checks each fixture's expectations (called by infra/deploy/check.sh; not a rule module).

A fixture is a small template (the slice of template.yaml that one rule reads, often with one
thing broken, the way the old checker's mutations broke it) that opens with comment lines:

    # fails: E9301 point-in-time recovery is not enabled    (the rule reports a message
                                                             containing this text)
    # passes: E9301                                          (the rule reports nothing)

Every portal-auth rule (E9xxx) must fail at least one fixture and pass at least one template:
template.yaml itself, which must lint clean (no error, no warning), counts for all of them.
Further templates given after the first (check.sh gives a copy of template.yaml with
PortalBackendUrl set) must lint clean too. Two cfn-lint processes lint everything. Prints `ok`/`FAIL` lines and, last,
`rules: N passed, M failed`; exits non-zero on any failure.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[2]
CFN_LINT = ROOT / ".venv" / "bin" / "cfn-lint"
EXPECT = re.compile(r"#\s*(fails|passes):\s*([EWI]\d{4})\s*(.*?)\s*$")


def main() -> int:
    templates = [Path(a).resolve() for a in sys.argv[1:]] or [ROOT / "template.yaml"]
    fixtures = sorted((HERE / "fixtures").glob("*.yaml"))
    ours = sorted(
        line.split(":", 1)[0]
        for line in subprocess.run(
            [str(CFN_LINT), "--append-rules", str(HERE), "--list-rules"], capture_output=True, text=True, check=True
        ).stdout.splitlines()
        if re.match(r"E9\d{3}:", line)
    )
    # Two cfn-lint processes (this machine has two cores), each on half of the templates.
    files = [*templates, *fixtures]
    procs = [
        subprocess.Popen(
            [str(CFN_LINT), "--append-rules", str(HERE), "--format", "json", "--", *map(str, files[i::2])],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        )
        for i in range(2)
    ]
    matches = []
    for proc in procs:
        out, err = proc.communicate(timeout=600)
        try:
            matches += json.loads(out or "[]")
        except ValueError:
            print(f"FAIL  cfn-lint ran (exit {proc.returncode}):\n{out[:2000]}{err[:2000]}")
            print("rules: 0 passed, 1 failed")
            return 1
    found: dict[Path, list[tuple[str, str]]] = {}
    for m in matches:
        found.setdefault(Path(m["Filename"]).resolve(), []).append((m["Rule"]["Id"], m["Message"]))

    passed, failed = 0, []

    def record(name: str, ok: bool, detail: str = "") -> None:
        nonlocal passed
        if ok:
            passed += 1
            print(f"ok    {name}" + (f"  ({detail[:150]})" if detail else ""))
        else:
            failed.append(name)
            print(f"FAIL  {name}\n        {detail}")

    for template in templates:
        rel = template.relative_to(ROOT) if template.is_relative_to(ROOT) else template
        record(
            f"cfn-lint + portal-auth rules on {rel}: clean (passes {', '.join(ours)})",
            not found.get(template),
            "\n        ".join(f"{i} {msg}" for i, msg in found.get(template, [])),
        )
    fails_seen = {r: 0 for r in ours}
    passes_seen = {r: 1 for r in ours}  # template.yaml
    for fixture in fixtures:
        got = found.get(fixture, [])
        expectations = [EXPECT.match(line) for line in fixture.read_text().splitlines()[:12]]
        expectations = [e for e in expectations if e]
        if not expectations:
            record(f"{fixture.name} states what it expects", False, "no '# fails:' or '# passes:' line")
        for e in expectations:
            kind, rule, text = e.groups()
            if kind == "fails":
                hit = [msg for i, msg in got if i == rule and text in msg]
                record(f"{rule} fails {fixture.name}", bool(hit), hit[0] if hit else f"expected a {rule} match containing {text!r}; got {[f'{i} {m}'[:160] for i, m in got if i == rule] or 'none'}")
                fails_seen[rule] = fails_seen.get(rule, 0) + bool(hit)
            else:
                hit = [msg for i, msg in got if i == rule]
                record(f"{rule} passes {fixture.name}", not hit, "" if not hit else f"unexpected: {hit[0]}")
                passes_seen[rule] = passes_seen.get(rule, 0) + (not hit)
    for rule in ours:
        record(
            f"{rule} has a passing and a failing template",
            fails_seen.get(rule, 0) > 0 and passes_seen.get(rule, 0) > 0,
            f"{passes_seen.get(rule, 0)} passing, {fails_seen.get(rule, 0)} failing",
        )
    print(f"rules: {passed} passed, {len(failed)} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
