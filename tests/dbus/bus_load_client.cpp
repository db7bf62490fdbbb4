// A D-Bus client for the abuse tests, on libsystemd's sd-bus directly (a
// Python client cannot make 10 000 calls a second on two cores).
//
//   bus_load_client load STABLE RACING SECONDS RATE IN_FLIGHT WRITE_PERCENT
//     Calls org.xconnect RATE times a second for SECONDS, keeping at most
//     IN_FLIGHT calls unanswered: reads (ListPairs, GetPair, Properties.Get and
//     GetAll of the pair holding STABLE, Manager's Version) and, for
//     WRITE_PERCENT of the calls, AddPair(RACING, RACING) and RemovePair(RACING)
//     in turn. Every reply is matched to its call by serial, so a reply missing
//     or coming twice is counted, and every error is checked against what the
//     contract allows for that call. Prints one line of key=value.
//
//   bus_load_client flood CALLS RATE
//     Sends CALLS ListPairs calls, RATE a second, never reads a reply, prints
//     "sent CALLS" and how much is unread, and waits for SIGTERM.
#include <signal.h>
#include <sys/ioctl.h>
#include <systemd/sd-bus.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <map>
#include <memory>
#include <set>
#include <stdexcept>
#include <string>
#include <vector>

namespace {

using Clock = std::chrono::steady_clock;

constexpr const char* destination = "org.xconnect";
constexpr const char* manager_path = "/org/xconnect";
constexpr const char* manager_interface = "org.xconnect.Manager";
constexpr const char* properties_interface = "org.freedesktop.DBus.Properties";
constexpr const char* pair_interface = "org.xconnect.Pair";
constexpr const char* no_such_pair = "org.xconnect.Error.NoSuchPair";
constexpr const char* in_use = "org.xconnect.Error.InUse";

struct BusClose {
    void operator()(sd_bus* bus) const { sd_bus_flush_close_unref(bus); }
};
using Bus = std::unique_ptr<sd_bus, BusClose>;
struct MessageUnref {
    void operator()(sd_bus_message* message) const { sd_bus_message_unref(message); }
};
using Message = std::unique_ptr<sd_bus_message, MessageUnref>;
struct SlotUnref {
    void operator()(sd_bus_slot* slot) const { sd_bus_slot_unref(slot); }
};
using Slot = std::unique_ptr<sd_bus_slot, SlotUnref>;

void check(int result, const std::string& what) {
    if (result < 0) {
        throw std::runtime_error(what + ": " + std::strerror(-result));
    }
}

Bus connect() {
    sd_bus* bus = nullptr;
    check(sd_bus_open_system(&bus), "sd_bus_open_system");
    return Bus(bus);
}

enum class Operation {
    list_pairs,
    get_stable,
    get_racing,
    get_state,
    get_all,
    version,
    add,
    remove
};

const char* name_of(Operation operation) {
    switch (operation) {
        case Operation::list_pairs:
            return "ListPairs";
        case Operation::get_stable:
            return "GetPair(stable)";
        case Operation::get_racing:
            return "GetPair(racing)";
        case Operation::get_state:
            return "Get(State)";
        case Operation::get_all:
            return "GetAll(Pair)";
        case Operation::version:
            return "Get(Version)";
        case Operation::add:
            return "AddPair";
        case Operation::remove:
            return "RemovePair";
    }
    return "?";
}

// The errors the contract allows for a call while another client adds and
// removes the racing pair; anything else is unexpected.
bool allowed_error(Operation operation, const std::string& error) {
    switch (operation) {
        case Operation::get_racing:
        case Operation::remove:
            return error == no_such_pair;
        case Operation::add:
            return error == in_use;
        default:
            return false;
    }
}

struct Options {
    std::string stable;  // an interface of a pair nobody changes
    std::string racing;  // added and removed by the writers
    double seconds = 10;
    unsigned rate = 1000;
    unsigned in_flight = 100;
    unsigned write_percent = 0;
};

class LoadClient {
  public:
    LoadClient(const Options& options, const std::string& stable_path)
        : options_(options), stable_path_(stable_path), bus_(connect()) {
        sd_bus_slot* slot = nullptr;
        check(sd_bus_add_filter(bus_.get(), &slot, &LoadClient::on_message, this),
              "sd_bus_add_filter");
        filter_.reset(slot);
        build_schedule();
    }

