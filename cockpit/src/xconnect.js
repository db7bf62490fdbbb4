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
let shown = null; // { client, proxies } in the table
let coming = null; // the same, until its first GetManagedObjects is in
let permissionRequests = 0;
let countersInFlight = false;
let lastPollError = null;
const counterHistory = new CounterHistory();

const table = new PairTable(path => shown?.proxies[path]?.data, askRemove);
const banner = new StatusBanner(connect);
const controls = new Controls(table, { onAdd: openAddDialog, onReload: reload });
const addDialog = new AddDialog(addPair);
const removeDialog = new RemoveDialog();

function callManager(method, args, signature) {
    // flags "": no interactive authorisation (cockpit's default), for which the
    // daemon would wait on a polkit agent that Cockpit does not provide; type:
    // no introspection round trip before the first call.
    return Promise.resolve(calls.call(MANAGER_PATH, MANAGER, method, args, { type: signature, flags: "" }));
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
            serviceClosed(detail);
    });
    watchPairs();
}

function ownerChanged(name) {
    const cameBack = owner === null && name !== null;
    owner = name;
    banner.showOwner(name);
    if (!name) {
        banner.show("stopped");
        return;
    }
    banner.show("running");
    if (cameBack)
        watchPairs();
    refreshPermissions();
    pollCounters();
}

// The bridge closes a client with "not-found" when the name never appeared:
// nothing on the bus provides it, or its activation failed.
async function serviceClosed({ problem, message }) {
    controls.allow(null);
    if (problem !== "not-found") {
        banner.show("failed", message || cockpit.message(problem));
        return;
    }
    if (await isActivatable())
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
    try {
        const [answer] = await callManager("GetPermissions", [], "");
        if (request === permissionRequests)
            controls.allow(interpretPermissions(answer));
    } catch (error) {
        reportError(error);
    }
}

// One GetAllCounters for all pairs. It also activates the daemon again after
// it stopped, which brings the view back.
async function pollCounters() {
    const reachable = banner.state === "running" || banner.state === "stopped";
    if (cockpit.hidden || countersInFlight || !reachable)
        return;
    countersInFlight = true;
    try {
        const [entries] = await callManager("GetAllCounters", [], "");
        table.showCounters(counterHistory.record(entries, performance.now()));
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
    addDialog.open();
    try {
        const [interfaces] = await callManager("ListInterfaces", [], "");
        addDialog.offer(interfaces);
    } catch (error) {
        reportError(error);
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
