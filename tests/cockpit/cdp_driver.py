#!/usr/bin/python3
"""Drives headless Chromium over the Chrome DevTools Protocol for the Cockpit
page's browser test: a line protocol on stdin/stdout, so that a GoogleTest
(or anything else) can script a browser without npm.

    cdp_driver.py --chromium /usr/bin/chromium --profile DIR --url URL [--screenshot-dir DIR]

Starts Chromium in its own session with DIR as its profile, records long tasks'
durations (ms) into window.__xcLongTasks in every document, and opens URL. It
then prints one line: `ok {"devtools_port": N}` when the page is loaded, or
`fail <message>` and exits 1. After that it reads one JSON object per stdin
line and answers each with one line, `ok <JSON value>` or `fail <message>`:

    {"cmd": "wait", "js": EXPR, "timeout": 20}   poll EXPR every 100 ms until truthy
    {"cmd": "eval", "js": EXPR}                 its value (promises awaited)
    {"cmd": "click", "selector": S}             a real mouse click at the element's centre
    {"cmd": "type", "selector": S, "text": T}   focus, clear, then insert T as typed input
    {"cmd": "screenshot", "path": P}            PNG of the viewport; P relative to --screenshot-dir
    {"cmd": "errors"}                           console errors, exceptions, error log entries so far
    {"cmd": "navigate", "url": U}               load U (waits for the load)
    {"cmd": "quit"}

On quit, stdin EOF, SIGTERM, SIGINT or any failure of its own it kills
Chromium's process group (SIGTERM, then SIGKILL) and exits; it removes
nothing but Chromium's stale DevToolsActivePort file before the start.
Needs python3-websocket (Debian).
"""
import argparse
import base64
import ctypes
import json
import os
import signal
import subprocess
import sys
import time
import urllib.request

import websocket

# Runs before any script of each document; CDP-injected, so Cockpit's CSP does not apply.
LONGTASK_OBSERVER = """
window.__xcLongTasks = [];
new PerformanceObserver(list => {
    for (const entry of list.getEntries())
        window.__xcLongTasks.push(entry.duration);
}).observe({ type: "longtask", buffered: true });
"""

PR_SET_PDEATHSIG = 1
POLL_SECONDS = 0.1
CDP_TIMEOUT_SECONDS = 30
MESSAGE_LIMIT = 2000


def bounded(value, limit=300):
    text = value if isinstance(value, str) else json.dumps(value)
    return text if len(text) <= limit else text[:limit] + f"… ({len(text)} characters)"


def die_with_parent():
    # Chromium has a session of its own: should the driver be killed outright
    # (SIGKILL), the kernel still ends Chromium, and its helpers follow it.
    ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGKILL)


class Failure(Exception):
    """A command that could not be carried out; its message goes to the client."""


