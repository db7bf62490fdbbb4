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

// What a refused native attach may fall back from in auto mode: the driver
// has no native XDP, or not for this MTU, or not for this program.
bool native_refused(int error_number) {
    return error_number == EOPNOTSUPP || error_number == ERANGE || error_number == EINVAL;
}

std::string joined(const std::string& first, const std::string& second) {
    return first.empty() ? second : second.empty() ? first : first + "; " + second;
}

void clear_modes(PairStatus& status) {
    status.mode.reset();
    status.left_mode.reset();
    status.right_mode.reset();
    status.mode_reason.clear();
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
    compare(a.left_mode, b.left_mode, field_left_mode);
    compare(a.right_mode, b.right_mode, field_right_mode);
    compare(a.mode_reason, b.mode_reason, field_mode_reason);
    compare(a.warning, b.warning, field_warning);
    compare(a.drop_reason, b.drop_reason, field_drop_reason);
    return fields;
}

}  // namespace

struct Engine::SideModes {
    SideMode left;
    SideMode right;  // a self-pair: unused
};

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

void Engine::set_xdp_features(const std::vector<std::pair<uint32_t, XdpFeatures>>& devices) {
    xdp_features_.emplace(devices.begin(), devices.end());
    for (auto& [left, record] : records_) {
        reconcile(record, /*notify=*/true);
    }
}

void Engine::xdp_features_changed(uint32_t ifindex, XdpFeatures features) {
    if (!xdp_features_) {
        xdp_features_.emplace();
    }
    auto [entry, inserted] = xdp_features_->try_emplace(ifindex, features);
    if (!inserted && entry->second == features) {
        return;
    }
    entry->second = features;
    reconcile_holder_of(ifindex);
}

void Engine::xdp_features_removed(uint32_t ifindex) {
    if (xdp_features_ && xdp_features_->erase(ifindex) != 0) {
        reconcile_holder_of(ifindex);
    }
}

void Engine::reconcile_holder_of(uint32_t ifindex) {
    if (const LinkInfo* link = links_.find(ifindex)) {
        const std::string name = link->name;
        reconcile_holders(name, {});
    }
}

std::optional<XdpFeatures> Engine::features_of(uint32_t ifindex) const {
    if (!xdp_features_) {
        return std::nullopt;
    }
    auto found = xdp_features_->find(ifindex);
    return found == xdp_features_->end() ? std::nullopt : std::optional(found->second);
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
        clear_modes(status);
    } else if (!still_held(record, *left, *right)) {
        record.hold.reset();
        bring_up(record, *left, *right);
    }
    // Frames larger than the smaller MTU are dropped by the kernel
    // (xdp_ok_fwd_dev) without a trace: say so while the pair forwards.
    status.warning = status.state == PairState::active && left != nullptr && right != nullptr &&
                             !spec.is_self_pair()
                         ? mtu_mismatch_warning(*left, *right)
                         : std::string();
    if (!record.drops.primed() && (record.left_port || record.right_port)) {
        // What was dropped before (an earlier xconnectd's count) is no news.
        record.drops.update(drops_of(record, read_drops()), drop_targets(record),
                            DropSpell::Clock::now());
    }
    if (notify) {
        notify_changed(before, status);
    }
}

Engine::SideModes Engine::choose_modes(const Record& record, const LinkInfo& left,
                                       const LinkInfo& right) const {
    const ModePolicy policy = policy_for(record.status.spec);
    const DeviceView left_view{left, features_of(left.ifindex)};
    const DeviceView right_view{right, features_of(right.ifindex)};
    auto applies = [](const std::optional<NativeRefusal>& refusal, const LinkInfo& link) {
        return refusal && refusal->ifindex == link.ifindex && refusal->mtu == link.mtu;
    };
    auto side = [&](const DeviceView& ingress, const DeviceView& target,
                    const std::optional<NativeRefusal>& ingress_refusal,
                    const std::optional<NativeRefusal>& target_refusal) {
        SideMode choice = choose_side_mode(policy, ingress, target);
        if (policy != ModePolicy::automatic || choice.mode != AttachMode::native) {
            return choice;
        }
        // A driver that refused native XDP is not asked again until the
        // interface or its MTU changes ...
        if (applies(ingress_refusal, ingress.link)) {
            return SideMode{AttachMode::generic,
                            ingress.link.name + ": generic: " + ingress_refusal->reason};
        }
        // ... and where the kernel does not say what the target accepts, a
        // driver without native XDP is taken to have no ndo_xdp_xmit either.
        if (!target.features && applies(target_refusal, target.link)) {
            return SideMode{AttachMode::generic,
                            ingress.link.name + ": generic: " + target.link.name +
                                " may not take native redirects: " + target_refusal->reason};
        }
        return choice;
    };
    SideModes modes{side(left_view, right_view, record.left_refusal, record.right_refusal), {}};
    if (!record.status.spec.is_self_pair()) {
        modes.right = side(right_view, left_view, record.right_refusal, record.left_refusal);
    }
    return modes;
}

