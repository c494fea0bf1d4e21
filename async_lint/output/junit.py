"""JUnit XML (ruff's `junit`): a test suite per checked file with findings, a failed test case per
finding, and one passing case when no file has findings; CI systems show them as test results."""

from __future__ import annotations

import os
from collections import defaultdict
from xml.etree import ElementTree

from . import display_path, location


def render(report, unsafe: bool) -> str:
    suites = ElementTree.Element("testsuites", name="async-lint", tests=str(len(report.diagnostics)), failures=str(len(report.diagnostics)), errors="0")
    by_file = defaultdict(list)
    for diagnostic in report.diagnostics:
        by_file[diagnostic.path].append(diagnostic)
    if not by_file:
        suite = ElementTree.SubElement(suites, "testsuite", name="async-lint", tests="1", failures="0", errors="0")
        ElementTree.SubElement(suite, "testcase", name="No errors found")
    for path, diagnostics in sorted(by_file.items()):
        shown = display_path(path)
        suite = ElementTree.SubElement(
            suites, "testsuite", name=shown, tests=str(len(diagnostics)), failures=str(len(diagnostics)), errors="0"
        )
        source = report.sources.get(path)
        for diagnostic in diagnostics:
            where = location(source, diagnostic.start)
            case = ElementTree.SubElement(
                suite, "testcase", name=f"org.async-lint.{diagnostic.code}", classname=os.path.splitext(shown)[0].replace(os.sep, "."),
                line=str(where["row"]), column=str(where["column"]),
            )
            failure = ElementTree.SubElement(case, "failure", message=diagnostic.message)
            failure.text = f"line {where['row']}, col {where['column']}, {diagnostic.message}"
    ElementTree.indent(suites)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ElementTree.tostring(suites, encoding="unicode")
