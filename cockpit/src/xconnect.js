// The Cross-connects page: xconnectd's pairs, live, over the D-Bus contract
// (docs/dbus-api.md). cockpit.js comes from Cockpit (../base1/cockpit.js).

import "./xconnect.css";
import { CounterHistory, interpretPermissions, isPermissionError } from "./model.js";
import { AddDialog, Controls, PairTable, RemoveDialog, StatusBanner } from "./view.js";

const SERVICE = "org.xconnect";
const MANAGER_PATH = "/org/xconnect";
const MANAGER = "org.xconnect.Manager";
const PAIR = "org.xconnect.Pair";
// superuser "try": the daemon sees root when the user turned on administrative access.
const CLIENT_OPTIONS = { bus: "system", superuser: "try" };
const COUNTER_INTERVAL_MS = 2000;

// Two kinds of client. `calls` lives until a reconnect: method calls and the
// daemon's comings and goings ("owner"). A pairs view is rebuilt for each
// daemon generation, because cockpit's cache keeps the objects of the
// generation it first saw.
let calls = null;
let owner; // undefined until the first "owner" event of `calls`
let viewOwner; // the daemon whose objects the pairs view holds, once known
let shown = null; // { client, proxies } in the table
let coming = null; // the same, until its first GetManagedObjects is in
let permissionRequests = 0;
let permissionsUnknown = false; // the last GetPermissions failed
const OFFER_EVERYTHING = { "org.xconnect.manage-pairs": "yes", "org.xconnect.reload": "yes" };
let countersInFlight = false;
let lastPollError = null;
const counterHistory = new CounterHistory();

const table = new PairTable(path => shown?.proxies[path]?.data, askRemove);
const banner = new StatusBanner(connect);
const controls = new Controls(table, { onAdd: openAddDialog, onReload: reload });
const addDialog = new AddDialog(addPair);
const removeDialog = new RemoveDialog();

// Longer than the daemon's own wait for polkit (25 s without interaction).
const CALL_TIMEOUT_MS = 30000;

function callManager(method, args, signature) {
    // flags "": Cockpit 287's bridge makes a call interactive unless told
    // otherwise, and the daemon would then wait for a polkit agent; type: no
    // introspection round trip before the first call; timeout: a daemon that
    // hangs must not hold the counter poll (one call at a time) for ever.
    return Promise.resolve(calls.call(MANAGER_PATH, MANAGER, method, args,
                                      { type: signature, flags: "", timeout: CALL_TIMEOUT_MS }));
}

function reportError(error) {
    // These mean a client went away: the status banner says why.
    if (error.problem === "disconnected" || error.problem === "not-found")
        return;
    controls.showError(error);
    if (isPermissionError(error))
        refreshPermissions();
}

function connect() {
    const previous = calls;
    calls = null; // so that its close event is not taken for the service's
    previous?.close();
    owner = undefined;
    viewOwner = undefined;
    controls.allow(null);
    banner.show("connecting");
    const client = cockpit.dbus(SERVICE, CLIENT_OPTIONS);
    calls = client;
    client.addEventListener("owner", (event, name) => {
        if (client === calls)
            ownerChanged(name);
    });
    client.addEventListener("close", (event, detail) => {
        if (client === calls)
            serviceClosed(client, detail);
    });
    watchPairs();
}

function ownerChanged(name) {
    // Another daemon than the one the pairs view began with (after a
    // restart, or a replacement without a gap): a new view.
    const another = Boolean(name) && viewOwner !== undefined && name !== viewOwner;
    owner = name;
    if (name)
        viewOwner = name;
    banner.showOwner(name);
    if (!name) {
        banner.show("stopped");
        return;
    }
    banner.show("running");
    if (another)
        watchPairs();
    refreshPermissions();
    pollCounters();
}

// The bridge closes a client with "not-found" when the name never appeared:
// nothing on the bus provides it, or its activation failed.
async function serviceClosed(client, { problem, message }) {
    controls.allow(null);
    if (problem !== "not-found") {
        banner.show("failed", message || cockpit.message(problem));
        return;
    }
    const activatable = await isActivatable();
    if (client !== calls)
        return; // a Retry meanwhile: its own events say how it went
    if (activatable)
        banner.show("failed", "It is installed, but did not start.");
    else
        banner.show("not-installed");
}

async function isActivatable() {
    const bus = cockpit.dbus("org.freedesktop.DBus", { bus: "system" });
    try {
        const [names] = await bus.call("/org/freedesktop/DBus", "org.freedesktop.DBus", "ListActivatableNames",
                                       [], { type: "", flags: "" });
        return names.includes(SERVICE);
    } catch {
        return false;
    } finally {
        bus.close();
    }
}