void Engine::bring_up(Record& record, const LinkInfo& left, const LinkInfo& right) {
    PairStatus& status = record.status;
    const bool self_pair = status.spec.is_self_pair();
    SideModes modes = choose_modes(record, left, right);
    auto mode_reason = [&] {
        return self_pair ? modes.left.reason : joined(modes.left.reason, modes.right.reason);
    };
    // An active pair whose ports still stand keeps its entries; in the modes
    // chosen it needs nothing at all: it keeps forwarding untouched.
    const bool ports_stand =
        status.state == PairState::active && status.mode && record.left_port &&
        record.left_port->ifindex == left.ifindex &&
        (self_pair || (record.right_port && record.right_port->ifindex == right.ifindex));
    if (ports_stand && record.left_port->mode == modes.left.mode &&
        (self_pair || record.right_port->mode == modes.right.mode)) {
        status.mode_reason = mode_reason();
        return;
    }

    try {
        if (!ports_stand) {
            check_port_capacity(record);
            // Redirect entries before programs: a program that replaces an
            // earlier xconnectd's (an upgrade) forwards from its first frame.
            connect_ports(record, left, right);
        }
        attach_ports(record, left, right, modes);
        status.state = PairState::active;
        status.left_mode = modes.left.mode;
        status.right_mode = self_pair ? modes.left.mode : modes.right.mode;
        status.mode =
            status.left_mode == AttachMode::native && status.right_mode == AttachMode::native
                ? AttachMode::native
                : AttachMode::generic;
        status.mode_reason = mode_reason();
        // A refusal is also the pair's last attach problem.
        auto refused = [](const std::optional<NativeRefusal>& refusal, const Port& port) {
            return refusal && refusal->ifindex == port.ifindex ? refusal->reason : std::string();
        };
        const std::string problems =
            joined(refused(record.left_refusal, *record.left_port),
                   self_pair ? std::string() : refused(record.right_refusal, *record.right_port));
        status.error = problems.empty() ? problems : problems + "; using generic mode";
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
    clear_modes(record.status);
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
                          SideModes& modes) {
    const ModePolicy policy = policy_for(record.status.spec);
    attach_side(policy, record.left_port, record.retired.left_to_right, left, right, modes.left,
                record.left_refusal);
    if (record.status.spec.is_self_pair()) {
        return;
    }
    const bool right_was_refused = record.right_refusal.has_value();
    attach_side(policy, record.right_port, record.retired.right_to_left, right, left, modes.right,
                record.right_refusal);
    if (!right_was_refused && record.right_refusal) {
        // What the right side's driver refused may change the left side's
        // choice (see choose_modes): attached again if so.
        modes.left = choose_modes(record, left, right).left;
        attach_side(policy, record.left_port, record.retired.left_to_right, left, right, modes.left,
                    record.left_refusal);
    }
}

void Engine::attach_side(ModePolicy policy, std::optional<Port>& port, Counters& retired,
                         const LinkInfo& link, const LinkInfo& peer, SideMode& choice,
                         std::optional<NativeRefusal>& refusal) {
    if (choice.mode == AttachMode::native) {
        refusal.reset();  // native is asked again: the interface or its MTU changed
    }
    try {
        ensure_port(port, retired, link, peer, choice.mode);
    } catch (const SystemError& error) {
        if (policy != ModePolicy::automatic || choice.mode != AttachMode::native ||
            !native_refused(error.error_number())) {
            if (choice.mode == AttachMode::native && native_refused(error.error_number())) {
                // Native was asked for: fail, saying why in words.
                throw SystemError(native_refusal(link, error.error_number()), error);
            }
            throw;
        }
        // Generic mode works on every device: say what the driver refused.
        refusal = NativeRefusal{link.ifindex, link.mtu, native_refusal(link, error.error_number())};
        log::notice(refusal->reason, " (", error.what(), "); using generic mode");
        choice = {AttachMode::generic, link.name + ": generic: " + refusal->reason};
        ensure_port(port, retired, link, peer, choice.mode);
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
            try {
                attach_port(link, mode);
            } catch (const SystemError&) {
                // Native and generic cannot coexist, so the switch removed
                // the program first: put it back as it was.
                attach_port(link, port->mode);
                throw;
            }
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

DropsByPort Engine::read_drops() const noexcept {
    try {
        return dataplane_.drops();
    } catch (const std::exception& error) {
        log::warning("reading drops: ", error.what());
        return {};
    }
}

std::array<DropCounts, 2> Engine::drops_of(const Record& record, const DropsByPort& drops) {
    auto of = [&](const std::optional<Port>& port) {
        auto found = port ? drops.find(port->ifindex) : drops.end();
        return found != drops.end() ? found->second : DropCounts{};
    };
    return {of(record.left_port),
            record.status.spec.is_self_pair() ? DropCounts{} : of(record.right_port)};
}

std::array<DropTarget, 2> Engine::drop_targets(const Record& record) const {
    auto target = [this](uint32_t ifindex, const std::string& name) {
        const LinkInfo* link = ifindex != 0 ? links_.find(ifindex) : nullptr;
        return DropTarget{name, link ? link->kind : std::string(), link ? link->mtu : 0};
    };
    // Left to right goes out of the right side (a self-pair's is its left).
    const PairStatus& status = record.status;
    return {target(status.right_ifindex, status.spec.right),
            target(status.left_ifindex, status.spec.left)};
}

bool Engine::review_drops(DropSpell::Clock::time_point now) {
    bool losing = false;
    const DropsByPort drops = read_drops();
    for (auto& [left, record] : records_) {
        if (record.drops.update(drops_of(record, drops), drop_targets(record), now)) {
            const PairStatus before = record.status;
            record.status.drop_reason = record.drops.reason();
            notify_changed(before, record.status);
        }
        losing = losing || record.drops.losing();
    }
    return losing;
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