    void run() {
        const auto start = Clock::now();
        const auto end = start + std::chrono::duration_cast<Clock::duration>(
                                     std::chrono::duration<double>(options_.seconds));
        for (auto now = Clock::now(); now < end; now = Clock::now()) {
            const double elapsed = std::chrono::duration<double>(now - start).count();
            const auto due = static_cast<uint64_t>(elapsed * options_.rate) + 1;
            while (sent_ < due && outstanding_.size() < options_.in_flight) {
                send(schedule_[sent_ % schedule_.size()]);
            }
            process();
            // Until the next call is due, or a reply comes.
            const auto next_due =
                start + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(
                            static_cast<double>(sent_) / options_.rate));
            // With IN_FLIGHT unanswered, only a reply lets the next call go.
            const auto wake =
                outstanding_.size() < options_.in_flight ? std::min(next_due, end) : end;
            const auto wait =
                std::chrono::duration_cast<std::chrono::microseconds>(wake - Clock::now()).count();
            check(sd_bus_wait(bus_.get(), wait > 0 ? static_cast<uint64_t>(wait) : 0),
                  "sd_bus_wait");
        }
        const double sending_seconds = std::chrono::duration<double>(Clock::now() - start).count();
        // Replies still due: wait for them, generously (sanitized daemon, 2 cores).
        const auto give_up = Clock::now() + std::chrono::seconds(60);
        while (!outstanding_.empty() && Clock::now() < give_up) {
            process();
            check(sd_bus_wait(bus_.get(), 100000), "sd_bus_wait");
        }
        process();
        report(sending_seconds);
    }

  private:
    void build_schedule() {
        const Operation reads[] = {Operation::list_pairs, Operation::get_stable,
                                   Operation::get_racing, Operation::get_state,
                                   Operation::get_all,    Operation::version};
        size_t read_index = 0;
        bool add_next = true;
        for (unsigned slot = 0; slot < 100; ++slot) {
            // WRITE_PERCENT writes spread evenly over 100 calls.
            if ((slot + 1) * options_.write_percent / 100 != slot * options_.write_percent / 100) {
                schedule_.push_back(add_next ? Operation::add : Operation::remove);
                add_next = !add_next;
            } else {
                schedule_.push_back(reads[read_index++ % std::size(reads)]);
            }
        }
    }

    Message new_call(const char* path, const char* interface, const char* member) {
        sd_bus_message* message = nullptr;
        check(sd_bus_message_new_method_call(bus_.get(), &message, destination, path, interface,
                                             member),
              std::string("new call ") + member);
        return Message(message);
    }

    void send(Operation operation) {
        Message call;
        switch (operation) {
            case Operation::list_pairs:
                call = new_call(manager_path, manager_interface, "ListPairs");
                break;
            case Operation::get_stable:
                call = new_call(manager_path, manager_interface, "GetPair");
                check(sd_bus_message_append(call.get(), "s", options_.stable.c_str()), "append");
                break;
            case Operation::get_racing:
                call = new_call(manager_path, manager_interface, "GetPair");
                check(sd_bus_message_append(call.get(), "s", options_.racing.c_str()), "append");
                break;
            case Operation::get_state:
                call = new_call(stable_path_.c_str(), properties_interface, "Get");
                check(sd_bus_message_append(call.get(), "ss", pair_interface, "State"), "append");
                break;
            case Operation::get_all:
                call = new_call(stable_path_.c_str(), properties_interface, "GetAll");
                check(sd_bus_message_append(call.get(), "s", pair_interface), "append");
                break;
            case Operation::version:
                call = new_call(manager_path, properties_interface, "Get");
                check(sd_bus_message_append(call.get(), "ss", manager_interface, "Version"),
                      "append");
                break;
            case Operation::add:
                call = new_call(manager_path, manager_interface, "AddPair");
                check(sd_bus_message_append(call.get(), "ss", options_.racing.c_str(),
                                            options_.racing.c_str()),
                      "append");
                break;
            case Operation::remove:
                call = new_call(manager_path, manager_interface, "RemovePair");
                check(sd_bus_message_append(call.get(), "s", options_.racing.c_str()), "append");
                break;
        }
        uint64_t cookie = 0;
        check(sd_bus_send(bus_.get(), call.get(), &cookie), "sd_bus_send");
        outstanding_.emplace(cookie, operation);
        ++sent_;
        ++calls_by_operation_[name_of(operation)];
    }

