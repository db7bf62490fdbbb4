#!/usr/bin/python3
"""Prints every signal org.xconnect emits, one line each, in the order they
arrive, flushed, for the test that drives it:
  InterfacesAdded PAIR_PATH
  InterfacesRemoved PAIR_PATH
  PropertiesChanged PAIR_PATH NAME=VALUE ... (sorted by name)
It never calls org.xconnect itself: the daemon must flush its queue unasked.
"""
import sys

from gi.repository import Gio, GLib


def on_signal(_bus, _sender, path, _interface, member, parameters):
    values = parameters.unpack()
    if member in ("InterfacesAdded", "InterfacesRemoved"):
        line = f"{member} {values[0]}"
    elif member == "PropertiesChanged":
        line = f"{member} {path} " + " ".join(
            f"{name}={value}" for name, value in sorted(values[1].items()))
    else:
        line = f"{member} {path}"
    print(line, flush=True)


def main():
    bus = Gio.bus_get_sync(Gio.BusType.SYSTEM, None)
    bus.signal_subscribe("org.xconnect", None, None, None, None,
                         Gio.DBusSignalFlags.NONE, on_signal)
    # A round trip to the bus driver: the match rule is in place once it returns.
    bus.call_sync("org.freedesktop.DBus", "/org/freedesktop/DBus", "org.freedesktop.DBus",
                  "GetId", None, None, Gio.DBusCallFlags.NONE, -1, None)
    print("ready", flush=True)
    GLib.MainLoop().run()


if __name__ == "__main__":
    sys.exit(main())
