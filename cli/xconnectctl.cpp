// xconnectctl: the command-line client of org.xconnect (docs/dbus-api.md),
// on sdbus-c++ proxies generated from dbus/*.xml. Like networkctl: a table by
// default, details with `status`, changes authorised by polkit, and --json.
#include <unistd.h>

#include <sdbus-c++/sdbus-c++.h>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <iomanip>
#include <iostream>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <sstream>
#include <thread>

#include "contract/bus.hpp"
#include "contract/errors.hpp"
#include "contract/message_access.hpp"
#include "contract/object_path.hpp"
#include "contract/version.hpp"
#include "xconnect_manager_proxy.h"
#include "xconnect_pair_proxy.h"

#include "capture.hpp"
#include "terminal.hpp"

namespace xconnect::ctl {

using json = nlohmann::ordered_json;
using Properties = std::map<std::string, sdbus::Variant>;
using ManagedObjects = std::map<sdbus::ObjectPath, std::map<std::string, Properties>>;

// Names and exit codes (documented in --help) are the contract's (contract/).

struct Options {
    bool json = false;
    bool legend = true;
    bool pager = true;
    bool ask_password = true;
    std::string verb;  // none: the default verb
    std::vector<std::string> args;
};

class UsageError : public std::runtime_error {
  public:
    using std::runtime_error::runtime_error;
};

// ------------------------------------------------------------------ proxies

class ManagerClient final
    : public sdbus::ProxyInterfaces<org::xconnect::Manager_proxy, sdbus::ObjectManager_proxy> {
  public:
    explicit ManagerClient(sdbus::IConnection& connection)
        : ProxyInterfaces(connection, bus_name, manager_path) {
        registerProxy();
    }
    ~ManagerClient() { unregisterProxy(); }

    // What the monitor does with ObjectManager's signals.
    std::function<void(const sdbus::ObjectPath&, const std::map<std::string, Properties>&)>
        on_added;
    std::function<void(const sdbus::ObjectPath&)> on_removed;

    // A call that changes something: polkit may ask the user first.
    sdbus::MethodReply change(const std::string& method, const std::vector<std::string>& args,
                              bool interactive) {
        auto call = getProxy().createMethodCall(manager_interface, method);
        for (const std::string& arg : args) {
            call << arg;
        }
        if (interactive) {
            allow_interactive_authorization(call);
        }
        // A person may take a while at the password prompt.
        return getProxy().callMethod(
            call,
            interactive ? std::chrono::microseconds(interactive_authorization_timeout).count() : 0);
    }

  private:
    void onInterfacesAdded(const sdbus::ObjectPath& path,
                           const std::map<std::string, Properties>& interfaces) override {
        if (on_added) {
            on_added(path, interfaces);
        }
    }
    void onInterfacesRemoved(const sdbus::ObjectPath& path,
                             const std::vector<std::string>&) override {
        if (on_removed) {
            on_removed(path);
        }
    }
};

// ------------------------------------------------------------------ helpers

template <typename T>
T get(const Properties& properties, const std::string& name, T fallback = {}) {
    auto found = properties.find(name);
    return found == properties.end() ? fallback : found->second.get<T>();
}

struct Pair {
    std::string path;
    Properties properties;
    std::string left() const { return get<std::string>(properties, "Left"); }
    std::string right() const { return get<std::string>(properties, "Right"); }
    std::string label() const { return left() + "<->" + right(); }
};

std::vector<Pair> pairs_of(const ManagedObjects& objects) {
    std::vector<Pair> pairs;
    for (const auto& [path, interfaces] : objects) {
        if (auto pair = interfaces.find(pair_interface); pair != interfaces.end()) {
            pairs.push_back({path, pair->second});
        }
    }
    std::sort(pairs.begin(), pairs.end(),
              [](const Pair& a, const Pair& b) { return a.left() < b.left(); });
    return pairs;
}

json counters_json(const Properties& p, const std::string& direction) {
    return {{"packets", get<uint64_t>(p, direction + "Packets")},
            {"bytes", get<uint64_t>(p, direction + "Bytes")},
            {"dropped", get<uint64_t>(p, direction + "Dropped")}};
}

json pair_json(const Pair& pair) {
    const Properties& p = pair.properties;
    return {{"left", pair.left()},
            {"right", pair.right()},
            {"state", get<std::string>(p, "State")},
            {"mode", get<std::string>(p, "Mode")},
            {"left_mode", get<std::string>(p, "LeftMode")},
            {"right_mode", get<std::string>(p, "RightMode")},
            {"mode_reason", get<std::string>(p, "ModeReason")},
            {"error", get<std::string>(p, "Error")},
            {"warning", get<std::string>(p, "Warning")},
            {"drop_reason", get<std::string>(p, "DropReason")},
            {"left_ifindex", get<uint32_t>(p, "LeftIfindex")},
            {"right_ifindex", get<uint32_t>(p, "RightIfindex")},
            {"left_oper_state", get<std::string>(p, "LeftOperState")},
            {"right_oper_state", get<std::string>(p, "RightOperState")},
            {"left_to_right", counters_json(p, "LeftToRight")},
            {"right_to_left", counters_json(p, "RightToLeft")},
            {"path", pair.path}};
}

bool colours() {
    return isatty(STDOUT_FILENO) && getenv("NO_COLOR") == nullptr;
}

std::string coloured_state(const std::string& state, size_t width) {
    std::string padded = state + std::string(width > state.size() ? width - state.size() : 0, ' ');
    if (!colours()) {
        return padded;
    }
    const char* colour = state == "active"   ? "\033[32m"
                         : state == "failed" ? "\033[31m"
                                             : "\033[33m";
    return colour + state + "\033[0m" + padded.substr(state.size());
}

// ------------------------------------------------------------------- verbs

// What every verb works with.
struct Session {
    sdbus::IConnection& connection;
    ManagerClient& manager;
    const Options& options;
};

int list(Session& session) {
    const Options& options = session.options;
    ManagerClient& manager = session.manager;
    const std::vector<Pair> pairs = pairs_of(manager.GetManagedObjects());
    if (options.json) {
        json all = json::array();
        for (const Pair& pair : pairs) {
            all.push_back(pair_json(pair));
        }
        std::cout << json{{"pairs", all}}.dump(2) << "\n";
        return exit_ok;
    }
    Pager pager(options.pager);
    size_t left_width = 4;
    size_t right_width = 5;
    for (const Pair& pair : pairs) {
        left_width = std::max(left_width, pair.left().size());
        right_width = std::max(right_width, pair.right().size());
    }
    auto row = [&](const std::string& left, const std::string& right, const std::string& state,
                   const std::string& mode, const std::string& l2r, const std::string& r2l,
                   const std::string& dropped, bool colour) {
        std::cout << std::left << std::setw(static_cast<int>(left_width)) << left << "  "
                  << std::setw(static_cast<int>(right_width)) << right << "  "
                  << (colour ? coloured_state(state, 7)
                             : (state + std::string(7 - std::min<size_t>(7, state.size()), ' ')))
                  << "  " << std::setw(7) << mode << "  " << std::right << std::setw(14) << l2r
                  << "  " << std::setw(14) << r2l << "  " << std::setw(9) << dropped << "\n";
    };
    if (options.legend) {
        row("LEFT", "RIGHT", "STATE", "MODE", "LEFT->RIGHT", "RIGHT->LEFT", "DROPPED", false);
    }
    for (const Pair& pair : pairs) {
        const Properties& p = pair.properties;
        row(pair.left(), pair.right(), get<std::string>(p, "State"), get<std::string>(p, "Mode"),
            std::to_string(get<uint64_t>(p, "LeftToRightPackets")),
            std::to_string(get<uint64_t>(p, "RightToLeftPackets")),
            std::to_string(get<uint64_t>(p, "LeftToRightDropped") +
                           get<uint64_t>(p, "RightToLeftDropped")),
            true);
    }
    if (options.legend) {
        std::cout << "\n"
                  << pairs.size() << (pairs.size() == 1 ? " pair" : " pairs") << " listed.\n";
    }
    return exit_ok;
}

int status(Session& session) {
    const Options& options = session.options;
    ManagerClient& manager = session.manager;
    // Only the named pairs (each must exist), or all.
    std::vector<std::string> wanted_paths;
    for (const std::string& ifname : options.args) {
        wanted_paths.push_back(manager.GetPair(ifname));
    }
    auto sample = [&] {
        std::vector<Pair> pairs = pairs_of(manager.GetManagedObjects());
        if (!wanted_paths.empty()) {
            std::erase_if(pairs, [&](const Pair& pair) {
                return std::find(wanted_paths.begin(), wanted_paths.end(), pair.path) ==
                       wanted_paths.end();
            });
        }
        return pairs;
    };
    // Rates from two samples a second apart, as ifstat does.
    const auto first = sample();
    const auto started = std::chrono::steady_clock::now();
    std::this_thread::sleep_for(std::chrono::seconds(1));
    const auto second = sample();
    const double seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
    auto rate = [&](const Pair& now, const std::string& counter) {
        for (const Pair& before : first) {
            if (before.path == now.path) {
                return static_cast<double>(get<uint64_t>(now.properties, counter) -
                                           get<uint64_t>(before.properties, counter)) /
                       seconds;
            }
        }
        return 0.0;
    };
    if (options.json) {
        json all = json::array();
        for (const Pair& pair : second) {
            json entry = pair_json(pair);
            entry["rates"] = {{"left_to_right",
                               {{"packets_per_second", rate(pair, "LeftToRightPackets")},
                                {"bytes_per_second", rate(pair, "LeftToRightBytes")}}},
                              {"right_to_left",
                               {{"packets_per_second", rate(pair, "RightToLeftPackets")},
                                {"bytes_per_second", rate(pair, "RightToLeftBytes")}}}};
            all.push_back(entry);
        }
        std::cout << json{{"pairs", all}}.dump(2) << "\n";
        return exit_ok;
    }
    Pager pager(options.pager);
    auto side = [](const std::string& name, uint32_t ifindex, const std::string& oper) {
        return name +
               (ifindex ? " (ifindex " + std::to_string(ifindex) + ", " + oper + ")" : " (absent)");
    };
    for (size_t i = 0; i < second.size(); ++i) {
        const Pair& pair = second[i];
        const Properties& p = pair.properties;
        const std::string left_mode = get<std::string>(p, "LeftMode");
        const std::string right_mode = get<std::string>(p, "RightMode");
        std::string mode = get<std::string>(p, "Mode");
        if (!left_mode.empty() && left_mode != right_mode) {
            mode +=
                " (" + pair.left() + " " + left_mode + ", " + pair.right() + " " + right_mode + ")";
        }
        const std::string mode_reason = get<std::string>(p, "ModeReason");
        const std::string error = get<std::string>(p, "Error");
        const std::string warning = get<std::string>(p, "Warning");
        const std::string drop_reason = get<std::string>(p, "DropReason");
        std::cout << (i ? "\n" : "") << "● " << pair.label() << "\n"
                  << "         Left: "
                  << side(pair.left(), get<uint32_t>(p, "LeftIfindex"),
                          get<std::string>(p, "LeftOperState"))
                  << "\n        Right: "
                  << side(pair.right(), get<uint32_t>(p, "RightIfindex"),
                          get<std::string>(p, "RightOperState"))
                  << "\n        State: " << coloured_state(get<std::string>(p, "State"), 0)
                  << "\n         Mode: " << (mode.empty() ? "-" : mode) << "\n";
        if (!mode_reason.empty()) {
            std::cout << "          Why: " << mode_reason << "\n";
        }
        if (!warning.empty()) {
            std::cout << "      Warning: " << warning << "\n";
        }
        if (!error.empty()) {
            std::cout << "        Error: " << error << "\n";
        }
        if (!drop_reason.empty()) {
            std::cout << "     Dropping: " << drop_reason << "\n";
        }
        std::cout << std::fixed << std::setprecision(0)
                  << "  Left->Right: " << get<uint64_t>(p, "LeftToRightPackets") << " packets, "
                  << get<uint64_t>(p, "LeftToRightBytes") << " bytes, "
                  << get<uint64_t>(p, "LeftToRightDropped") << " dropped; now "
                  << rate(pair, "LeftToRightPackets") << " packets/s, "
                  << rate(pair, "LeftToRightBytes") << " bytes/s\n"
                  << "  Right->Left: " << get<uint64_t>(p, "RightToLeftPackets") << " packets, "
                  << get<uint64_t>(p, "RightToLeftBytes") << " bytes, "
                  << get<uint64_t>(p, "RightToLeftDropped") << " dropped; now "
                  << rate(pair, "RightToLeftPackets") << " packets/s, "
                  << rate(pair, "RightToLeftBytes") << " bytes/s\n"
                  << "       Object: " << pair.path << "\n";
    }
    if (second.empty() && options.legend) {
        std::cout << "No pairs.\n";
    }
    return exit_ok;
}

// A call that changes something, with the verb's arguments: on a terminal,
// unless --no-ask-password, polkit may ask the person there first, through an
// agent that runs for as long as the call.
sdbus::MethodReply change(Session& session, const std::string& method) {
    const bool interactive = session.options.ask_password && isatty(STDIN_FILENO);
    std::optional<PolkitAgent> agent;
    if (interactive) {
        agent.emplace();
    }
    return session.manager.change(method, session.options.args, interactive);
}

int add(Session& session) {
    const Options& options = session.options;
    auto reply = change(session, "AddPair");
    sdbus::ObjectPath path;
    reply >> path;
    if (options.json) {
        std::cout
            << json{{"left", options.args[0]}, {"right", options.args[1]}, {"path", path}}.dump(2)
            << "\n";
    } else {
        std::cout << options.args[0] << "<->" << options.args[1] << ": " << path << "\n";
    }
    return exit_ok;
}

int remove(Session& session) {
    // Which pair it was, for the message; NoSuchPair comes from here.
    const sdbus::ObjectPath path = session.manager.GetPair(session.options.args[0]);
    change(session, "RemovePair");
    if (session.options.json) {
        std::cout << json{{"removed", path}}.dump(2) << "\n";
    } else {
        std::cout << "removed " << path << "\n";
    }
    return exit_ok;
}

int reload(Session& session) {
    change(session, "Reload");
    if (session.options.json) {
        std::cout << json{{"reloaded", session.manager.ConfigFile()}}.dump(2) << "\n";
    }
    return exit_ok;
}

struct Interface {
    std::string name;
    uint32_t ifindex;
    std::string oper_state;
    std::string kind;
};

std::vector<Interface> interfaces_of(ManagerClient& manager) {
    std::vector<Interface> interfaces;
    for (const auto& link : manager.ListInterfaces()) {  // sorted by name
        interfaces.push_back({link.get<0>(), link.get<1>(), link.get<2>(), link.get<3>()});
    }
    return interfaces;
}

// Pair.Capture's stream, to a file, standard output or the terminal
// (cli/capture.hpp). Polkit may ask first, as for a change.
int capture(Session& session) {
    const cli::CaptureRequest request = cli::parse_capture_arguments(session.options.args);
    const sdbus::ObjectPath path = session.manager.GetPair(request.ifname);
    std::map<std::string, sdbus::Variant> options;
    if (request.snaplen) {
        options["snaplen"] = sdbus::Variant(*request.snaplen);
    }
    if (request.count) {
        options["count"] = sdbus::Variant(*request.count);
    }
    if (request.seconds) {
        options["seconds"] = sdbus::Variant(*request.seconds);
    }
    if (!request.filter.empty()) {
        options["filter"] = sdbus::Variant(request.filter);
    }
    const bool interactive = session.options.ask_password && isatty(STDIN_FILENO);
    std::optional<PolkitAgent> agent;
    if (interactive) {
        agent.emplace();
    }
    // Ctrl-C ends the capture through the daemon, which then writes the
    // statistics: the signals are taken by stream_capture's signalfd, and
    // blocked from before the call (after the agent started: it
    // takes Ctrl-C at its prompt), so that one sent while it is answered
    // still ends the capture properly.
    sigset_t stop_signals;
    sigemptyset(&stop_signals);
    sigaddset(&stop_signals, SIGINT);
    sigaddset(&stop_signals, SIGTERM);
    sigprocmask(SIG_BLOCK, &stop_signals, nullptr);
    std::signal(SIGPIPE, SIG_IGN);
    auto pair = sdbus::createProxy(session.connection, bus_name, path);
    auto call = pair->createMethodCall(pair_interface, "Capture");
    call << options;
    if (interactive) {
        allow_interactive_authorization(call);
    }
    auto reply = pair->callMethod(
        call,
        interactive ? std::chrono::microseconds(interactive_authorization_timeout).count() : 0);
    agent.reset();
    sdbus::UnixFd stream;
    reply >> stream;

    try {
        return cli::stream_capture(stream.get(), request, std::cout, std::cerr).complete
                   ? exit_ok
                   : exit_failure;
    } catch (const std::exception& error) {
        std::cerr << "xconnectctl: capture of " << request.ifname << ": " << error.what() << "\n";
        return exit_failure;
    }
}

int interfaces(Session& session) {
    const Options& options = session.options;
    ManagerClient& manager = session.manager;
    std::map<std::string, std::string> pair_of;  // ifname -> "left<->right"
    for (const auto& pair : manager.ListPairs()) {
        const std::string label = pair.get<0>() + "<->" + pair.get<1>();
        pair_of[pair.get<0>()] = label;
        pair_of[pair.get<1>()] = label;
    }
    const std::vector<Interface> links = interfaces_of(manager);
    auto pair_holding = [&](const std::string& name) {
        auto found = pair_of.find(name);
        return found == pair_of.end() ? std::string() : found->second;
    };
    if (options.json) {
        json all = json::array();
        for (const auto& [name, ifindex, oper_state, kind] : links) {
            all.push_back({{"name", name},
                           {"ifindex", ifindex},
                           {"oper_state", oper_state},
                           {"kind", kind},
                           {"pair", pair_holding(name)}});
        }
        std::cout << json{{"interfaces", all}}.dump(2) << "\n";
        return exit_ok;
    }
    Pager pager(options.pager);
    size_t name_width = 4;
    for (const auto& link : links) {
        name_width = std::max(name_width, link.name.size());
    }
    auto row = [&](const std::string& name, const std::string& ifindex, const std::string& oper,
                   const std::string& kind, const std::string& pair) {
        std::cout << std::left << std::setw(static_cast<int>(name_width)) << name << "  "
                  << std::right << std::setw(7) << ifindex << "  " << std::left << std::setw(14)
                  << oper << "  " << std::setw(8) << kind << "  " << pair << "\n";
    };
    if (options.legend) {
        row("NAME", "IFINDEX", "STATE", "KIND", "PAIR");
    }
    for (const auto& [name, ifindex, oper_state, kind] : links) {
        row(name, std::to_string(ifindex), oper_state, kind.empty() ? "-" : kind,
            pair_holding(name));
    }
    if (options.legend) {
        std::cout << "\n"
                  << links.size() << (links.size() == 1 ? " interface" : " interfaces")
                  << " in xconnectd's network namespace.\n";
    }
    return exit_ok;
}

int permissions(Session& session) {
    const std::map<std::string, std::string> permissions = session.manager.GetPermissions();
    if (session.options.json) {
        std::cout << json{{"permissions", permissions}}.dump(2) << "\n";
        return exit_ok;
    }
    if (session.options.legend) {
        std::cout << std::left << std::setw(27) << "ACTION"
                  << "  PERMISSION\n";
    }
    for (const auto& [action, answer] : permissions) {
        std::cout << std::left << std::setw(27) << action << "  " << answer << "\n";
    }
    return exit_ok;
}

int monitor(Session& session) {
    const Options& options = session.options;
    sdbus::IConnection& connection = session.connection;
    ManagerClient& manager = session.manager;
    std::map<std::string, std::string> labels;  // path -> "left<->right"
    auto say = [&](const json& event, const std::string& text) {
        if (options.json) {
            std::cout << event.dump() << std::endl;  // JSON Lines: one document per event
        } else {
            std::cout << text << std::endl;
        }
    };
    // Subscribed before listing, so no change falls in between.
    auto changes = connection.addMatch(
        "type='signal',sender='org.xconnect',interface='org.freedesktop.DBus.Properties',"
        "member='PropertiesChanged',path_namespace='/org/xconnect/pair'",
        [&](sdbus::Message& message) {
            std::string interface;
            Properties changed;
            message >> interface >> changed;
            const std::string path = message.getPath();
            json event{{"event", "changed"}, {"path", path}, {"pair", labels[path]}};
            std::string text = "changed " + labels[path];
            for (const auto& [name, value] : changed) {
                std::string shown;
                if (value.containsValueOfType<std::string>()) {
                    shown = value.get<std::string>();
                    event["properties"][name] = shown;
                } else if (value.containsValueOfType<uint32_t>()) {
                    event["properties"][name] = value.get<uint32_t>();
                    shown = std::to_string(value.get<uint32_t>());
                }
                text += " " + name + "=" + shown;
            }
            say(event, text);
        });
    manager.on_added = [&](const sdbus::ObjectPath& path,
                           const std::map<std::string, Properties>& interfaces) {
        auto pair = interfaces.find(pair_interface);
        if (pair == interfaces.end()) {
            return;
        }
        const Pair added{path, pair->second};
        labels[path] = added.label();
        say({{"event", "added"}, {"pair", pair_json(added)}},
            "added " + added.label() + " " + get<std::string>(added.properties, "State"));
    };
    manager.on_removed = [&](const sdbus::ObjectPath& path) {
        say({{"event", "removed"}, {"path", path}, {"pair", labels[path]}},
            "removed " + labels[path]);
        labels.erase(path);
    };
    for (const Pair& pair : pairs_of(manager.GetManagedObjects())) {
        labels[pair.path] = pair.label();
        say({{"event", "existing"}, {"pair", pair_json(pair)}},
            "existing " + pair.label() + " " + get<std::string>(pair.properties, "State"));
    }
    connection.enterEventLoop();  // until interrupted
    return exit_ok;
}

// ------------------------------------------------------------------- main

// One row per command, as networkctl's verbs[]: the argument counts are
// checked here before the bus is reached, and --help lists the commands
// from here (the man page and the bash completion are checked against it).
struct Verb {
    std::string_view name;
    std::string_view arguments;  // as --help shows them
    size_t min_args;
    size_t max_args;
    std::string_view wrong_count;  // the usage error outside those counts
    bool is_default;               // run when no command is given
    int (*run)(Session&);
    std::string_view help;  // --help's description; lines split by '\n'
};

constexpr size_t any_count = SIZE_MAX;  // list and monitor ignore arguments, as they always did

constexpr Verb verbs[] = {
    {"list", "", 0, any_count, "", true, list,
     "table of pairs (the default): left, right, state, mode,\npackets each way, frames dropped"},
    {"status", "[IFNAME...]", 0, any_count, "", false, status,
     "per pair: interfaces, ifindexes, operational states,\nstate, mode, error, counters and "
     "current rates"},
    {"add", "LEFT RIGHT", 2, 2, "add needs LEFT and RIGHT", false, add,
     "cross-connect two interfaces (they need not exist yet)"},
    {"remove", "IFNAME", 1, 1, "remove needs one IFNAME", false, remove,
     "remove the pair that holds IFNAME"},
    {"reload", "", 0, 0, "reload takes no arguments", false, reload,
     "re-read the config file and apply it"},
    {"interfaces", "", 0, 0, "interfaces takes no arguments", false, interfaces,
     "the interfaces of xconnectd's network namespace: name,\nifindex, state, kind, the pair "
     "holding each"},
    {"permissions", "", 0, 0, "permissions takes no arguments", false, permissions,
     "what polkit allows you: yes, no or auth (after\nauthentication), per action"},
    {"monitor", "", 0, any_count, "", false, monitor,
     "print pairs, then one line per change, until interrupted"},
    {"capture", "IFNAME [-w FILE|-] [-c COUNT] [-s SNAPLEN] [-G SECONDS] [FILTER...]", 1, any_count,
     "capture needs IFNAME", false, capture,
     "capture what crosses the pair holding IFNAME, both\nways: a line per frame, or pcapng "
     "to FILE (-: standard\noutput); ends after COUNT frames, SECONDS, or\nCtrl-C; FILTER: "
     "pcap-filter(7)"},
};

// The verb to run, or why none.
const Verb& verb_of(const Options& options) {
    for (const Verb& verb : verbs) {
        if (options.verb.empty() ? verb.is_default : verb.name == options.verb) {
            if (options.args.size() < verb.min_args || options.args.size() > verb.max_args) {
                throw UsageError(std::string(verb.wrong_count));
            }
            return verb;
        }
    }
    throw UsageError("unknown command " + options.verb);
}

std::string usage() {
    std::ostringstream text;
    text << "Usage: xconnectctl [OPTIONS] [COMMAND] [ARGS...]\n"
            "Shows and changes the interface pairs xconnectd cross-connects (D-Bus "
            "org.xconnect).\n"
            "\n"
            "Commands:\n";
    for (const Verb& verb : verbs) {
        std::string synopsis(verb.name);
        if (!verb.arguments.empty()) {
            synopsis += " ";
            synopsis += verb.arguments;
        }
        std::istringstream lines{std::string(verb.help)};
        if (synopsis.size() >= 22) {  // a line of its own, the help below it
            text << "  " << synopsis << "\n";
            synopsis.clear();
        }
        for (std::string line; std::getline(lines, line); synopsis.clear()) {
            text << "  " << std::left << std::setw(22) << synopsis << line << "\n";
        }
    }
    text << "\n"
            "Options:\n"
            "      --json            JSON output: one document per command (JSON Lines for\n"
            "                        monitor); keys are described in the README\n"
            "      --no-legend       no column headers and count line\n"
            "      --no-pager        do not pipe long output into a pager\n"
            "      --no-ask-password never ask for a password (polkit interactive\n"
            "                        authorization); asked only on a terminal anyway\n"
            "  -h, --help            this help; COMMAND --help too\n"
            "      --version         version\n"
            "\n"
            "Exit status:\n"
            "  0 success; 1 other failure (e.g. a bad config file on reload);\n"
            "  2 invalid argument (bad interface name, interface in use, usage);\n"
            "  3 no such pair; 4 not authorised; 5 the daemon is not reachable.\n"
            "\n"
            "Unprivileged users need polkit's org.xconnect.manage-pairs (add, remove),\n"
            "org.xconnect.reload (reload) or org.xconnect.capture (capture); reading is\n"
            "open to everyone.\n";
    return text.str();
}

Options parse(int argc, char** argv) {
    Options options;
    bool verb_seen = false;
    for (int i = 1; i < argc; ++i) {
        const std::string arg = argv[i];
        if (options.verb == "capture") {
            options.args.push_back(arg);  // tcpdump's options, and a filter: capture's own
        } else if (arg == "--json") {
            options.json = true;
        } else if (arg == "--no-legend") {
            options.legend = false;
        } else if (arg == "--no-pager") {
            options.pager = false;
        } else if (arg == "--no-ask-password") {
            options.ask_password = false;
        } else if (arg == "-h" || arg == "--help") {
            options.verb = "help";
            return options;
        } else if (arg == "--version") {
            options.verb = "version";
            return options;
        } else if (arg.starts_with("-") && arg != "-") {
            throw UsageError("unknown option " + arg);
        } else if (!verb_seen) {
            options.verb = arg;
            verb_seen = true;
        } else {
            options.args.push_back(arg);
        }
    }
    return options;
}

int fail(int code, const std::string& message) {
    std::cerr << "xconnectctl: " << message << "\n";
    return code;
}

int exit_code_of(const sdbus::Error& error) {
    return exit_code_of_dbus_error(error.getName());
}

// Waits until org.xconnect has an owner again: D-Bus starts xconnectd if
// it is not running (and waits for it if it is being started). Throws
// sdbus::Error if it cannot be started.
void wait_for_the_daemon(sdbus::IConnection& connection) {
    auto bus = sdbus::createProxy(connection, "org.freedesktop.DBus", "/org/freedesktop/DBus");
    uint32_t started = 0;
    bus->callMethod("StartServiceByName")
        .onInterface("org.freedesktop.DBus")
        .withArguments(std::string(bus_name), uint32_t{0})
        .storeResultsTo(started);
}

int run_verb(sdbus::IConnection& connection, const Verb& verb, const Options& options) {
    try {
        ManagerClient manager(connection);
        Session session{connection, manager, options};
        return verb.run(session);
    } catch (const sdbus::Error& error) {
        // NoReply from the bus: xconnectd exited before answering (a
        // restart). One that exits cleanly answers what it has carried out,
        // so this call was not; only a daemon killed mid-call may have done
        // it (then AddPair finds its pair, RemovePair says NoSuchPair). The
        // call is made once more, to the new daemon, started by D-Bus if
        // need be.
        if (error.getName() != error_name::no_reply) {
            throw;
        }
    }
    std::cerr
        << "xconnectctl: xconnectd exited before answering (restarted?); asking the new one\n";
    wait_for_the_daemon(connection);
    ManagerClient manager(connection);
    Session session{connection, manager, options};
    return verb.run(session);
}

int run(int argc, char** argv) {
    Options options;
    const Verb* verb = nullptr;
    try {
        options = parse(argc, argv);
        if (options.verb == "help") {
            std::cout << usage();
            return exit_ok;
        }
        if (options.verb == "version") {
            std::cout << "xconnectctl " << version << "\n";
            return exit_ok;
        }
        verb = &verb_of(options);
        if (verb->name == "capture") {
            cli::parse_capture_arguments(options.args);  // its usage errors before the bus
        }
    } catch (const UsageError& error) {
        return fail(exit_invalid_argument, std::string(error.what()) + " (see --help)");
    } catch (const cli::CaptureUsageError& error) {
        return fail(exit_invalid_argument, std::string(error.what()) + " (see --help)");
    }
    std::unique_ptr<sdbus::IConnection> connection;
    try {
        connection = sdbus::createSystemBusConnection();
    } catch (const sdbus::Error& error) {
        return fail(exit_unreachable,
                    "cannot reach the system bus (" + error.getMessage() +
                        "). Start D-Bus (systemctl start dbus), or run the daemon without it: "
                        "xconnectd --no-bus, and edit /etc/xconnect/xconnect.yaml");
    }
    try {
        return run_verb(*connection, *verb, options);
    } catch (const sdbus::Error& error) {
        const int code = exit_code_of(error);
        if (code == exit_unreachable) {
            return fail(code, "xconnectd is not reachable on the system bus (" +
                                  error.getMessage() +
                                  "). Start it: systemctl start xconnectd (or install it so that "
                                  "D-Bus can start it: cmake --install build --prefix /usr)");
        }
        return fail(code, error.getMessage());
    }
}

}  // namespace xconnect::ctl

int main(int argc, char** argv) {
    return xconnect::ctl::run(argc, argv);
}