class Browser:
    def __init__(self, chromium, profile, extra_arguments=()):
        os.makedirs(profile, exist_ok=True)
        self.port_file = os.path.join(profile, "DevToolsActivePort")
        if os.path.exists(self.port_file):
            os.unlink(self.port_file)  # a previous run's: its port is not ours
        self.log_path = os.path.join(profile, "chromium.log")
        with open(self.log_path, "wb") as log:
            self.process = subprocess.Popen(
                [chromium, "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
                 "--user-data-dir=" + profile, "--remote-debugging-port=0", "--window-size=1280,900",
                 *extra_arguments, "about:blank"],
                stdin=subprocess.DEVNULL, stdout=log, stderr=log, start_new_session=True,
                preexec_fn=die_with_parent)
        self.port = None
        self.ws = None
        self.next_id = 0
        self.errors = []
        self.loaded = False

    def attach(self):
        self.port = self._read_port(self.port_file)
        self.ws = websocket.create_connection(self._page_target(), timeout=CDP_TIMEOUT_SECONDS,
                                              suppress_origin=True)
        for domain in ("Page", "Runtime", "Log"):
            self.send(domain + ".enable")
        self.send("Page.addScriptToEvaluateOnNewDocument", source=LONGTASK_OBSERVER)

    def _read_port(self, port_file):
        deadline = time.monotonic() + CDP_TIMEOUT_SECONDS
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise Failure(f"chromium exited with {self.process.returncode} before it listened; "
                              f"see {self.log_path}")
            try:
                with open(port_file) as f:
                    lines = f.read().split("\n")
                if len(lines) >= 2 and lines[0]:
                    return int(lines[0])
            except FileNotFoundError:
                pass
            time.sleep(0.05)
        raise Failure(f"chromium wrote no {port_file} within {CDP_TIMEOUT_SECONDS} s; see {self.log_path}")

    def _page_target(self):
        with urllib.request.urlopen(f"http://127.0.0.1:{self.port}/json/list", timeout=10) as response:
            targets = json.load(response)
        for target in targets:
            if target["type"] == "page":
                return target["webSocketDebuggerUrl"]
        raise Failure(f"chromium has no page target: {bounded(targets)}")

    def kill(self):
        """SIGTERM, then SIGKILL, to Chromium's process group: its helpers outlive it."""
        try:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(5)
            except subprocess.TimeoutExpired:
                pass
            os.killpg(self.process.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass  # no process of the group is left
        self.process.wait()

    def send(self, method, timeout=CDP_TIMEOUT_SECONDS, **params):
        """One CDP command; returns its result. Events read meanwhile are kept."""
        self.next_id += 1
        call_id = self.next_id
        try:
            self.ws.settimeout(timeout)
            self.ws.send(json.dumps({"id": call_id, "method": method, "params": params}))
            while True:
                message = json.loads(self.ws.recv())
                if message.get("id") == call_id:
                    break
                self._event(message)
        except websocket.WebSocketTimeoutException:
            raise Failure(f"{method}: no answer from chromium within {timeout} s")
        except (websocket.WebSocketException, OSError) as error:
            raise Failure(f"{method}: lost the connection to chromium ({error}); see {self.log_path}")
        if "error" in message:
            raise Failure(f"{method}: {bounded(message['error'])}")
        return message.get("result", {})

    def _event(self, message):
        event, params = message.get("method"), message.get("params", {})
        if event == "Page.loadEventFired":
            self.loaded = True
        elif event == "Runtime.exceptionThrown":
            details = params["exceptionDetails"]
            text = details.get("exception", {}).get("description") or details.get("text", "")
            self._add_error("exception", text, details.get("url") or self._top_frame_url(details))
        elif event == "Runtime.consoleAPICalled" and params["type"] in ("error", "assert"):
            text = " ".join(str(arg.get("value", arg.get("description", ""))) for arg in params["args"])
            self._add_error("console." + params["type"], text, self._top_frame_url(params))
        elif event == "Log.entryAdded" and params["entry"]["level"] == "error":
            entry = params["entry"]
            self._add_error("log." + entry.get("source", ""), entry["text"], entry.get("url", ""))

    @staticmethod
    def _top_frame_url(params):
        frames = params.get("stackTrace", {}).get("callFrames", [])
        return frames[0]["url"] if frames else ""

    def _add_error(self, source, text, url):
        self.errors.append({"source": source, "text": bounded(text, MESSAGE_LIMIT), "url": url})

    def evaluate(self, expression, timeout=CDP_TIMEOUT_SECONDS):
        result = self.send("Runtime.evaluate", timeout=timeout, expression=expression,
                           awaitPromise=True, returnByValue=True)
        if "exceptionDetails" in result:
            details = result["exceptionDetails"]
            description = details.get("exception", {}).get("description") or details.get("text")
            raise Failure(f"threw {bounded(description)}")
        return result["result"].get("value")

    def navigate(self, url, timeout=CDP_TIMEOUT_SECONDS):
        self.loaded = False
        result = self.send("Page.navigate", url=url)
        if result.get("errorText"):
            raise Failure(result["errorText"])
        deadline = time.monotonic() + timeout
        while not self.loaded:
            if time.monotonic() >= deadline:
                raise Failure(f"not loaded within {timeout} s")
            time.sleep(POLL_SECONDS)
            self.evaluate("0")  # a round trip, to read the events

    def wait(self, expression, timeout):
        deadline = time.monotonic() + timeout
        last = None
        while True:
            try:
                last = self.evaluate(expression)
                if last:
                    return last
            except Failure as failure:  # e.g. the document is being replaced
                last = str(failure)
            if time.monotonic() >= deadline:
                raise Failure(f"timed out after {timeout} s (last value: {bounded(last)})")
            time.sleep(POLL_SECONDS)

    def _on_element(self, selector, action):
        """Runs action (JS using `el`, returning an object) on the enabled element
        selector names; an action's {problem} is the command's failure."""
        result = self.evaluate(f"""(() => {{
            const el = document.querySelector({json.dumps(selector)});
            if (!el) return {{ problem: "no element matches" }};
            if (el.disabled || el.closest("fieldset:disabled") || el.getAttribute("aria-disabled") === "true")
                return {{ problem: "the element is disabled" }};
            {action}
        }})()""")
        if "problem" in result:
            raise Failure(result["problem"])
        return result

    def click(self, selector):
        point = self._on_element(selector, """
            el.scrollIntoView({ block: "center", inline: "center" });
            const box = el.getBoundingClientRect();
            if (box.width === 0 || box.height === 0) return { problem: "the element is not displayed" };
            const x = box.left + box.width / 2, y = box.top + box.height / 2;
            const hit = document.elementFromPoint(x, y);
            if (hit !== el && !el.contains(hit)) {
                const other = hit ? hit.tagName.toLowerCase() + (hit.id ? "#" + hit.id : "") : "nothing";
                return { problem: "the element is covered by " + other };
            }
            return { x, y };""")
        for event in ("mouseMoved", "mousePressed", "mouseReleased"):
            self.send("Input.dispatchMouseEvent", type=event, x=point["x"], y=point["y"],
                      button="left", buttons=1 if event == "mousePressed" else 0, clickCount=1)
        return None

    def type(self, selector, text):
        self._on_element(selector, """
            if (!("value" in el)) return { problem: "the element takes no text" };
            el.focus();
            el.value = "";
            el.dispatchEvent(new Event("input", { bubbles: true }));
            return {};""")
        if text:
            self.send("Input.insertText", text=text)  # input events, as from a keyboard
        return None

    def screenshot(self, path):
        data = self.send("Page.captureScreenshot", format="png")["data"]
        with open(path, "wb") as f:
            f.write(base64.b64decode(data))
        return {"path": path}

    def collected_errors(self):
        self.evaluate("0")  # a round trip: events Chromium sent before it are read
        return self.errors


def run_command(browser, line, screenshot_dir):
    """Returns (reply value, whether to stop)."""
    try:
        command = json.loads(line)
        name = command["cmd"]
    except (ValueError, TypeError, KeyError) as error:
        raise Failure(f"not a command ({error})")
    try:
        if name == "wait":
            return browser.wait(command["js"], float(command.get("timeout", 20))), False
        if name == "eval":
            return browser.evaluate(command["js"], float(command.get("timeout", CDP_TIMEOUT_SECONDS))), False
        if name == "click":
            return browser.click(command["selector"]), False
        if name == "type":
            return browser.type(command["selector"], command["text"]), False
        if name == "screenshot":
            return browser.screenshot(os.path.join(screenshot_dir, command["path"])), False
        if name == "errors":
            return browser.collected_errors(), False
        if name == "navigate":
            return browser.navigate(command["url"]), False
        if name == "quit":
            return None, True
    except KeyError as missing:
        raise Failure(f"missing {missing}")
    except OSError as error:
        raise Failure(str(error))
    raise Failure("unknown command")


def reply(status, text):
    # One line per answer, whatever the text holds.
    sys.stdout.write(status + " " + " ".join(text.splitlines()) + "\n")
    sys.stdout.flush()


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--chromium", required=True)
    parser.add_argument("--profile", required=True, help="Chromium's user data directory")
    parser.add_argument("--url", required=True)
    parser.add_argument("--screenshot-dir", default=".")
    args = parser.parse_args()

    # Turns the signals into an exit that passes through the `finally` below.
    for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
        signal.signal(sig, lambda number, frame: sys.exit(128 + number))

    try:
        browser = Browser(args.chromium, args.profile)
    except OSError as error:
        reply("fail", f"start {args.chromium}: {error}")
        return 1
    try:
        try:
            browser.attach()
            browser.navigate(args.url)
        except (Failure, OSError, websocket.WebSocketException) as error:
            reply("fail", bounded(f"start with {args.url}: {error}", MESSAGE_LIMIT))
            return 1
        reply("ok", json.dumps({"devtools_port": browser.port}))
        for line in sys.stdin:
            if not line.strip():
                continue
            try:
                value, stop = run_command(browser, line, args.screenshot_dir)
            except Failure as failure:
                # What was asked, then why it failed.
                reply("fail", bounded(f"{bounded(line.strip())}: {failure}", MESSAGE_LIMIT))
                continue
            reply("ok", json.dumps(value))
            if stop:
                break
        return 0
    finally:
        browser.kill()


if __name__ == "__main__":
    sys.exit(main())
