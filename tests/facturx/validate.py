#!/usr/bin/env python3
"""Validates Factur-X EN 16931 XML files, failing closed.

Checks each file against the official Factur-X EN 16931 XSD (the `factur-x` package), the
EN 16931 schematron and the French BR-FR (Flux 2) schematron, both compiled XSLT 2.0 that
the package carries, run by Saxon-HE (Debian's `libsaxonhe-java`). Any failed assertion
fails the file.

Exit status: 0 every file is valid; 1 a file is invalid (reasons on stdout); 2 the validator
cannot run (a missing tool is never taken for a valid invoice).

    python3 tests/facturx/validate.py invoice.xml [more.xml…]
"""

import os
import shutil
import subprocess
import sys
import tempfile

SAXON_JARS = [os.environ.get("SAXON_JAR", ""), "/usr/share/java/Saxon-HE.jar"]
SVRL = "{http://purl.oclc.org/dsdl/svrl}"


def cannot(reason):
    print(f"cannot validate: {reason}")
    sys.exit(2)


try:
    import facturx
    from lxml import etree
except ImportError as err:
    cannot(f"{err} (install it with `pip install factur-x`)")

saxon = next((jar for jar in SAXON_JARS if jar and os.path.isfile(jar)), None)
if saxon is None:
    cannot("Saxon-HE is missing (apt-get install libsaxonhe-java, or set SAXON_JAR)")
if shutil.which("java") is None:
    cannot("java is missing (apt-get install default-jre-headless)")

BASE = os.path.join(os.path.dirname(facturx.__file__), "xsd_and_schematron")
SCHEMATRONS = [
    ("EN 16931", os.path.join(BASE, "facturx-en16931", "FACTUR-X_EN16931.xslt")),
    ("BR-FR", os.path.join(BASE, "cii-schematron-fr-ctc", "BR-FR-Flux2-Schematron-CII.xslt")),
]
for name, path in SCHEMATRONS:
    if not os.path.isfile(path):
        cannot(f"the {name} schematron is not in the factur-x package ({path})")


def problems(path):
    found = []
    with open(path, "rb") as handle:
        xml = handle.read()
    try:
        facturx.xml_check_xsd(xml, flavor="factur-x", level="en16931")
    except Exception as err:  # the package raises its own error types
        return [f"XSD: {err}"]
    with tempfile.TemporaryDirectory() as tmp:
        for name, xslt in SCHEMATRONS:
            report = os.path.join(tmp, "report.svrl")
            run = subprocess.run(
                ["java", "-jar", saxon, f"-s:{path}", f"-xsl:{xslt}", f"-o:{report}"],
                capture_output=True,
                text=True,
            )
            if run.returncode != 0 or not os.path.isfile(report):
                cannot(f"Saxon failed on the {name} schematron: {run.stderr.strip()[:2000]}")
            tree = etree.parse(report)
            for failed in tree.iter(f"{SVRL}failed-assert"):
                text = " ".join("".join(failed.itertext()).split())
                found.append(f"{name} {failed.get('id') or ''} {failed.get('flag') or ''} at {failed.get('location')}: {text}")
    return found


def main():
    if len(sys.argv) < 2:
        cannot("no file given")
    invalid = False
    for path in sys.argv[1:]:
        found = problems(path)
        for problem in found:
            print(f"{path}: {problem}")
        invalid = invalid or bool(found)
    sys.exit(1 if invalid else 0)


main()
