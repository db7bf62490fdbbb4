#pragma once

// sdbus-c++ 1.2 does not expose the allow-interactive-authorization flag of
// a message; it is on the sd_bus_message it wraps. A pointer to the
// protected member, formed in a derived class, reaches it without copying.

#include <systemd/sd-bus.h>

#include <sdbus-c++/IObject.h>
#include <sdbus-c++/Message.h>

namespace xconnect {

struct MessageAccess : sdbus::Message {
    static sd_bus_message* raw(const sdbus::Message& message) {
        return static_cast<sd_bus_message*>(message.*(&MessageAccess::msg_));
    }
};

// The sd_bus `object` is registered on: sdbus-c++ 1.2 does not hand it out,
// but any message created on the connection knows it.
inline sd_bus* bus_of(sdbus::IObject& object) {
    sdbus::Signal probe =
        object.createSignal("org.freedesktop.DBus.Properties", "PropertiesChanged");
    return sd_bus_message_get_bus(MessageAccess::raw(probe));
}

// Whether the caller of `message` allows interactive authorization.
inline bool allows_interactive_authorization(const sdbus::Message& message) {
    return sd_bus_message_get_allow_interactive_authorization(MessageAccess::raw(message)) > 0;
}

// Lets the callee ask the user (through a polkit agent) before answering.
inline void allow_interactive_authorization(sdbus::Message& message) {
    sd_bus_message_set_allow_interactive_authorization(MessageAccess::raw(message), 1);
}

}  // namespace xconnect
