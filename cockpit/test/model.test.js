// The page's pure logic (src/model.js), under Node's own test runner.
import assert from "node:assert/strict";
import test from "node:test";

import {
    CounterHistory, describeError, formatRate, forwardingNote, interpretPermissions, isPermissionError,
    modeText, operText,
} from "../src/model.js";

test("permissions: yes offers everything and says nothing", () => {
    const allowed = interpretPermissions({ "org.xconnect.manage-pairs": "yes", "org.xconnect.reload": "yes" });
    assert.deepEqual(allowed, { canManage: true, canReload: true, note: null });
});

test("permissions: auth and no offer nothing and say why", () => {
    const auth = interpretPermissions({ "org.xconnect.manage-pairs": "auth", "org.xconnect.reload": "auth" });
    assert.equal(auth.canManage, false);
    assert.equal(auth.canReload, false);
    assert.match(auth.note, /administrative access, or membership of a group granted by polkit/);
    assert.match(auth.note, /Turn on administrative access/);
    const no = interpretPermissions({ "org.xconnect.manage-pairs": "no", "org.xconnect.reload": "yes" });
    assert.equal(no.canReload, true);
    assert.doesNotMatch(no.note, /Turn on administrative access/);
    // An action the daemon does not name is not granted.
    assert.equal(interpretPermissions({}).canManage, false);
});

test("errors: the daemon's are said in words, with its message", () => {
    const inUse = describeError({ name: "org.xconnect.Error.InUse", message: "veth0 is in veth0<->veth1" });
    assert.equal(inUse.key, "org.xconnect.Error.InUse");
    assert.match(inUse.title, /already belongs to another cross-connect/);
    assert.deepEqual(inUse.details, ["veth0 is in veth0<->veth1"]);
    const timeout = describeError({ name: null, problem: "timeout", message: "Timed out" });
    assert.equal(timeout.key, "timeout");
    assert.equal(timeout.title, "Timed out");
    assert.equal(isPermissionError({ name: "org.freedesktop.DBus.Error.AccessDenied" }), true);
    assert.equal(isPermissionError({ name: "org.xconnect.Error.InUse" }), false);
});

test("an active pair with a side not up is not forwarding", () => {
    const pair = { State: "active", Left: "veth0", Right: "veth1", LeftOperState: "up", RightOperState: "down" };
    assert.equal(forwardingNote(pair), "not forwarding (veth1 down)");
    assert.equal(forwardingNote({ ...pair, RightOperState: "unknown" }), "");  // many virtual devices
    assert.equal(forwardingNote({ ...pair, State: "pending" }), "");
});

test("mode, operational state and rate texts", () => {
    assert.equal(modeText({ Mode: "" }), "—");
    assert.equal(modeText({ Mode: "generic", LeftMode: "native", RightMode: "generic" }),
                 "generic (native / generic)");
    assert.equal(operText("up", 7), "up (7)");
    assert.equal(operText("", 0), "absent");
    assert.equal(formatRate(null), "—");
    assert.equal(formatRate(952), "952 pps");
});

test("rates come from two replies; a counter going backwards has none", () => {
    const history = new CounterHistory();
    const path = "/org/xconnect/pair/veth0";
    const counters = (l2r, r2l, dropped) => ({
        LeftToRightPackets: l2r, LeftToRightBytes: l2r * 64, LeftToRightDropped: dropped,
        RightToLeftPackets: r2l, RightToLeftBytes: r2l * 64, RightToLeftDropped: 1,
    });
    const first = history.record({ [path]: counters(100, 50, 0) }, 1000);
    assert.equal(first.get(path).l2rPackets, 100);
    assert.equal(first.get(path).l2rRate, null);
    assert.equal(first.get(path).dropped, 1);
    const second = history.record({ [path]: counters(300, 40, 6) }, 3000);
    assert.equal(second.get(path).l2rRate, 100);
    assert.equal(second.get(path).r2lRate, null);
    assert.equal(second.get(path).dropped, 7);
    // A pair gone from the reply is forgotten.
    assert.equal(history.record({}, 5000).size, 0);
});
