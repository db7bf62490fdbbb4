#include "pair_control.hpp"

#include <algorithm>

#include "common/log.hpp"

namespace xconnect {

std::string count_pairs(size_t count) {
    return std::to_string(count) + (count == 1 ? " pair" : " pairs");
}

StatusSummary StatusSummary::of(const std::vector<PairStatus>& pairs) {
    StatusSummary summary;
    summary.pairs = pairs.size();
    for (const PairStatus& pair : pairs) {
        (pair.state == PairState::active    ? summary.active
         : pair.state == PairState::pending ? summary.pending
                                            : summary.failed)++;
    }
    return summary;
}

namespace {

void refuse_invalid_name(const std::string& ifname) {
    if (auto reason = invalid_interface_name_reason(ifname)) {
        throw ContractError(ErrorKind::invalid_name, *reason);
    }
}

}  // namespace

std::string StatusSummary::text() const {
    return count_pairs(pairs) + ": " + std::to_string(active) + " active, " +
           std::to_string(pending) + " pending, " + std::to_string(failed) + " failed";
}

std::string_view to_string(ReloadCause cause) {
    switch (cause) {
        case ReloadCause::start:
            return "start";
        case ReloadCause::file_changed:
            return "changed";
        case ReloadCause::sighup:
            return "SIGHUP";
        case ReloadCause::dbus:
            return "D-Bus";
    }
    return "?";
}

PairSpec PairControl::pair_holding(const std::string& ifname) const {
    refuse_invalid_name(ifname);
    for (const PairSpec& pair : engine_.desired()) {
        if (pair.holds(ifname)) {
            return pair;
        }
    }
    throw ContractError(ErrorKind::no_such_pair, "no pair holds interface " + ifname);
}

std::optional<PairSpec> PairControl::validate(const PairChange& change) const {
    if (change.kind == PairChange::Kind::remove) {
        return pair_holding(change.left);
    }
    const std::string& left = change.left;
    const std::string& right = change.right;
    refuse_invalid_name(left);
    refuse_invalid_name(right);
    for (const PairSpec& pair : engine_.desired()) {
        const bool same_ends = (pair.left == left && pair.right == right) ||
                               (pair.left == right && pair.right == left);
        if (same_ends) {
            return pair;
        }
        for (const std::string* name : {&left, &right}) {
            if (pair.holds(*name)) {
                throw ContractError(ErrorKind::in_use,
                                    "interface " + *name + " is already in pair " + pair.label());
            }
        }
    }
    return std::nullopt;
}

PairSpec PairControl::apply(const PairChange& change) {
    const std::optional<PairSpec> found = validate(change);
    std::vector<PairSpec> pairs = engine_.desired();
    if (change.kind == PairChange::Kind::remove) {
        std::erase(pairs, *found);
        persist_and_apply(pairs);
        return *found;
    }
    if (found) {
        return *found;
    }
    pairs.push_back(PairSpec{change.left, change.right, std::nullopt});
    persist_and_apply(pairs);
    return pairs.back();
}

void PairControl::reload(ReloadCause cause) {
    const std::string file = store_.file().string();
    const size_t running = engine_.desired().size();
    std::vector<PairSpec> pairs;
    try {
        pairs = store_.load();
    } catch (const StoreMissing& missing) {
        log::warning(missing.what(), "; keeping the running ", count_pairs(running));
        throw ContractError(ErrorKind::invalid_config,
                            std::string(missing.what()) + "; nothing was changed");
    } catch (const std::exception& error) {
        log::error(error.what(), "; keeping the last good configuration (", count_pairs(running),
                   ")");
        throw ContractError(ErrorKind::invalid_config,
                            std::string(error.what()) + "; nothing was changed");
    }
    try {
        engine_.apply(pairs);
    } catch (const std::exception& error) {
        log::error("applying ", file, ": ", error.what());
        throw ContractError(ErrorKind::failed, "applying " + file + ": " + error.what());
    }
    const StatusSummary now = summary();
    log::info("config ", file, " applied (", to_string(cause), "): ", now.text());
    report(now);
}

bool PairControl::try_reload(ReloadCause cause) {
    try {
        reload(cause);
        return true;
    } catch (const ContractError&) {
        return false;  // logged by reload(); nobody to answer
    }
}

void PairControl::config_file_changed() {
    if (store_.holds_own_write()) {
        log::debug("config ", store_.file().string(), ": our own write");
        return;
    }
    try_reload(ReloadCause::file_changed);
}

void PairControl::persist_and_apply(const std::vector<PairSpec>& pairs) {
    // Applied first, so frames flow while the file is fsync'ed; a change that
    // cannot be persisted is taken back, so it is not made at all.
    const std::vector<PairSpec> before = engine_.desired();
    engine_.apply(pairs);
    try {
        store_.save(pairs);
    } catch (const std::exception& error) {
        engine_.apply(before);
        throw ContractError(ErrorKind::failed, error.what());
    }
    report(summary());
}

void PairControl::report(const StatusSummary& now) {
    if (observer_) {
        observer_->status_changed(now);
    }
}

}  // namespace xconnect
