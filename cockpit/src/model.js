// What the page shows, worked out from what the daemon says: no DOM, no D-Bus.

const MANAGE_PAIRS = "org.xconnect.manage-pairs";
const RELOAD = "org.xconnect.reload";

const POLKIT_GRANT = "administrative access, or membership of a group granted by polkit";
const TURN_ON_ADMIN = "Turn on administrative access in the top bar.";

// GetPermissions' a{ss} → which actions to offer, and a note saying why one is not.
// An action missing from the answer is one the daemon does not grant.
export function interpretPermissions(answer) {
    const manage = answer[MANAGE_PAIRS] ?? "no";
    const reload = answer[RELOAD] ?? "no";
    const sentences = [];
    if (manage !== "yes")
        sentences.push(`Adding and removing cross-connects requires ${POLKIT_GRANT}.`);
    if (reload !== "yes") {
        sentences.push(manage !== "yes"
            ? "So does reloading the configuration."
            : `Reloading the configuration requires ${POLKIT_GRANT}.`);
    }
    if (manage === "auth" || reload === "auth")
        sentences.push(TURN_ON_ADMIN);
    return {
        canManage: manage === "yes",
        canReload: reload === "yes",
        note: sentences.length ? sentences.join(" ") : null,
    };
}

const ACCESS_DENIED = "org.freedesktop.DBus.Error.AccessDenied";
const INTERACTIVE_AUTH = "org.freedesktop.DBus.Error.InteractiveAuthorizationRequired";

// Keyed on the D-Bus error name; the daemon's own message (which quotes the
// input and says where and why) follows as the detail.
const KNOWN_ERRORS = {
    "org.xconnect.Error.InvalidName": { title: "Not a valid interface name" },
    "org.xconnect.Error.InUse": { title: "The interface already belongs to another cross-connect" },
    "org.xconnect.Error.NoSuchPair": {
        title: "No cross-connect holds this interface",
        hint: "It may have been removed already.",
    },
    "org.xconnect.Error.InvalidConfig": {
        title: "Configuration file not applied",
        hint: "The cross-connects stay as they were.",
    },
    [ACCESS_DENIED]: { title: "Not permitted", hint: `This requires ${POLKIT_GRANT}.` },
    [INTERACTIVE_AUTH]: { title: "Administrative access required", hint: TURN_ON_ADMIN },
    "org.freedesktop.DBus.Error.LimitsExceeded": { title: "xconnectd is busy", hint: "Try again in a moment." },
    "org.freedesktop.DBus.Error.NoReply": { title: "xconnectd restarted before it answered", hint: "Try again." },
};

// A rejected cockpit.dbus call → {key, title, details: [line...]}. key is the
// D-Bus error name, or cockpit's transport problem ("timeout", ...) without one.
export function describeError(error) {
    const key = error.name || error.problem || "unknown";
    const known = KNOWN_ERRORS[error.name];
    if (!known)
        return { key, title: error.message || key, details: error.name ? [error.name] : [] };
    return { key, title: known.title, details: [error.message, known.hint].filter(Boolean) };
}

// The daemon refused for want of authorisation: what GetPermissions said may be stale.
export function isPermissionError(error) {
    return error.name === ACCESS_DENIED || error.name === INTERACTIVE_AUTH;
}

// Operational states in which an interface passes no frames (RFC 2863 names;
// "unknown" is what many virtual devices report while working).
const NOT_PASSING = new Set(["down", "lowerlayerdown", "notpresent", "dormant", "testing"]);

// Why an active pair forwards nothing, e.g. "not forwarding (veth1 down)"; "" when it does.
export function forwardingNote(pair) {
    if (pair.State !== "active")
        return "";
    const stopped = [[pair.Left, pair.LeftOperState], [pair.Right, pair.RightOperState]]
            .filter(([, state]) => NOT_PASSING.has(state))
            .map(([name, state]) => `${name} ${state}`);
    return stopped.length ? `not forwarding (${stopped.join(", ")})` : "";
}

// Mode, plus each side's when the daemon tells them apart (LeftMode/RightMode
// are newer than Mode, so they may be absent).
export function modeText(pair) {
    const mode = pair.Mode || "—";
    if (pair.LeftMode === undefined || pair.RightMode === undefined || pair.LeftMode === pair.RightMode)
        return mode;
    return `${mode} (${pair.LeftMode || "none"} / ${pair.RightMode || "none"})`;
}

// "up (7)"; an interface that does not exist has ifindex 0.
export function operText(operState, ifindex) {
    return ifindex ? `${operState || "unknown"} (${ifindex})` : "absent";
}

const compactNumber = new Intl.NumberFormat("en", { notation: "compact", maximumSignificantDigits: 3 });

export function formatRate(packetsPerSecond) {
    return packetsPerSecond === null ? "—" : `${compactNumber.format(packetsPerSecond)} pps`;
}

function rate(before, after, milliseconds) {
    // A counter that went backwards (the pair was recreated) has no rate.
    return after >= before && milliseconds > 0 ? (after - before) * 1000 / milliseconds : null;
}

// Turns GetAllStatistics replies into packet counts, drops and rates: the rate
// of each direction is the difference to the previous reply over the time
// between them.
export class CounterHistory {
    constructor() {
        this.previous = new Map();
    }

    // statistics: a{oa{st}} (path → counter name → value), as cockpit.dbus
    // gives it; at: performance.now() of the reply. Returns Map(path → counters).
    record(statistics, at) {
        const current = new Map();
        for (const [path, counters] of Object.entries(statistics)) {
            const l2rPackets = counters.LeftToRightPackets ?? 0;
            const r2lPackets = counters.RightToLeftPackets ?? 0;
            const before = this.previous.get(path);
            current.set(path, {
                at,
                l2rPackets,
                r2lPackets,
                dropped: (counters.LeftToRightDropped ?? 0) + (counters.RightToLeftDropped ?? 0),
                l2rRate: before ? rate(before.l2rPackets, l2rPackets, at - before.at) : null,
                r2lRate: before ? rate(before.r2lPackets, r2lPackets, at - before.at) : null,
            });
        }
        this.previous = current;
        return current;
    }
}
