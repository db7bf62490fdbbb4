#pragma once

// The engine: desired state (pairs by interface name) against actual state
// (links present, programs attached, map entries), reconciled one pair at a
// time. Front ends feed it desired pairs (config file, D-Bus) and links
// (netlink); it never reads files, sockets or the bus itself.

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "dataplane.hpp"
#include "drop_spell.hpp"
#include "link_table.hpp"
#include "mode_choice.hpp"
#include "model.hpp"
#include "name_hash.hpp"

namespace xconnect {

// Which PairStatus fields a change touched (bit set).
enum PairField : unsigned {
    field_state = 1u << 0,
    field_mode = 1u << 1,
    field_error = 1u << 2,
    field_left_ifindex = 1u << 3,
    field_right_ifindex = 1u << 4,
    field_left_oper = 1u << 5,
    field_right_oper = 1u << 6,
    field_left_mode = 1u << 7,
    field_right_mode = 1u << 8,
    field_mode_reason = 1u << 9,
    field_warning = 1u << 10,
    field_drop_reason = 1u << 11,
};
using PairFields = unsigned;

// Told about every change, after it happened. Called synchronously from the
// engine's methods; observers must not call back into apply()/link_*().
class EngineObserver {
  public:
    virtual ~EngineObserver() = default;
    virtual void pair_added(const PairStatus& pair) = 0;
    virtual void pair_removed(const PairStatus& pair) = 0;
    virtual void pair_changed(const PairStatus& pair, PairFields changed) = 0;
};

struct PairCounters {
    Counters left_to_right;
    Counters right_to_left;
};

struct PairCountersOf {
    PairSpec spec;
    PairCounters counters;
};

struct EngineOptions {
    ModePolicy default_mode = ModePolicy::automatic;
};

class Engine {
  public:
    Engine(Dataplane& dataplane, EngineOptions options);
    Engine(const Engine&) = delete;
    Engine& operator=(const Engine&) = delete;
    ~Engine() = default;  // leaves the kernel as it is: call shutdown() to detach

    void add_observer(EngineObserver& observer);
    void remove_observer(EngineObserver& observer);

    // Makes `pairs` the desired state, touching only pairs that changed, and
    // retries failed pairs. Throws std::invalid_argument (and changes nothing)
    // if validate_pairs() finds a problem.
    //
    // The first apply() also ends the takeover from an earlier xconnectd:
    // what it left for a pair that did not change is kept as it is (no
    // write), changed pairs are rewritten, and what no pair uses any more is
    // released last.
    void apply(const std::vector<PairSpec>& pairs);
    const std::vector<PairSpec>& desired() const { return desired_; }

    // Actual links, from the netlink front end: a full snapshot, or one change.
    void set_links(const std::vector<LinkInfo>& links);
    void link_changed(const LinkInfo& link);
    void link_removed(uint32_t ifindex);

    // What the kernel reports of each device's XDP features (the netlink
    // front end's `netdev` family): every device at once, or one change.
    // Until set_xdp_features(), or where the kernel has no such family, auto
    // mode keeps the rule that needs none (see mode_choice.hpp).
    void set_xdp_features(const std::vector<std::pair<uint32_t, XdpFeatures>>& devices);
    void xdp_features_changed(uint32_t ifindex, XdpFeatures features);
    void xdp_features_removed(uint32_t ifindex);

    // Pairs sorted by left interface name.
    std::vector<PairStatus> pairs() const;
    std::optional<PairStatus> find_pair(std::string_view ifname) const;
    // Frames redirected each way since the pair was created.
    std::optional<PairCounters> counters(std::string_view ifname) const;
    // Every pair's counters, sorted by left interface name.
    std::vector<PairCountersOf> all_counters() const;
    // Every link of the namespace as the netlink front end reported it,
    // sorted by name: what pairs can be made of.
    std::vector<LinkInfo> links() const { return links_.sorted_by_name(); }

    // Reads what the kernel dropped of each pair's frames and updates their
    // DropReason (observers see it change). Returns whether a pair is still
    // in a spell of losing frames: then call again within a second or so,
    // until it returns false (the reasons clear after DropSpell::quiet_after).
    bool review_drops(DropSpell::Clock::time_point now);

    // Detaches every program and forgets every pair (observers see them removed).
    void shutdown();