// Opening a client activates the daemon; the table switches over once the new
// client has all objects, then the previous client is closed.
function watchPairs() {
    coming?.client.close();
    const client = cockpit.dbus(SERVICE, CLIENT_OPTIONS);
    const proxies = client.proxies(PAIR, MANAGER_PATH);
    const view = { client, proxies };
    coming = view;
    const changed = (event, proxy) => {
        if (shown === view)
            table.changed(proxy.path);
    };
    for (const name of ["added", "changed", "removed"])
        proxies.addEventListener(name, changed);
    Promise.resolve(proxies.wait()).then(() => {
        if (coming !== view)
            return;
        const previous = shown;
        shown = view;
        coming = null;
        table.replaceAll(Object.keys(proxies));
        previous?.client.close();
    }, () => {}); // closed: `calls`' own close event says why
}

async function refreshPermissions() {
    const request = ++permissionRequests;
    permissionsUnknown = false;
    try {
        const [answer] = await callManager("GetPermissions", [], "");
        if (request === permissionRequests)
            controls.allow(interpretPermissions(answer));
    } catch (error) {
        if (request !== permissionRequests)
            return;
        if (error.name === "org.freedesktop.DBus.Error.UnknownMethod") {
            // A daemon older than the page: polkit decides when a change is asked for.
            controls.allow(interpretPermissions(OFFER_EVERYTHING));
            return;
        }
        permissionsUnknown = true; // asked again with the next counter read
        reportError(error);
    }
}

// One GetAllStatistics for all pairs. It also activates the daemon again after
// it stopped, which brings the view back.
async function pollCounters() {
    const reachable = banner.state === "running" || banner.state === "stopped";
    if (cockpit.hidden || countersInFlight || !reachable)
        return;
    if (permissionsUnknown && banner.state === "running")
        refreshPermissions();
    countersInFlight = true;
    table.countRequest();
    try {
        const [statistics] = await callManager("GetAllStatistics", [], "");
        table.showCounters(counterHistory.record(statistics, performance.now()));
        lastPollError = null;
    } catch (error) {
        pollFailed(error);
    } finally {
        countersInFlight = false;
    }
}

function pollFailed(error) {
    // The daemon is gone, and the bus cannot start another.
    if (error.name === "org.freedesktop.DBus.Error.ServiceUnknown") {
        controls.allow(null);
        banner.show("not-installed");
        return;
    }
    if (error.name?.startsWith("org.freedesktop.DBus.Error.Spawn.")) {
        controls.allow(null);
        banner.show("failed", error.message);
        return;
    }
    // The daemon exiting under the call: the next poll starts its successor.
    if (error.name === "org.freedesktop.DBus.Error.NoReply")
        return;
    // Said once, not every two seconds.
    const key = error.name || error.problem;
    if (key !== lastPollError)
        reportError(error);
    lastPollError = key;
}

async function openAddDialog() {
    const opening = addDialog.open();
    try {
        const [interfaces] = await callManager("ListInterfaces", [], "");
        addDialog.offer(opening, interfaces);
    } catch (error) {
        addDialog.showError(error); // the modal dialog covers the page's alert
    }
}

async function addPair(left, right) {
    try {
        await callManager("AddPair", [left, right], "ss");
    } catch (error) {
        if (isPermissionError(error))
            refreshPermissions();
        throw error; // for the dialog to show
    }
}

async function askRemove(path) {
    const pair = shown?.proxies[path]?.data;
    if (!pair || !await removeDialog.ask(pair.Left, pair.Right))
        return;
    try {
        await callManager("RemovePair", [pair.Left], "s");
    } catch (error) {
        reportError(error);
    }
}

async function reload() {
    try {
        await callManager("Reload", [], "");
    } catch (error) {
        reportError(error);
    }
}

// superuser "try" is settled when a client opens: when the user turns
// administrative access on or off, reconnect and ask for permissions again.
function followSuperuser() {
    const superuser = cockpit.dbus(null, { bus: "internal" }).proxy("cockpit.Superuser", "/superuser");
    let current;
    superuser.addEventListener("changed", () => {
        const mode = superuser.data.Current;
        if (mode === "init")
            return; // on its way to the next mode
        if (current !== undefined && mode !== current)
            connect();
        current = mode;
    });
}

// The shell's light/dark choice, as Cockpit's own pages follow it.
function followShellStyle() {
    const systemDark = window.matchMedia("(prefers-color-scheme: dark)");
    const apply = style => {
        style = style || localStorage.getItem("shell:style") || "auto";
        const dark = style === "dark" || (style === "auto" && systemDark.matches);
        document.documentElement.classList.toggle("pf-theme-dark", dark);
    };
    window.addEventListener("storage", event => {
        if (event.key === "shell:style")
            apply();
    });
    window.addEventListener("cockpit-style", event => apply(event.detail.style));
    systemDark.addEventListener("change", () => apply());
    apply();
}

followShellStyle();
followSuperuser();
connect();
setInterval(pollCounters, COUNTER_INTERVAL_MS);
cockpit.addEventListener("visibilitychange", pollCounters);
