#include "engine.hpp"

#include <algorithm>
#include <cerrno>
#include <set>
#include <stdexcept>

#include "common/error.hpp"
#include "common/log.hpp"
#include "plan.hpp"

namespace xconnect {

namespace {

// Someone else's program is attached where we would attach ours.
class ForeignProgram : public std::runtime_error {
  public:
    ForeignProgram(uint32_t on_ifindex, const std::string& message)
        : std::runtime_error(message), ifindex(on_ifindex) {}
    uint32_t ifindex;
};

// Native XDP_REDIRECT into a veth (or tap) drops silently unless its peer runs
// NAPI, which a peer with default settings in another namespace does not:
// generic mode forwards regardless, as the original xdp-xconnect did.
bool needs_generic_mode(const LinkInfo& link) {
    return link.kind == "veth" || link.kind == "tun";
}

PairFields changed_fields(const PairStatus& a, const PairStatus& b) {
    PairFields fields = 0;
    auto compare = [&fields](const auto& before, const auto& after, PairField field) {
        if (before != after) {
            fields |= field;
        }
    };
    compare(a.state, b.state, field_state);
    compare(a.mode, b.mode, field_mode);
    compare(a.error, b.error, field_error);
    compare(a.left_ifindex, b.left_ifindex, field_left_ifindex);
    compare(a.right_ifindex, b.right_ifindex, field_right_ifindex);
    compare(a.left_oper, b.left_oper, field_left_oper);
    compare(a.right_oper, b.right_oper, field_right_oper);
    return fields;
}

}  // namespace

Engine::Engine(Dataplane& dataplane, EngineOptions options)
    : dataplane_(dataplane), options_(options) {
    for (const InheritedPort& port : dataplane_.inherited_ports()) {
        inherited_.emplace(port.ifindex, port);
    }
}

void Engine::add_observer(EngineObserver& observer) {
    observers_.push_back(&observer);
}

void Engine::remove_observer(EngineObserver& observer) {
    std::erase(observers_, &observer);
}

Engine::Record* Engine::find_record(std::string_view ifname) {
    auto found = record_by_interface_.find(ifname);
    return found == record_by_interface_.end() ? nullptr : found->second;
}

void Engine::index_record(Record& record) {
    record_by_interface_[record.status.spec.left] = &record;
    record_by_interface_[record.status.spec.right] = &record;
}

void Engine::unindex_record(const PairSpec& spec) {
    record_by_interface_.erase(spec.left);
    record_by_interface_.erase(spec.right);
}

const Engine::Record* Engine::find_record(std::string_view ifname) const {
    return const_cast<Engine*>(this)->find_record(ifname);
}

ModePolicy Engine::policy_for(const PairSpec& spec) const {
    return spec.mode.value_or(options_.default_mode);
}

void Engine::apply(const std::vector<PairSpec>& pairs) {
    if (auto problems = validate_pairs(pairs); !problems.empty()) {
        throw std::invalid_argument(problems.front().message);
    }
    const Plan plan = plan_changes(desired_, pairs);
    const std::set<std::string> moving(plan.changed_interfaces.begin(),
                                       plan.changed_interfaces.end());

    // Interfaces that move to another pair keep their program and map entry
    // (rewritten below), so they forward without a gap.
    std::map<std::string, Port> spare_ports;
    auto hand_over = [&](const std::string& name, std::optional<Port>& port, Counters& retired) {
        if (!port) {
            return;
        }
        if (moving.contains(name)) {
            Port moved = *port;
            moved.baseline = read_counters(moved.ifindex);
            spare_ports.emplace(name, moved);
            port.reset();
        } else {
            release_port(port, retired);
        }
    };
    for (const PairSpec& spec : plan.removed_pairs) {
        Record* record = find_record(spec.left);
        if (record == nullptr) {
            continue;
        }
        const PairSpec held = record->status.spec;
        hand_over(held.left, record->left_port, record->retired.left_to_right);
        hand_over(held.right, record->right_port, record->retired.right_to_left);
        const PairStatus gone = record->status;
        unindex_record(held);
        records_.erase(held.left);
        notify_removed(gone);
    }

    // A reload is the moment to try failed pairs again, whatever holds them
    // (new pairs are tried below).
    for (auto& [left, record] : records_) {
        if (record.status.state == PairState::failed) {
            record.hold.reset();
            reconcile(record, /*notify=*/true);
        }
    }

    for (const PairSpec& spec : plan.added_pairs) {
        Record record;
        record.status.spec = spec;
        if (auto spare = spare_ports.extract(spec.left)) {
            record.left_port = spare.mapped();
        }
        if (!spec.is_self_pair()) {
            if (auto spare = spare_ports.extract(spec.right)) {
                record.right_port = spare.mapped();
            }
        }
        auto [it, inserted] = records_.emplace(spec.left, std::move(record));
        index_record(it->second);
        reconcile(it->second, /*notify=*/false);
        notify_added(it->second.status);
    }
    for (auto& [name, port] : spare_ports) {
        std::optional<Port> unused = port;
        Counters ignored;
        release_port(unused, ignored);
    }

    // Kept pairs keep the spelling they were created with.
    desired_ = pairs;
    for (PairSpec& spec : desired_) {
        if (const Record* record = find_record(spec.left)) {
            spec = record->status.spec;
        }
    }
    if (!takeover_finished_) {
        finish_takeover();
    }
}

void Engine::finish_takeover() noexcept {
    takeover_finished_ = true;
    // Last: pairs gone from the configuration, and interfaces that vanished
    // while no daemon ran.
    for (const auto& [ifindex, left_behind] : inherited_) {
        const LinkInfo* link = links_.find(ifindex);
        log::info(link ? link->name : "ifindex " + std::to_string(ifindex) + " (gone)",
                  ": no pair uses it now; removing what an earlier xconnectd left for it");
        dataplane_.disconnect(ifindex);
        if (left_behind.current_program) {
            dataplane_.detach(ifindex);
        }
    }
    inherited_.clear();
    dataplane_.release_earlier();
}

void Engine::set_links(const std::vector<LinkInfo>& links) {
    links_.replace_all(links);
    for (auto& [left, record] : records_) {
        reconcile(record, /*notify=*/true);
    }
}

void Engine::link_changed(const LinkInfo& link) {
    if (const std::optional<std::string> old_name = links_.update(link)) {
        reconcile_holders(*old_name, link.name);
    }
}

void Engine::link_removed(uint32_t ifindex) {
    if (const std::optional<std::string> name = links_.remove(ifindex)) {
        reconcile_holders(*name, {});
    }
}

void Engine::reconcile_holders(std::string_view name_a, std::string_view name_b) {
    Record* first = name_a.empty() ? nullptr : find_record(name_a);
    Record* second = name_b.empty() ? nullptr : find_record(name_b);
    if (first != nullptr) {
        reconcile(*first, /*notify=*/true);
    }
    if (second != nullptr && second != first) {
        reconcile(*second, /*notify=*/true);
    }
}

void Engine::reconcile(Record& record, bool notify) {
    const PairStatus before = record.status;
    PairStatus& status = record.status;
    const PairSpec& spec = status.spec;
    const LinkInfo* left = links_.find(spec.left);
    const LinkInfo* right = spec.is_self_pair() ? left : links_.find(spec.right);

    retire_if_stale(record.left_port, left, record.retired.left_to_right);
    retire_if_stale(record.right_port, right, record.retired.right_to_left);

    status.left_ifindex = left ? left->ifindex : 0;
    status.right_ifindex = right ? right->ifindex : 0;
    status.left_oper = left ? std::optional(left->oper_state) : std::nullopt;
    status.right_oper = right ? std::optional(right->oper_state) : std::nullopt;

    std::optional<std::string> problem = interference(record.left_port, left);
    if (!problem) {
        problem = interference(record.right_port, right);
    }
    if (problem) {
        // Someone else took the interface over: say so, and do not fight
        // over it until a reload or the interface is recreated.
        fail(record, *problem, RetryHold{left ? left->ifindex : 0, right ? right->ifindex : 0, {}});
    } else if (left == nullptr || right == nullptr) {
        release_ports(record);
        record.hold.reset();
        status.state = PairState::pending;
        status.mode.reset();
    } else if (!still_held(record, *left, *right)) {
        record.hold.reset();
        bring_up(record, *left, *right);
    }
    if (notify) {
        notify_changed(before, status);
    }
}

void Engine::bring_up(Record& record, const LinkInfo& left, const LinkInfo& right) {
    PairStatus& status = record.status;
    const ModePolicy policy = policy_for(status.spec);
    AttachMode mode = AttachMode::native;
    if (policy == ModePolicy::generic ||
        (policy == ModePolicy::automatic &&
         (needs_generic_mode(left) || needs_generic_mode(right)))) {
        mode = AttachMode::generic;
    }
    // An active pair whose ports still stand needs nothing: it keeps forwarding untouched.
    if (status.state == PairState::active && status.mode && record.left_port &&
        record.left_port->ifindex == left.ifindex &&
        (status.spec.is_self_pair() ||
         (record.right_port && record.right_port->ifindex == right.ifindex))) {
        return;
    }

    std::string note;
    try {
        check_port_capacity(record);
        // Redirect entries before programs: a program that replaces an
        // earlier xconnectd's (an upgrade) forwards from its first frame.
        connect_ports(record, left, right);
        try {
            attach_ports(record, left, right, mode);
        } catch (const SystemError& error) {
            if (policy != ModePolicy::automatic || mode != AttachMode::native ||
                error.error_number() != EOPNOTSUPP) {
                throw;
            }
            // The driver has no native XDP: generic mode works on every device.
            note = std::string(error.what()) + "; using generic mode";
            mode = AttachMode::generic;
            attach_ports(record, left, right, mode);
        }
        status.state = PairState::active;
        status.mode = mode;
        status.error = note;
    } catch (const ForeignProgram& error) {
        // Tried again when the news about that interface's program changes.
        const LinkInfo* link = links_.find(error.ifindex);
        disconnect_portless(record);
        fail(record, error.what(),
             RetryHold{left.ifindex, right.ifindex,
                       std::pair{error.ifindex, link == nullptr ? 0u : link->xdp_program_id}});
    } catch (const SystemError& error) {
        std::string reason = error.what();
        if (error.error_number() == E2BIG) {
            // The kernel's word for a full map; ours is checked first, so
            // entries we do not know of (or a smaller map) filled it.
            reason += " (the XDP program's maps are full: they hold " +
                      std::to_string(dataplane_.port_capacity()) + " interfaces, XC_MAX_PORTS)";
        }
        // Tried again on a reload or when an interface is recreated.
        disconnect_portless(record);
        fail(record, reason, RetryHold{left.ifindex, right.ifindex, {}});
    } catch (const std::exception& error) {
        // Tried again on a reload or when an interface is recreated.
        disconnect_portless(record);
        fail(record, error.what(), RetryHold{left.ifindex, right.ifindex, {}});
    }
}

void Engine::connect_ports(const Record& record, const LinkInfo& left, const LinkInfo& right) {
    connect_port(left, right);
    if (!record.status.spec.is_self_pair()) {
        connect_port(right, left);
    }
}

void Engine::disconnect_portless(const Record& record) noexcept {
    // connect_ports() may have written entries for interfaces that got no
    // port (release_ports() removes the others').
    if (!record.left_port && record.status.left_ifindex != 0) {
        dataplane_.disconnect(record.status.left_ifindex);
    }
    if (!record.status.spec.is_self_pair() && !record.right_port &&
        record.status.right_ifindex != 0) {
        dataplane_.disconnect(record.status.right_ifindex);
    }
}

void Engine::connect_port(const LinkInfo& from, const LinkInfo& to) {
    if (auto left_behind = inherited_.find(from.ifindex);
        left_behind != inherited_.end() && left_behind->second.peer == to.ifindex) {
        return;  // the entry an earlier xconnectd wrote says so already
    }
    try {
        dataplane_.connect(from.ifindex, to.ifindex);
    } catch (const SystemError& error) {
        // The dataplane knows ifindexes only: say which interfaces.
        throw SystemError(from.name + " to " + to.name, error);
    }
}

void Engine::check_port_capacity(const Record& record) const {
    // Ports the record holds already are reused (or replaced one for one).
    const uint32_t needed = (record.left_port ? 0 : 1) +
                            (record.status.spec.is_self_pair() || record.right_port ? 0 : 1);
    const uint32_t capacity = dataplane_.port_capacity();
    if (ports_in_use_ + needed > capacity) {
        throw std::runtime_error("the port map is full: " + std::to_string(capacity) +
                                 " interfaces (XC_MAX_PORTS) are cross-connected already; "
                                 "tried again on a reload");
    }
}

void Engine::fail(Record& record, const std::string& reason, RetryHold hold) noexcept {
    release_ports(record);  // no half-attached pair
    record.hold = hold;
    record.status.state = PairState::failed;
    record.status.mode.reset();
    record.status.error = reason;
}

bool Engine::still_held(const Record& record, const LinkInfo& left, const LinkInfo& right) const {
    if (record.status.state != PairState::failed || !record.hold) {
        return false;
    }
    const RetryHold& hold = *record.hold;
    if (hold.left_ifindex != left.ifindex || hold.right_ifindex != right.ifindex) {
        return false;
    }
    if (!hold.watched_program) {
        return true;
    }
    const auto [ifindex, program_id] = *hold.watched_program;
    const LinkInfo* link = links_.find(ifindex);
    return link != nullptr && link->xdp_program_id == program_id;
}

void Engine::attach_ports(Record& record, const LinkInfo& left, const LinkInfo& right,
                          AttachMode mode) {
    ensure_port(record.left_port, record.retired.left_to_right, left, right, mode);
    if (!record.status.spec.is_self_pair()) {
        ensure_port(record.right_port, record.retired.right_to_left, right, left, mode);
    }
}

void Engine::ensure_port(std::optional<Port>& port, Counters& retired, const LinkInfo& link,
                         const LinkInfo& peer, AttachMode mode) {
    if (port && port->ifindex != link.ifindex) {
        release_port(port, retired);
    }
    if (port) {
        if (port->mode != mode) {
            // Ours in the other mode: attached again, entry and counters kept.
            attach_port(link, mode);
            port->mode = mode;
        }
        return;
    }
    Counters baseline;
    if (auto inherited = inherited_.extract(link.ifindex)) {
        const InheritedPort& left_behind = inherited.mapped();
        // Its counters go on, unless it was cross-connected with another
        // interface that is still here (so the pair changed).
        if (left_behind.peer && *left_behind.peer != peer.ifindex &&
            links_.find(*left_behind.peer) != nullptr) {
            baseline = read_counters(link.ifindex);
        }
        if (left_behind.current_program && left_behind.attached == mode) {
            // Our program in this mode already: it stays as it is.
            port = Port{.ifindex = link.ifindex, .mode = mode, .baseline = baseline};
            ++ports_in_use_;
            note_our_program(link.ifindex);
            return;
        }
    }
    attach_port(link, mode);
    port = Port{.ifindex = link.ifindex, .mode = mode, .baseline = baseline};
    ++ports_in_use_;
    note_our_program(link.ifindex);
}

void Engine::attach_port(const LinkInfo& link, AttachMode mode) {
    try {
        dataplane_.attach(link.ifindex, mode);
    } catch (const SystemError& error) {
        if (error.error_number() == EBUSY) {
            // Someone else's program is in the way: name it.
            std::optional<AttachedProgram> existing;
            try {
                existing = dataplane_.attached_program(link.ifindex);
            } catch (const SystemError& query_error) {
                log::warning(link.name, ": ", query_error.what());
            }
            if (existing && existing->program_id != dataplane_.program_id()) {
                throw ForeignProgram(link.ifindex,
                                     link.name + ": XDP program id " +
                                         std::to_string(existing->program_id) + " (" +
                                         std::string(to_string(existing->mode)) +
                                         ") is already attached by someone else; not replacing it");
            }
        }
        throw SystemError(link.name, error);
    }
}

void Engine::note_our_program(uint32_t ifindex) {
    // What the kernel will announce: a later RTM_NEWLINK says the same, an
    // earlier one still in flight is told apart by asking the kernel.
    links_.set_xdp_program(ifindex, dataplane_.program_id());
}

std::optional<std::string> Engine::interference(const std::optional<Port>& port,
                                                const LinkInfo* link) {
    if (!port || link == nullptr || link->ifindex != port->ifindex ||
        link->xdp_program_id == dataplane_.program_id()) {
        return std::nullopt;
    }
    std::optional<AttachedProgram> actual;
    try {
        actual = dataplane_.attached_program(link->ifindex);
    } catch (const SystemError& error) {
        log::warning(link->name, ": ", error.what());
        return std::nullopt;  // cannot tell: trust our own record
    }
    if (actual && actual->program_id == dataplane_.program_id()) {
        note_our_program(link->ifindex);  // the news was older than our attach
        return std::nullopt;
    }
    if (actual) {
        return link->name + ": our XDP program was replaced by program id " +
               std::to_string(actual->program_id) + " (" + std::string(to_string(actual->mode)) +
               "), attached by someone else; leaving it alone until the configuration is reloaded";
    }
    return link->name +
           ": our XDP program was removed by someone else; not re-attaching it until the "
           "configuration is reloaded";
}

void Engine::release_port(std::optional<Port>& port, Counters& retired) noexcept {
    if (!port) {
        return;
    }
    retired += read_counters(port->ifindex) - port->baseline;
    dataplane_.disconnect(port->ifindex);
    dataplane_.detach(port->ifindex);
    port.reset();
    --ports_in_use_;
}

void Engine::release_ports(Record& record) noexcept {
    release_port(record.left_port, record.retired.left_to_right);
    release_port(record.right_port, record.retired.right_to_left);
}

void Engine::retire_if_stale(std::optional<Port>& port, const LinkInfo* link, Counters& retired) {
    if (port && (link == nullptr || link->ifindex != port->ifindex)) {
        release_port(port, retired);
    }
}

Counters Engine::read_counters(uint32_t ifindex) const noexcept {
    try {
        return dataplane_.counters(ifindex);
    } catch (const std::exception& error) {
        log::warning("ifindex ", ifindex, ": reading counters: ", error.what());
        return {};
    }
}

std::vector<PairStatus> Engine::pairs() const {
    std::vector<PairStatus> result;
    result.reserve(records_.size());
    for (const auto& [left, record] : records_) {
        result.push_back(record.status);
    }
    return result;
}

std::optional<PairStatus> Engine::find_pair(std::string_view ifname) const {
    const Record* record = find_record(ifname);
    return record ? std::optional(record->status) : std::nullopt;
}

std::optional<PairCounters> Engine::counters(std::string_view ifname) const {
    const Record* record = find_record(ifname);
    return record ? std::optional(counters_of(*record)) : std::nullopt;
}

std::vector<PairCountersOf> Engine::all_counters() const {
    std::vector<PairCountersOf> result;
    result.reserve(records_.size());
    for (const auto& [left, record] : records_) {
        result.push_back({record.status.spec, counters_of(record)});
    }
    return result;
}

PairCounters Engine::counters_of(const Record& record) const {
    auto live = [&](const std::optional<Port>& port) {
        return port ? read_counters(port->ifindex) - port->baseline : Counters{};
    };
    PairCounters result = record.retired;
    result.left_to_right += live(record.left_port);
    if (record.status.spec.is_self_pair()) {
        // One interface: what it reflects is both directions at once.
        result.right_to_left = result.left_to_right;
    } else {
        result.right_to_left += live(record.right_port);
    }
    return result;
}

void Engine::shutdown() {
    while (!records_.empty()) {
        auto it = records_.begin();
        release_ports(it->second);
        const PairStatus gone = it->second.status;
        unindex_record(gone.spec);
        records_.erase(it);
        notify_removed(gone);
    }
    desired_.clear();
}

void Engine::notify_added(const PairStatus& status) {
    for (EngineObserver* observer : observers_) {
        observer->pair_added(status);
    }
}

void Engine::notify_removed(const PairStatus& status) {
    for (EngineObserver* observer : observers_) {
        observer->pair_removed(status);
    }
}

void Engine::notify_changed(const PairStatus& before, const PairStatus& after) {
    const PairFields fields = changed_fields(before, after);
    if (fields == 0) {
        return;
    }
    for (EngineObserver* observer : observers_) {
        observer->pair_changed(after, fields);
    }
}

}  // namespace xconnect
