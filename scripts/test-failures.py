#!/usr/bin/env python3
"""Prints every failed test of the .trx files under a directory, with the first lines of its message and stack.

`make test` runs it when `dotnet test` fails, so that the end of a long log (all a CI summary may show) names what failed.
Usage: scripts/test-failures.py DIR
"""
import pathlib
import sys
import xml.etree.ElementTree as ET

NS = "{http://microsoft.com/schemas/VisualStudio/TeamTest/2010}"
LINES = 15


def main(directory: str) -> int:
    failed = 0
    for trx in sorted(pathlib.Path(directory).glob("*.trx")):
        root = ET.parse(trx).getroot()
        for result in root.iter(NS + "UnitTestResult"):
            if result.get("outcome") not in ("Failed", "Error", "Timeout", "Aborted"):
                continue
            failed += 1
            print(f"FAILED {result.get('testName')} ({result.get('outcome')}, {result.get('duration')}) in {trx.name}")
            error = result.find(f"{NS}Output/{NS}ErrorInfo")
            for tag in ("Message", "StackTrace"):
                node = error.find(NS + tag) if error is not None else None
                if node is not None and node.text:
                    for line in node.text.strip().splitlines()[:LINES]:
                        print(f"    {line}")
        summary = root.find(f"{NS}ResultSummary")
        if summary is not None and summary.get("outcome") not in ("Completed", "Passed"):
            counters = summary.find(NS + "Counters")
            print(f"{trx.name}: run outcome {summary.get('outcome')}"
                  + (f" (total {counters.get('total')}, failed {counters.get('failed')}, errors {counters.get('error')})" if counters is not None else ""))
            for message in summary.iter(NS + "Text"):
                if message.text:
                    print(f"    {message.text.strip()[:2000]}")
    print(f"{failed} failed test(s)")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1] if len(sys.argv) > 1 else "artifacts/test-results"))
