"""Audit the installed dependency set with pip-audit; fail on any known vulnerability.

Skips (exit 0, with the reason) only when the advisory data cannot be reached: the
vulnerability service does not answer, or knows none of the installed packages.
Run by `make test` (target `audit`).
"""

import json
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any


def main() -> int:
    """Run pip-audit on this interpreter's environment and judge its report."""
    with tempfile.TemporaryDirectory() as scratch:
        report = Path(scratch) / "audit.json"
        command = [
            sys.executable,
            "-m",
            "pip_audit",
            "--local",
            "--skip-editable",
            "--progress-spinner=off",
            "--format=json",
            f"--output={report}",
            "--timeout=30",
        ]
        result = subprocess.run(command, capture_output=True, text=True, check=False)  # noqa: S603
        if not report.exists():
            reason = (result.stderr.strip().splitlines() or ["no report"])[-1]
            print(f"pip-audit: skipped, the advisory data could not be reached ({reason})")
            return 0
        dependencies = json.loads(report.read_text())["dependencies"]
    code, lines = verdict(dependencies)
    print("\n".join(lines))
    return code


def verdict(dependencies: list[dict[str, Any]]) -> tuple[int, list[str]]:
    """The exit code and the lines to print for pip-audit's JSON *dependencies*."""
    vulnerable = [d for d in dependencies if d.get("vulns")]
    audited = [d for d in dependencies if "skip_reason" not in d]
    lines = []
    for dependency in vulnerable:
        for vuln in dependency["vulns"]:
            fixed = ", ".join(vuln.get("fix_versions", [])) or "no fix yet"
            lines.append(
                f"{dependency['name']} {dependency['version']}: {vuln['id']} (fixed in {fixed})"
            )
    if vulnerable:
        lines.append(f"pip-audit: {len(vulnerable)} installed packages have known vulnerabilities")
        return 1, lines
    if not audited:
        reason = dependencies[0]["skip_reason"] if dependencies else "nothing installed"
        lines.append(
            "pip-audit: skipped, the advisory data could not be reached for any of the "
            f"{len(dependencies)} installed packages (e.g. {reason})"
        )
        return 0, lines
    unknown = len(dependencies) - len(audited)
    lines.append(
        f"pip-audit: {len(audited)} packages audited, no known vulnerability"
        + (f"; {unknown} unknown to the service" if unknown else "")
    )
    return 0, lines


if __name__ == "__main__":
    sys.exit(main())
