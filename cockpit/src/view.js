// The page's DOM. Built with createElement and textContent only, so interface
// names and daemon messages never become markup.

import { describeError, forwardingNote, formatRate, modeText, operText } from "./model.js";

const byId = id => document.getElementById(id);

function element(tag, className, text) {
    const node = document.createElement(tag);
    if (className)
        node.className = className;
    if (text !== undefined)
        node.textContent = text;
    return node;
}

// Writing an unchanged value would still cost a DOM mutation per cell.
function setText(node, text) {
    if (node.textContent !== text)
        node.textContent = text;
}

function setNote(node, text) {
    setText(node, text);
    node.hidden = !text;
}

function alertBox(id, variant, { key, title, details = [] }) {
    const box = element("div", `pf-c-alert pf-m-inline ${variant}`);
    box.id = id;
    if (key)
        box.dataset.errorName = key;
    box.append(element("p", "pf-c-alert__title", title));
    if (details.length) {
        const description = element("div", "pf-c-alert__description");
        description.append(...details.map(line => element("p", null, line)));
        box.append(description);
    }
    return box;
}

// [data-col, class], in the order of index.html's headings
const COLUMNS = [
    ["left"],
    ["right"],
    ["state"],
    ["mode"],
    ["left-oper"],
    ["right-oper"],
    ["l2r-packets", "xc-count"],
    ["r2l-packets", "xc-count"],
    ["l2r-rate", "xc-rate"],
    ["r2l-rate", "xc-rate"],
    ["dropped", "xc-count"],
];

const STATE_COLOURS = { active: "pf-m-green", pending: "pf-m-orange", failed: "pf-m-red" };

// veth2 before veth10, as a person would list them.
const byName = new Intl.Collator("en", { numeric: true }).compare;

// Pairs rendered per animation frame at most: 1000 new rows appear over a few
// frames rather than in one that blocks the page.
const PAIRS_PER_FRAME = 250;

// One row per pair, keyed by object path. Changes are collected and applied
// once per animation frame, so a burst of signals (a reload of 1000 pairs)
// costs one pass over the rows it touched.
export class PairTable {
    // lookup(path): the pair's properties, or undefined once it is gone.
    // onRemove(path): the row's Remove button was pressed.
    constructor(lookup, onRemove) {
        this.table = byId("xc-table");
        this.body = byId("xc-pairs");
        this.emptyState = element("div", "pf-c-empty-state");
        this.emptyState.id = "xc-empty";
        const emptyContent = element("div", "pf-c-empty-state__content");
        emptyContent.append(element("h2", "pf-c-title pf-m-lg", "No cross-connects"),
                            element("div", "pf-c-empty-state__body",
                                    "Add one to forward frames between two interfaces."));
        this.emptyState.append(emptyContent);
        this.lookup = lookup;
        this.rows = new Map();
        this.pending = new Set();
        this.frame = 0;
        this.loaded = false;
        this.canManage = false;
        this.counters = new Map();
        this.counterRequests = 0;
        this.counterRefreshes = 0;
        this.body.addEventListener("click", event => {
            const button = event.target.closest("button.xc-remove");
            if (button)
                onRemove(button.closest("tr").dataset.path);
        });
    }

    // The pair at path appeared, changed or went away.
    changed(path) {
        this.pending.add(path);
        this.schedule();
    }

    // A new set of objects (another daemon generation): any row may differ.
    replaceAll(paths) {
        this.loaded = true;
        for (const path of this.rows.keys())
            this.pending.add(path);
        for (const path of paths)
            this.pending.add(path);
        this.schedule();
    }

    setManageAllowed(allowed) {
        this.canManage = allowed;
        for (const row of this.rows.values())
            row.remove.disabled = !allowed;
    }

    // One more GetAllStatistics on its way (#xc-table[data-counter-requests]).
    countRequest() {
        this.counterRequests += 1;
        this.table.dataset.counterRequests = this.counterRequests;
    }

    // counters: Map(path → CounterHistory entry). Written at once: one reply
    // every few seconds is already a batch.
    showCounters(counters) {
        const start = performance.now();
        this.counters = counters;
        for (const [path, row] of this.rows)
            this.showRowCounters(row, counters.get(path));
        this.counterRefreshes += 1;
        this.table.dataset.counterRefreshes = this.counterRefreshes;
        this.table.dataset.lastRefreshMs = (performance.now() - start).toFixed(1);
    }

    schedule() {
        if (!this.frame)
            this.frame = requestAnimationFrame(() => this.render());
    }

    render() {
        this.frame = 0;
        let added = false;
        let budget = PAIRS_PER_FRAME;
        for (const path of this.pending) {
            if (budget-- === 0)
                break;
            this.pending.delete(path);
            added = this.renderPair(path) || added;
        }
        if (this.pending.size)
            this.schedule();
        if (added)
            this.sortRows();
        this.table.dataset.rows = this.rows.size;
        const empty = this.loaded && this.rows.size === 0;
        if (empty !== this.emptyState.isConnected) {
            if (empty)
                this.table.after(this.emptyState);
            else
                this.emptyState.remove();
        }
    }

