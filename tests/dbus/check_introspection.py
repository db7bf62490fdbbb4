#!/usr/bin/python3
"""Checks introspection XML against the contract, docs/dbus-api.md.

usage: check_introspection.py [--contract FILE] XML...
Each XML file holds org.xconnect.Manager or org.xconnect.Pair, as dbus/*.xml
or as the running daemon returns it. The contract is read from the
document's tables ("### org.xconnect.Manager methods", "... properties",
and the same for org.xconnect.Pair): method names with their in and out
signatures, property names with their type and whether changes are
signalled. Exits 1 and says what differs.
"""
import pathlib
import re
import sys
import xml.etree.ElementTree as ET

EMITS = "org.freedesktop.DBus.Property.EmitsChangedSignal"
DEFAULT_CONTRACT = pathlib.Path(__file__).resolve().parents[2] / "docs" / "dbus-api.md"
SIGNALLED = {"const": "const", "yes": "true", "no": "false"}


def signature(cell):
    """'s left, s right' -> 'ss'; 'a(ssso)' -> 'a(ssso)'; '—' -> ''."""
    cell = cell.strip()
    if cell in ("—", "-", ""):
        return ""
    return "".join(part.split()[0] for part in cell.split(","))


def table_rows(lines, start):
    """The cells of each data row of the table after the heading at `start`."""
    rows = []
    for line in lines[start + 1:]:
        if line.startswith("#"):
            break
        if not line.startswith("|"):
            if rows:
                break
            continue
        cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
        if set("".join(cells)) <= set("-: "):
            continue  # the separator row
        rows.append(cells)
    return rows[1:]  # without the header row


def read_contract(path):
    lines = pathlib.Path(path).read_text(encoding="utf-8").splitlines()
    contract = {}
    for index, line in enumerate(lines):
        heading = re.fullmatch(r"### (org\.xconnect\.\w+) (methods|properties)( \(read-only\))?",
                               line.strip())
        if not heading:
            continue
        interface, kind = heading.group(1), heading.group(2)
        entry = contract.setdefault(interface, {"methods": {}, "properties": {}})
        for cells in table_rows(lines, index):
            if kind == "methods":
                entry["methods"][cells[0]] = (signature(cells[1]), signature(cells[2]))
            else:
                signalled = SIGNALLED[cells[2].split()[0]]
                for name in cells[0].split(","):
                    entry["properties"][name.strip()] = (cells[1], signalled)
    if set(contract) != {"org.xconnect.Manager", "org.xconnect.Pair"}:
        sys.exit(f"{path}: expected the tables of org.xconnect.Manager and org.xconnect.Pair, "
                 f"found {sorted(contract)}")
    return contract


def check(path, contract):
    problems = []
    seen = 0
    for interface in ET.parse(path).getroot().iter("interface"):
        name = interface.get("name")
        if name not in contract:
            continue
        seen += 1
        want = contract[name]
        methods = {}
        for method in interface.iter("method"):
            args = method.findall("arg")
            methods[method.get("name")] = (
                "".join(a.get("type") for a in args if a.get("direction", "in") == "in"),
                "".join(a.get("type") for a in args if a.get("direction") == "out"))
        if methods != want["methods"]:
            problems.append(f"{path}: {name} methods {methods} != contract {want['methods']}")
        properties = {}
        for prop in interface.iter("property"):
            emits = "true"  # the D-Bus default
            for annotation in prop.findall("annotation"):
                if annotation.get("name") == EMITS:
                    emits = annotation.get("value")
            if prop.get("access") != "read":
                problems.append(f"{path}: {name}.{prop.get('name')} is not read-only")
            properties[prop.get("name")] = (prop.get("type"), emits)
        if properties != want["properties"]:
            problems.append(
                f"{path}: {name} properties {properties} != contract {want['properties']}")
    if seen == 0:
        problems.append(f"{path}: no org.xconnect interface in it")
    return problems


def main():
    arguments = sys.argv[1:]
    contract_path = DEFAULT_CONTRACT
    if arguments[:1] == ["--contract"]:
        contract_path, arguments = arguments[1], arguments[2:]
    contract = read_contract(contract_path)
    problems = [p for path in arguments for p in check(path, contract)]
    for problem in problems:
        print(problem)
    print("introspection matches the contract" if not problems else "MISMATCH")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
