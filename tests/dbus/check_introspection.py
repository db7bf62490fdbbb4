#!/usr/bin/python3
"""Checks introspection XML against the contract (shared/dbus-api.md).

usage: check_introspection.py FILE...   (each holds org.xconnect.Manager or
org.xconnect.Pair, as dbus/*.xml or as the running daemon returns it)
Exits 1 and says what differs.
"""
import sys
import xml.etree.ElementTree as ET

# The contract, table by table: methods (in, out signatures), properties
# (type, EmitsChangedSignal).
CONTRACT = {
    "org.xconnect.Manager": {
        "methods": {
            "AddPair": ("ss", "o"),
            "RemovePair": ("s", ""),
            "GetPair": ("s", "o"),
            "ListPairs": ("", "a(ssso)"),
            "Reload": ("", ""),
        },
        "properties": {
            "Version": ("s", "const"),
            "ConfigFile": ("s", "const"),
        },
    },
    "org.xconnect.Pair": {
        "methods": {"Remove": ("", "")},
        "properties": {
            "Left": ("s", "const"),
            "Right": ("s", "const"),
            "LeftIfindex": ("u", "true"),
            "RightIfindex": ("u", "true"),
            "State": ("s", "true"),
            "Mode": ("s", "true"),
            "Error": ("s", "true"),
            "LeftOperState": ("s", "true"),
            "RightOperState": ("s", "true"),
            "LeftToRightPackets": ("t", "false"),
            "LeftToRightBytes": ("t", "false"),
            "RightToLeftPackets": ("t", "false"),
            "RightToLeftBytes": ("t", "false"),
        },
    },
}
EMITS = "org.freedesktop.DBus.Property.EmitsChangedSignal"


def check(path):
    problems = []
    seen = 0
    for interface in ET.parse(path).getroot().iter("interface"):
        name = interface.get("name")
        if name not in CONTRACT:
            continue
        seen += 1
        want = CONTRACT[name]
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
    problems = [p for path in sys.argv[1:] for p in check(path)]
    for problem in problems:
        print(problem)
    print("introspection matches the contract" if not problems else "MISMATCH")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