  private:
    // Our program attached to an interface, with its map entry.
    struct Port {
        uint32_t ifindex = 0;
        AttachMode mode = AttachMode::generic;
        Counters baseline;  // counter values when the port joined this pair
    };
    // A failed pair is tried again on apply() (a reload), when one of its
    // interfaces is recreated (another ifindex) or, for a foreign program in
    // the way, when the news about that interface's XDP program changes.
    struct RetryHold {
        uint32_t left_ifindex = 0;
        uint32_t right_ifindex = 0;
        std::optional<std::pair<uint32_t, uint32_t>> watched_program;  // ifindex, program id
    };
    // Native XDP the driver refused for one interface (an MTU too large, no
    // native XDP): auto mode uses generic there until the interface is
    // recreated or its MTU changes.
    struct NativeRefusal {
        uint32_t ifindex = 0;
        uint32_t mtu = 0;
        std::string reason;
    };
    struct Record {
        PairStatus status;
        std::optional<Port> left_port;
        std::optional<Port> right_port;  // unused for a self-pair
        PairCounters retired;            // from ports that are gone
        // Why a failed pair is not tried again on every link event (our own
        // attach and detach make some): see RetryHold.
        std::optional<RetryHold> hold;
        std::optional<NativeRefusal> left_refusal;
        std::optional<NativeRefusal> right_refusal;
        DropSpell drops;
    };
    struct SideModes;

    void index_record(Record& record);
    void unindex_record(const PairSpec& spec);
    Record* find_record(std::string_view ifname);
    const Record* find_record(std::string_view ifname) const;
    ModePolicy policy_for(const PairSpec& spec) const;

    void reconcile(Record& record, bool notify);
    void finish_takeover() noexcept;
    void reconcile_holders(std::string_view name_a, std::string_view name_b);
    void bring_up(Record& record, const LinkInfo& left, const LinkInfo& right);
    void check_port_capacity(const Record& record) const;
    void connect_ports(const Record& record, const LinkInfo& left, const LinkInfo& right);
    void connect_port(const LinkInfo& from, const LinkInfo& to);
    void disconnect_portless(const Record& record) noexcept;
    void fail(Record& record, const std::string& reason, RetryHold hold) noexcept;
    bool still_held(const Record& record, const LinkInfo& left, const LinkInfo& right) const;
    SideModes choose_modes(const Record& record, const LinkInfo& left, const LinkInfo& right) const;
    std::optional<XdpFeatures> features_of(uint32_t ifindex) const;
    void attach_ports(Record& record, const LinkInfo& left, const LinkInfo& right,
                      SideModes& modes);
    void attach_side(ModePolicy policy, std::optional<Port>& port, Counters& retired,
                     const LinkInfo& link, const LinkInfo& peer, SideMode& choice,
                     std::optional<NativeRefusal>& refusal);
    void reconcile_holder_of(uint32_t ifindex);
    void ensure_port(std::optional<Port>& port, Counters& retired, const LinkInfo& link,
                     const LinkInfo& peer, AttachMode mode);
    void attach_port(const LinkInfo& link, AttachMode mode);
    Counters read_counters(uint32_t ifindex) const noexcept;
    DropsByPort read_drops() const noexcept;
    static std::array<DropCounts, 2> drops_of(const Record& record, const DropsByPort& drops);
    std::array<DropTarget, 2> drop_targets(const Record& record) const;
    PairCounters counters_of(const Record& record) const;
    void note_our_program(uint32_t ifindex);
    std::optional<std::string> interference(const std::optional<Port>& port, const LinkInfo* link);
    void release_port(std::optional<Port>& port, Counters& retired) noexcept;
    void release_ports(Record& record) noexcept;
    void retire_if_stale(std::optional<Port>& port, const LinkInfo* link, Counters& retired);

    void notify_added(const PairStatus& status);
    void notify_removed(const PairStatus& status);
    void notify_changed(const PairStatus& before, const PairStatus& after);

    Dataplane& dataplane_;
    EngineOptions options_;
    std::vector<EngineObserver*> observers_;
    std::vector<PairSpec> desired_;
    std::map<std::string, Record, std::less<>> records_;  // by left name
    // Each interface a pair names -> that pair's record (in records_), so a
    // property read or a link event costs a hash lookup, not a scan, with
    // thousands of pairs. Changed only with records_ (index_record, unindex_record).
    NameMap<Record*> record_by_interface_;
    // Ports (our program and map entry) held by all records: what the port
    // map holds.
    uint32_t ports_in_use_ = 0;
    LinkTable links_;
    // xdp-features by ifindex; nullopt until the front end reports them.
    std::optional<std::unordered_map<uint32_t, XdpFeatures>> xdp_features_;
    // What an earlier xconnectd left, by ifindex, until a pair keeps it or
    // the first apply() releases it.
    std::map<uint32_t, InheritedPort> inherited_;
    bool takeover_finished_ = false;
};

}  // namespace xconnect