    void process() {
        for (;;) {
            const int result = sd_bus_process(bus_.get(), nullptr);
            check(result, "sd_bus_process");
            if (result == 0) {
                return;
            }
        }
    }

    static int on_message(sd_bus_message* message, void* self, sd_bus_error*) {
        static_cast<LoadClient*>(self)->received(message);
        return 0;
    }

    void received(sd_bus_message* message) {
        uint8_t type = 0;
        if (sd_bus_message_get_type(message, &type) < 0 ||
            (type != SD_BUS_MESSAGE_METHOD_RETURN && type != SD_BUS_MESSAGE_METHOD_ERROR)) {
            return;
        }
        uint64_t cookie = 0;
        if (sd_bus_message_get_reply_cookie(message, &cookie) < 0) {
            return;
        }
        const auto call = outstanding_.find(cookie);
        if (call == outstanding_.end()) {
            // The bus driver's reply to Hello is sd-bus's own; anything else
            // answers a call twice, or one never made.
            if (answered_.count(cookie) != 0) {
                ++duplicates_;
            } else if (sent_ > 0) {
                ++unknown_replies_;
            }
            return;
        }
        const Operation operation = call->second;
        outstanding_.erase(call);
        answered_.insert(cookie);
        ++replies_;
        if (type == SD_BUS_MESSAGE_METHOD_ERROR) {
            const sd_bus_error* error = sd_bus_message_get_error(message);
            const std::string name = error && error->name ? error->name : "?";
            ++errors_[name];
            if (!allowed_error(operation, name)) {
                ++unexpected_errors_;
                if (first_unexpected_.empty()) {
                    first_unexpected_ =
                        std::string(name_of(operation)) + " -> " + name + ": " +
                        std::string(error && error->message ? error->message : "").substr(0, 200);
                }
            }
        }
    }

    void report(double sending_seconds) const {
        std::string errors;
        for (const auto& [name, count] : errors_) {
            errors += (errors.empty() ? "" : ",") + name + ":" + std::to_string(count);
        }
        std::string calls;
        for (const auto& [name, count] : calls_by_operation_) {
            calls += (calls.empty() ? "" : ",") + name + ":" + std::to_string(count);
        }
        std::printf(
            "calls=%llu replies=%llu lost=%zu duplicates=%llu unknown=%llu unexpected=%llu "
            "seconds=%.2f errors=%s by_call=%s first_unexpected=%s\n",
            static_cast<unsigned long long>(sent_), static_cast<unsigned long long>(replies_),
            outstanding_.size(), static_cast<unsigned long long>(duplicates_),
            static_cast<unsigned long long>(unknown_replies_),
            static_cast<unsigned long long>(unexpected_errors_), sending_seconds,
            errors.empty() ? "none" : errors.c_str(), calls.c_str(),
            first_unexpected_.empty() ? "none" : first_unexpected_.c_str());
        std::fflush(stdout);
    }

    const Options options_;
    const std::string stable_path_;
    Bus bus_;
    Slot filter_;
    std::vector<Operation> schedule_;
    std::map<uint64_t, Operation> outstanding_;  // by serial (cookie)
    std::set<uint64_t> answered_;
    std::map<std::string, uint64_t> calls_by_operation_;
    std::map<std::string, uint64_t> errors_;
    uint64_t sent_ = 0;
    uint64_t replies_ = 0;
    uint64_t duplicates_ = 0;
    uint64_t unknown_replies_ = 0;
    uint64_t unexpected_errors_ = 0;
    std::string first_unexpected_;
};

