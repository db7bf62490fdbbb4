#include "long_name_filter.hpp"

#include <systemd/sd-bus.h>

#include <sdbus-c++/IObject.h>
#include <cstring>
#include <string>

#include "common/error.hpp"
#include "common/quote.hpp"
#include "contract/message_access.hpp"

namespace xconnect {

namespace {

constexpr size_t max_name_length = 255;  // the D-Bus specification's, for every name
constexpr const char* properties_interface = "org.freedesktop.DBus.Properties";

// Reads the call's leading string arguments (at most two) and rewinds.
int refuse_long_names(sd_bus_message* message, void*, sd_bus_error* error) {
    if (sd_bus_message_is_method_call(message, properties_interface, nullptr) <= 0) {
        return 0;
    }
    const char* member = sd_bus_message_get_member(message);
    const int strings = std::strcmp(member, "GetAll") == 0 ? 1 : 2;  // Get, Set: two
    int refusal = 0;
    for (int index = 0; index < strings && refusal == 0; ++index) {
        const char* name = nullptr;
        if (sd_bus_message_read_basic(message, 's', &name) <= 0) {
            break;  // not the signature sd-bus expects: its own error follows
        }
        if (std::strlen(name) > max_name_length) {
            const bool interface = index == 0;
            sd_bus_error_set(
                error, interface ? SD_BUS_ERROR_UNKNOWN_INTERFACE : SD_BUS_ERROR_UNKNOWN_PROPERTY,
                ((interface ? "unknown interface " : "unknown property ") + quote(name) +
                 ": longer than the 255 bytes D-Bus allows a name")
                    .c_str());
            refusal = -EINVAL;
        }
    }
    sd_bus_message_rewind(message, true);
    return refusal;  // < 0 with the error set: sd-bus sends it and stops there
}

}  // namespace

void LongNameFilter::SlotUnref::operator()(sd_bus_slot* slot) const noexcept {
    sd_bus_slot_unref(slot);
}

LongNameFilter::LongNameFilter(sdbus::IObject& object) {
    sd_bus* bus = bus_of(object);
    sd_bus_slot* slot = nullptr;
    if (int rc = sd_bus_add_filter(bus, &slot, refuse_long_names, nullptr); rc < 0) {
        throw SystemError("install the D-Bus long name filter", "sd_bus_add_filter", -rc);
    }
    slot_.reset(slot);
}

}  // namespace xconnect
