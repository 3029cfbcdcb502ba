#!/usr/bin/env python3
"""Validates Factur-X EN 16931 XML files, failing closed.

Checks each file against the official Factur-X EN 16931 XSD (the `factur-x` package), the
EN 16931 schematron and the French BR-FR (Flux 2) schematron, both compiled XSLT 2.0 that
the package carries, run by Saxon-HE (Debian's `libsaxonhe-java`). Any failed assertion
fails the file.

With `--pdf invoice.pdf expected.xml`, checks a Factur-X PDF instead: the embedded
`factur-x.xml` equals `expected.xml` and is valid as above; the XMP declares PDF/A-3 (B) and
the Factur-X EN 16931 properties with their extension schema; the file is an associated
file (/AF) with AFRelationship Data; every font is embedded; an OutputIntent is present.

Exit status: 0 every file is valid; 1 a file is invalid (reasons on stdout); 2 the validator
cannot run (a missing tool is never taken for a valid invoice).

    python3 tests/facturx/validate.py invoice.xml [more.xml…]
    python3 tests/facturx/validate.py --pdf invoice.pdf expected.xml
"""

import os
import re
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


def pdf_problems(pdf_path, expected_path):
    try:
        from pypdf import PdfReader
    except ImportError as err:
        cannot(f"{err} (pypdf comes with factur-x)")
    found = []
    with open(pdf_path, "rb") as handle:
        pdf = handle.read()
    with open(expected_path, "rb") as handle:
        expected = handle.read()
    try:
        filename, xml = facturx.get_xml_from_pdf(pdf, check_xsd=False)
    except Exception as err:
        return [f"no Factur-X XML can be extracted: {err}"]
    if filename != "factur-x.xml":
        found.append(f"the embedded XML is named {filename}, not factur-x.xml")
    if xml != expected:
        found.append("the embedded XML differs from the generated one")
    with tempfile.NamedTemporaryFile(suffix=".xml") as tmp:
        tmp.write(xml)
        tmp.flush()
        found.extend(problems(tmp.name))
    reader = PdfReader(pdf_path)
    root = reader.trailer["/Root"]
    metadata = root.get("/Metadata")
    xmp = metadata.get_object().get_data().decode("utf-8") if metadata else ""
    for needle, what in [
        ("http://www.aiim.org/pdfa/ns/id/", "the PDF/A identification schema"),
        ("urn:factur-x:pdfa:CrossIndustryDocument:invoice:1p0#", "the Factur-X namespace"),
        ("factur-x.xml</fx:DocumentFileName>", "fx:DocumentFileName"),
        ("EN 16931</fx:ConformanceLevel>", "fx:ConformanceLevel EN 16931"),
        ("<pdfaSchema:prefix>fx</pdfaSchema:prefix>", "the Factur-X extension schema"),
    ]:
        if needle not in xmp:
            found.append(f"the XMP lacks {what}")
    part = re.search(r"pdfaid:part(?:>|=\")\s*3", xmp)
    conformance = re.search(r"pdfaid:conformance(?:>|=\")\s*B", xmp)
    if not part or not conformance:
        found.append("the XMP does not declare PDF/A-3B")
    af = [f.get_object() for f in root.get("/AF", [])]
    if not any(f.get("/F") == "factur-x.xml" and f.get("/AFRelationship") == "/Data" for f in af):
        found.append("factur-x.xml is not an associated file (/AF) with /AFRelationship /Data")
    if not root.get("/OutputIntents"):
        found.append("no OutputIntent")
    for number, page in enumerate(reader.pages, start=1):
        fonts = page.get("/Resources", {}).get("/Font", {})
        for name, ref in fonts.items():
            font = ref.get_object()
            descendants = font.get("/DescendantFonts")
            target = descendants[0].get_object() if descendants else font
            descriptor = target.get("/FontDescriptor")
            descriptor = descriptor.get_object() if descriptor else {}
            if not any(k in descriptor for k in ("/FontFile", "/FontFile2", "/FontFile3")):
                found.append(f"page {number}: font {name} is not embedded")
    return found


def main():
    if len(sys.argv) >= 2 and sys.argv[1] == "--pdf":
        if len(sys.argv) != 4:
            cannot("usage: --pdf invoice.pdf expected.xml")
        found = pdf_problems(sys.argv[2], sys.argv[3])
        for problem in found:
            print(f"{sys.argv[2]}: {problem}")
        sys.exit(1 if found else 0)
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