    // Returns whether it added a row.
    renderPair(path) {
        const pair = this.lookup(path);
        let row = this.rows.get(path);
        if (!pair) {
            row?.tr.remove();
            this.rows.delete(path);
            return false;
        }
        // The path comes from the left name: a reload or a restart may put
        // another pair (same left, another right) on a row's path.
        if (row && (row.left !== pair.Left || row.right !== pair.Right)) {
            const replacement = this.createRow(path, pair);
            row.tr.replaceWith(replacement.tr);
            row = replacement;
            this.rows.set(path, row);
        }
        const added = !row;
        if (added) {
            row = this.createRow(path, pair);
            this.rows.set(path, row);
        }
        this.fillRow(row, pair);
        return added;
    }

    createRow(path, pair) {
        const tr = element("tr", "xc-pair");
        tr.setAttribute("role", "row");
        tr.dataset.path = path;
        tr.dataset.left = pair.Left;
        tr.dataset.right = pair.Right;
        const cells = {};
        for (const [column, className] of COLUMNS) {
            const td = element("td", className);
            td.setAttribute("role", "cell");
            td.dataset.col = column;
            cells[column] = td;
        }
        // Left and Right are constant for a pair's life (a row's, see renderPair).
        cells.left.textContent = pair.Left;
        cells.right.textContent = pair.Right;
        const label = element("span", "pf-c-label xc-state");
        const labelText = element("span", "pf-c-label__content");
        label.append(labelText);
        const note = element("div", "xc-note");
        const error = element("div", "xc-error");
        cells.state.append(label, note, error);

        const remove = element("button", "pf-c-button pf-m-secondary pf-m-danger pf-m-small xc-remove", "Remove");
        remove.type = "button";
        remove.disabled = !this.canManage;
        remove.setAttribute("aria-label", `Remove ${pair.Left} ↔ ${pair.Right}`);
        const actions = element("td", "pf-c-table__action");
        actions.setAttribute("role", "cell");
        actions.append(remove);
        tr.append(...Object.values(cells), actions);

        const row = { tr, cells, label, labelText, note, error, remove, left: pair.Left, right: pair.Right,
                      state: null };
        this.showRowCounters(row, this.counters.get(path));
        return row;
    }

    fillRow(row, pair) {
        const state = pair.State ?? "";
        if (row.state !== state) {
            row.state = state;
            row.label.className = `pf-c-label xc-state ${STATE_COLOURS[state] ?? ""}`;
            row.labelText.textContent = state;
        }
        setNote(row.note, [forwardingNote(pair), pair.Warning].filter(Boolean).join("; "));
        setNote(row.error, state === "failed" ? pair.Error ?? "" : "");
        const { cells } = row;
        setText(cells.mode, modeText(pair));
        if (cells.mode.title !== (pair.ModeReason ?? ""))
            cells.mode.title = pair.ModeReason ?? "";
        setText(cells["left-oper"], operText(pair.LeftOperState, pair.LeftIfindex));
        setText(cells["right-oper"], operText(pair.RightOperState, pair.RightIfindex));
        // Why frames are being dropped, on the count (empty when none lately).
        if (cells.dropped.title !== (pair.DropReason ?? ""))
            cells.dropped.title = pair.DropReason ?? "";
    }

    showRowCounters({ cells }, counters) {
        setText(cells["l2r-packets"], counters ? String(counters.l2rPackets) : "");
        setText(cells["r2l-packets"], counters ? String(counters.r2lPackets) : "");
        setText(cells["l2r-rate"], formatRate(counters?.l2rRate ?? null));
        setText(cells["r2l-rate"], formatRate(counters?.r2lRate ?? null));
        setText(cells.dropped, counters ? String(counters.dropped) : "");
    }

    // Moves only the rows that are out of place: new ones, mostly.
    sortRows() {
        const sorted = [...this.rows.values()].sort((a, b) => byName(a.left, b.left));
        let next = this.body.firstChild;
        for (const { tr } of sorted) {
            if (tr === next)
                next = next.nextSibling;
            else
                this.body.insertBefore(tr, next);
        }
    }
}

const STATUS = {
    connecting: { variant: "pf-m-info", title: "Connecting to xconnectd…" },
    running: null,
    stopped: {
        variant: "pf-m-warning",
        title: "xconnectd stopped",
        detail: "It will be started again by the next request.",
    },
    "not-installed": {
        variant: "pf-m-danger",
        title: "xconnect is not installed",
        detail: "The system bus has no org.xconnect service.",
        retry: true,
    },
    failed: {
        variant: "pf-m-danger",
        title: "xconnectd is not available",
        detail: "See “journalctl -u xconnectd”.",
        retry: true,
    },
};

// #xc-status: whether the daemon is there; hidden while it runs.
export class StatusBanner {
    constructor(onRetry) {
        this.box = byId("xc-status");
        this.title = byId("xc-status-title");
        this.detail = byId("xc-status-detail");
        this.retry = byId("xc-retry");
        this.retry.addEventListener("click", onRetry);
        this.state = this.box.dataset.state;
    }

