#pragma once

// The application layer: the one owner of every change of the desired pairs,
// whatever its cause (the file, SIGHUP, D-Bus). A change is validated here,
// persisted to the config file and applied; a reload is loaded, applied,
// logged and reported here. Front ends read state from the engine and change
// it only through here; none of them touches the kernel.

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "contract/errors.hpp"
#include "engine/engine.hpp"
#include "pair_store.hpp"

namespace xconnect {

// How many pairs there are, and in which state: what STATUS=, the log and
// D-Bus say about the whole.
struct StatusSummary {
    size_t pairs = 0;
    size_t active = 0;
    size_t pending = 0;
    size_t failed = 0;

    static StatusSummary of(const std::vector<PairStatus>& pairs);
    // "2 pairs: 1 active, 1 pending, 0 failed"
    std::string text() const;
    bool operator==(const StatusSummary&) const = default;
};

// "1 pair", "3 pairs".
std::string count_pairs(size_t count);

class ControlObserver {
  public:
    virtual ~ControlObserver() = default;
    // After every change applied, a reload's included.
    virtual void status_changed(const StatusSummary& summary) = 0;
};

// A change a front end asks for. Validated before anyone (polkit) is asked,
// and again, by the same function, when it is applied.
struct PairChange {
    enum class Kind { add, remove };
    Kind kind;
    std::string left;   // remove: the interface whose pair goes
    std::string right;  // add only

    static PairChange add(std::string left, std::string right) {
        return {Kind::add, std::move(left), std::move(right)};
    }
    static PairChange remove(std::string ifname) { return {Kind::remove, std::move(ifname), {}}; }
};

enum class ReloadCause { start, file_changed, sighup, dbus };
std::string_view to_string(ReloadCause cause);

class PairControl {
  public:
    PairControl(Engine& engine, PairStore& store) : engine_(engine), store_(store) {}

    const std::filesystem::path& config_file() const { return store_.file(); }

    // At most one; it must outlive this or be unset (nullptr) first.
    void set_observer(ControlObserver* observer) { observer_ = observer; }
    StatusSummary summary() const { return StatusSummary::of(engine_.pairs()); }

    // Against the state of this moment. Throws ContractError invalid_name,
    // in_use or no_such_pair. Returns, for an add, the pair already made of
    // the same two interfaces (then there is nothing to do) or nullopt; for a
    // remove, the pair it would remove.
    std::optional<PairSpec> validate(const PairChange& change) const;
    // The pair that holds `ifname`. Throws ContractError invalid_name or
    // no_such_pair.
    PairSpec pair_holding(const std::string& ifname) const;

    // Validates, persists and applies. Returns the pair added (or already
    // there: idempotent) or removed. Throws ContractError.
    PairSpec apply(const PairChange& change);
    PairSpec add_pair(const std::string& left, const std::string& right) {
        return apply(PairChange::add(left, right));
    }
    PairSpec remove_pair(const std::string& ifname) { return apply(PairChange::remove(ifname)); }

    // Re-reads the config file and applies it warm, logs the outcome and
    // tells the observer. Throws ContractError invalid_config (and changes
    // nothing) for a bad or missing file, failed if the engine refused it.
    void reload(ReloadCause cause);
    // The same for those with nobody to answer: false if nothing changed.
    bool try_reload(ReloadCause cause);
    // The config watcher saw the file change: reloads unless it holds what
    // this wrote last. Logs, never throws.
    void config_file_changed();

  private:
    void persist_and_apply(const std::vector<PairSpec>& pairs);
    void report(const StatusSummary& now);

    Engine& engine_;
    PairStore& store_;
    ControlObserver* observer_ = nullptr;
};

}  // namespace xconnect
