#!/usr/bin/python3
"""What a NetworkManager-style frontend does: watch org.xconnect through
GDBus's ObjectManagerClient and show pairs as they come, change and go.

Prints one line per event, flushed, for the test that drives it:
  existing|added PATH STATE
  changed PATH NAME=VALUE ... (exactly the properties the signal carried)
  removed PATH
"""
import sys

from gi.repository import Gio, GLib

PAIR = "org.xconnect.Pair"


def say(*words):
    print(*words, flush=True)


def state_of(obj):
    pair = obj.get_interface(PAIR)
    if pair is None:
        return None
    state = pair.get_cached_property("State")
    return state.unpack() if state is not None else "?"


def on_added(_manager, obj):
    if obj.get_interface(PAIR) is not None:
        say("added", obj.get_object_path(), state_of(obj))


def on_removed(_manager, obj):
    say("removed", obj.get_object_path())


def on_properties(_manager, obj, interface, changed, _invalidated):
    if interface.get_interface_name() != PAIR:
        return
    values = changed.unpack()
    say("changed", obj.get_object_path(),
        *(f"{name}={values[name]}" for name in sorted(values)))


def main():
    bus = Gio.bus_get_sync(Gio.BusType.SYSTEM, None)
    manager = Gio.DBusObjectManagerClient.new_sync(
        bus, Gio.DBusObjectManagerClientFlags.NONE, "org.xconnect", "/org/xconnect",
        None, None, None)
    manager.connect("object-added", on_added)
    manager.connect("object-removed", on_removed)
    manager.connect("interface-proxy-properties-changed", on_properties)
    for obj in manager.get_objects():
        if obj.get_interface(PAIR) is not None:
            say("existing", obj.get_object_path(), state_of(obj))
    say("ready")
    GLib.MainLoop().run()


if __name__ == "__main__":
    sys.exit(main())