    // The daemon's unique bus name (data-owner), "" while there is none: a
    // new one after each restart.
    showOwner(name) {
        this.box.dataset.owner = name || "";
    }

    // detail: what went wrong, when known; shown above the state's own advice.
    show(state, detail) {
        const status = STATUS[state];
        this.state = state;
        this.box.dataset.state = state;
        this.box.hidden = !status;
        if (!status)
            return;
        this.box.className = `pf-c-alert pf-m-inline ${status.variant}`;
        this.title.textContent = status.title;
        const lines = [detail, status.detail].filter(Boolean);
        this.detail.replaceChildren(...lines.map(line => element("p", null, line)));
        this.retry.hidden = !status.retry;
    }
}

// Toolbar and row actions, the note saying why some are off (#xc-perm-note),
// and the last error (#xc-alert). The notes exist only while they apply.
export class Controls {
    constructor(table, { onAdd, onReload }) {
        this.table = table;
        this.notices = byId("xc-notices");
        this.add = byId("xc-add");
        this.reload = byId("xc-reload");
        this.add.addEventListener("click", onAdd);
        this.reload.addEventListener("click", onReload);
    }

    // permissions: interpretPermissions()'s result, or null while unknown.
    allow(permissions) {
        this.add.disabled = !permissions?.canManage;
        this.reload.disabled = !permissions?.canReload;
        this.table.setManageAllowed(Boolean(permissions?.canManage));
        byId("xc-perm-note")?.remove();
        if (permissions?.note)
            byId("xc-status").after(alertBox("xc-perm-note", "pf-m-info", { title: permissions.note }));
    }

    showError(error) {
        byId("xc-alert")?.remove();
        const box = alertBox("xc-alert", "pf-m-danger", describeError(error));
        const close = element("button", "pf-c-button pf-m-plain", "×");
        close.id = "xc-alert-close";
        close.type = "button";
        close.setAttribute("aria-label", "Dismiss");
        close.addEventListener("click", () => box.remove());
        const action = element("div", "pf-c-alert__action");
        action.append(close);
        box.append(action);
        this.notices.append(box);
    }
}

// #xc-add-dialog. It stays open on an error, to show it and let the user correct.
export class AddDialog {
    // onSubmit(left, right): a promise; its rejection (a D-Bus error) is shown.
    constructor(onSubmit) {
        this.dialog = byId("xc-add-dialog");
        this.form = byId("xc-add-form");
        this.left = byId("xc-left");
        this.right = byId("xc-right");
        this.confirm = byId("xc-add-confirm");
        this.choices = byId("xc-ifaces");
        this.busy = false;
        this.form.addEventListener("input", () => this.updateConfirm());
        this.form.addEventListener("submit", event => {
            event.preventDefault();
            this.submit(onSubmit);
        });
        byId("xc-add-cancel").addEventListener("click", () => this.dialog.close());
    }

    // Returns a token for offer(): a reply meant for an earlier opening is dropped.
    open() {
        this.opening = (this.opening ?? 0) + 1;
        this.form.reset();
        this.choices.replaceChildren();
        this.showError(null);
        this.updateConfirm();
        this.dialog.showModal();
        return this.opening;
    }

    // interfaces: ListInterfaces' a(suss) (name, ifindex, operstate, kind).
    offer(opening, interfaces) {
        if (opening !== this.opening || !this.dialog.open)
            return;
        this.choices.replaceChildren(...interfaces.map(([name, , operState, kind]) => {
            const option = document.createElement("option");
            option.value = name;
            option.label = [kind, operState].filter(Boolean).join(", ");
            return option;
        }));
    }

    async submit(onSubmit) {
        if (this.confirm.disabled)
            return; // Enter in a field while a name is missing or a call is out
        this.busy = true;
        this.updateConfirm();
        try {
            await onSubmit(this.left.value.trim(), this.right.value.trim());
            this.dialog.close();
        } catch (error) {
            this.showError(error);
        } finally {
            this.busy = false;
            this.updateConfirm();
        }
    }

    updateConfirm() {
        this.confirm.disabled = this.busy || !this.left.value.trim() || !this.right.value.trim();
    }

    showError(error) {
        byId("xc-add-error")?.remove();
        if (error)
            byId("xc-add-body").append(alertBox("xc-add-error", "pf-m-danger", describeError(error)));
    }
}

// #xc-remove-dialog: asks before a pair is removed.
export class RemoveDialog {
    constructor() {
        this.dialog = byId("xc-remove-dialog");
        this.text = byId("xc-remove-text");
    }

    // Resolves to whether the user confirmed.
    ask(left, right) {
        this.text.textContent = `${left} and ${right} stop forwarding to each other, ` +
                                "and the pair leaves the configuration file.";
        this.dialog.returnValue = "";
        this.dialog.showModal();
        return new Promise(resolve => {
            this.dialog.addEventListener("close", () => resolve(this.dialog.returnValue === "remove"),
                                         { once: true });
        });
    }
}