// The path of the pair holding `ifname`, asked once before the load starts.
std::string pair_path(const std::string& ifname) {
    Bus bus = connect();
    sd_bus_error error = SD_BUS_ERROR_NULL;
    sd_bus_message* reply = nullptr;
    const int result = sd_bus_call_method(bus.get(), destination, manager_path, manager_interface,
                                          "GetPair", &error, &reply, "s", ifname.c_str());
    const std::string failure = result < 0 && error.message ? error.message : "";
    sd_bus_error_free(&error);
    Message owned(reply);
    check(result, "GetPair " + ifname + (failure.empty() ? "" : " (" + failure + ")"));
    const char* path = nullptr;
    check(sd_bus_message_read(reply, "o", &path), "read GetPair's reply");
    return path;
}

// Calls RATE times a second and never reads a reply: they pile up in the
// socket and in dbus-daemon, not in xconnectd.
void flood(uint64_t calls, unsigned rate) {
    Bus bus = connect();
    const auto start = Clock::now();
    for (uint64_t sent = 0; sent < calls; ++sent) {
        sd_bus_message* call = nullptr;
        check(sd_bus_message_new_method_call(bus.get(), &call, destination, manager_path,
                                             manager_interface, "ListPairs"),
              "new call ListPairs");
        Message owned(call);
        uint64_t cookie = 0;  // without it sd-bus marks the call NO_REPLY_EXPECTED
        check(sd_bus_send(bus.get(), call, &cookie), "sd_bus_send");
        if (sent % 100 == 99) {
            check(sd_bus_flush(bus.get()), "sd_bus_flush");  // writes only, reads nothing
            // Paced, so that the calls reach xconnectd rather than meet
            // dbus-daemon's limit of pending replies per connection.
            const auto due =
                start + std::chrono::duration_cast<Clock::duration>(
                            std::chrono::duration<double>(static_cast<double>(sent + 1) / rate));
            while (Clock::now() < due) {
                const auto wait =
                    std::chrono::duration_cast<std::chrono::microseconds>(due - Clock::now());
                usleep(static_cast<useconds_t>(std::max<int64_t>(wait.count(), 0)));
            }
        }
    }
    check(sd_bus_flush(bus.get()), "sd_bus_flush");
    int unread = 0;
    ioctl(sd_bus_get_fd(bus.get()), FIONREAD, &unread);
    std::printf("sent %llu; %d bytes of replies unread in the socket\n",
                static_cast<unsigned long long>(calls), unread);
    std::fflush(stdout);
    for (;;) {
        pause();  // until SIGTERM ends the process
    }
}

int usage() {
    std::fprintf(stderr,
                 "usage: bus_load_client load STABLE RACING SECONDS RATE IN_FLIGHT "
                 "WRITE_PERCENT\n       bus_load_client flood CALLS RATE\n");
    return 2;
}

}  // namespace

int main(int argc, char** argv) {
    try {
        const std::vector<std::string> args(argv + 1, argv + argc);
        if (args.size() == 7 && args[0] == "load") {
            Options options;
            options.stable = args[1];
            options.racing = args[2];
            options.seconds = std::stod(args[3]);
            options.rate = static_cast<unsigned>(std::stoul(args[4]));
            options.in_flight = static_cast<unsigned>(std::stoul(args[5]));
            options.write_percent = static_cast<unsigned>(std::stoul(args[6]));
            if (options.rate == 0 || options.in_flight == 0 || options.write_percent > 100) {
                return usage();
            }
            LoadClient(options, pair_path(options.stable)).run();
            return 0;
        }
        if (args.size() == 3 && args[0] == "flood") {
            flood(std::stoull(args[1]), static_cast<unsigned>(std::stoul(args[2])));
            return 0;
        }
        return usage();
    } catch (const std::exception& error) {
        std::fprintf(stderr, "bus_load_client: %s\n", error.what());
        return 1;
    }
}
