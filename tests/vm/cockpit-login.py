#!/usr/bin/python3
"""The Cockpit checks of the systemd VM tier, from the host: headless
Chromium logs into the guest's Cockpit (cockpit.socket, TLS with the
guest's self-signed certificate, reached through qemu's hostfwd) with a
password, as an administrator would, and uses the Cross-connects page.

    cockpit-login.py --port PORT

Users (made by tests/vm/guest/checks.sh): alice is in netadmin, which the
package's example polkit rules file grants; bob is in no group; carol is in
sudo, not in netadmin. Prints a line per check; exits 1 at the first failure.
"""
import argparse
import os
import sys
import tempfile

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "cockpit"))
from cdp_driver import Browser, Failure  # noqa: E402

PAGE = "/cockpit/@localhost/xconnect/index.html"


def js_string(text):
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def shown(selector):
    """An expression: the element exists and is displayed."""
    return f"document.querySelector({js_string(selector)})?.offsetParent != null"


class Session:
    """One user's browser, logged in through Cockpit's login page."""

    def __init__(self, port, user, password, profile):
        self.origin = f"https://127.0.0.1:{port}"
        self.browser = Browser("/usr/bin/chromium", profile, ("--ignore-certificate-errors",))
        self.browser.attach()
        self.browser.navigate(self.origin + "/")
        self.wait(shown("#login-user-input") + " && " + shown("#login-password-input"), 120)
        self.browser.type("#login-user-input", user)
        self.browser.type("#login-password-input", password)
        self.browser.click("#login-button")
        # The shell, with the page in its menu: the login went through PAM.
        self.wait("[...document.querySelectorAll('nav a')].some(a => a.textContent.trim() === "
                  "'Cross-connects')", 180)

    def wait(self, expression, timeout=60):
        return self.browser.wait(expression, timeout)

    def screenshot(self, name):
        """Into XCONNECT_VM_OUTPUT, when it is set (the tier keeps its output there)."""
        directory = os.environ.get("XCONNECT_VM_OUTPUT")
        if directory:
            os.makedirs(directory, exist_ok=True)
            self.browser.screenshot(os.path.join(directory, name))

    def page(self):
        self.browser.navigate(self.origin + PAGE)
        # Past "connecting": the page's first call is answered, or refused.
        self.wait("document.querySelector('#xc-status')?.dataset.state !== undefined && "
                  "document.querySelector('#xc-status').dataset.state !== 'connecting'", 120)

    def add_pair(self, left, right):
        self.wait(shown("#xc-add:not([disabled])"))
        self.browser.click("#xc-add")
        self.wait(shown("#xc-left"))
        self.browser.type("#xc-left", left)
        self.browser.type("#xc-right", right)
        self.browser.click("#xc-add-confirm")
        self.wait(f"document.querySelector('tr.xc-pair[data-left={js_string(left)}]') !== null", 120)

    def close(self):
        self.browser.kill()


def check(what, function, sessions):
    try:
        function()
    except Failure as failure:
        for number, session in enumerate(sessions):
            try:
                session.screenshot(f"cockpit-failure-{number}.png")
            except Failure:
                pass
        print(f"FAIL: {what}: {failure}")
        sys.exit(1)
    print(f"ok: {what}")


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--port", type=int, required=True)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="xconnect-vm-chromium-") as profiles:
        sessions = []

        def login(user, password):
            session = Session(args.port, user, password, os.path.join(profiles, user))
            sessions.append(session)
            return session

        try:
            state = {}

            def member_adds():
                alice = state["alice"] = login("alice", "alice-pw-1")
                # Cross-connects from the shell's menu: the page in its frame.
                alice.browser.click("nav a[href$='xconnect']")
                alice.wait("document.querySelector('iframe[name=\"cockpit1:localhost/xconnect\"]')"
                           "?.contentDocument?.querySelector('#xc-status')?.dataset.state === 'running'",
                           120)
                alice.page()
                alice.add_pair("xg", "xh")

            check("alice (netadmin) logs in with a password, opens Cross-connects and adds xg<->xh",
                  member_adds, sessions)

            def outsider_is_told():
                bob = login("bob", "bob-pw-1")
                bob.page()
                bob.wait("document.querySelector('#xc-perm-note')?.textContent.includes("
                         "'administrative access, or membership of a group granted by polkit')")
                disabled = bob.browser.evaluate(
                    "document.querySelectorAll('#xc-add:not([disabled]), .xc-remove:not([disabled]), "
                    "#xc-reload:not([disabled])').length")
                if disabled != 0:
                    raise Failure(f"{disabled} controls enabled for someone polkit refuses")

            check("bob (no group) sees why he may not change anything, and no control that would fail",
                  outsider_is_told, sessions)

            def administrator_switches():
                carol = login("carol", "carol-pw-1")
                carol.page()
                carol.wait("document.querySelector('#xc-perm-note') !== null")
                # The shell's switch: "Limited access" -> sudo with her password.
                carol.browser.navigate(carol.origin + "/system")
                carol.wait("document.querySelector('#super-user-indicator button') !== null", 120)
                carol.browser.click("#super-user-indicator button")
                carol.wait("document.querySelector('#switch-to-admin-access-password') !== null", 120)
                carol.browser.type("#switch-to-admin-access-password", "carol-pw-1")
                carol.browser.click(".pf-c-modal-box__footer button.pf-m-primary")
                carol.wait("document.querySelector('#super-user-indicator')?.textContent"
                           ".includes('Administrative access')", 120)
                carol.page()
                carol.wait("document.querySelector('#xc-perm-note') === null")
                carol.add_pair("xi", "xj")

            check("carol (sudo) turns on administrative access and then has root's view: adds xi<->xj",
                  administrator_switches, sessions)
        finally:
            for session in sessions:
                session.close()


if __name__ == "__main__":
    main()
