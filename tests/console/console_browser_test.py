#!/usr/bin/python3
"""The web console in a real browser: headless Chromium (driven by Selenium through chromedriver)
against a real engined started on 127.0.0.1 with a free port and a fresh data folder.

Each scenario writes a screenshot of the page it ends on to --screenshots. On a failure the test
prints the page's source, the browser's console log and engined's log, then exits 1; engined and
the browser are stopped whatever happens."""

import argparse
import http.server
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import traceback
import urllib.error
import urllib.request

from selenium import webdriver
from selenium.common.exceptions import NoAlertPresentException, TimeoutException
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.action_chains import ActionChains
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.support import expected_conditions as ec
from selenium.webdriver.support.ui import Select, WebDriverWait

XSS_PROVIDER = "<img src=x onerror=alert(1)>"
WAIT_S = 30  # generous: the machine running the suite may be busy
RUNS_PER_PAGE = 25  # the console's page of runs


class Engined:
    """build/engined on 127.0.0.1, port 0 (the kernel picks a free one, read back from its log)."""

    def __init__(self, args, data_dir):
        self.args = args
        self.data_dir = data_dir
        self.log_path = os.path.join(data_dir, "engined.log")
        self.log = open(self.log_path, "w")
        self.process = subprocess.Popen(
            [args.engined, "--listen", "127.0.0.1:0", "--data-dir", data_dir, "--resources-dir", args.source_dir,
             "--workers", "2", "--rate-limit", "1000000", "--rate-burst", "1000000",
             "--webhook-allowed-hosts", "127.0.0.1"],
            stdout=self.log, stderr=subprocess.STDOUT)
        self.origin = None
        deadline = time.monotonic() + WAIT_S
        while self.origin is None:
            if self.process.poll() is not None:
                raise RuntimeError("engined exited with status %s:\n%s" % (self.process.returncode, self.log_text()))
            if time.monotonic() > deadline:
                raise RuntimeError("engined did not report its address:\n" + self.log_text())
            match = re.search(r'"engined listening".*?"address":"([^"]+)"', self.log_text())
            if match:
                self.origin = "http://" + match.group(1)
            else:
                time.sleep(0.1)

    def log_text(self):
        with open(self.log_path, errors="replace") as log:
            return log.read()

    def revoke_key(self, key_id):
        subprocess.run([self.args.enginectl, "keys", "revoke", "--data-dir", self.data_dir, key_id],
                       check=True, capture_output=True)

    def create_key(self, organization, environment="test"):
        out = subprocess.run([self.args.enginectl, "keys", "create", "--data-dir", self.data_dir, "--org", organization,
                              "--env", environment, "--scopes", "runs:write,runs:read,engines:admin"],
                             check=True, capture_output=True, text=True).stdout
        return out.strip().splitlines()[-1]

    def call(self, method, path, key, body=None, text=False):
        data = json.dumps(body).encode() if body is not None else None
        request = urllib.request.Request(self.origin + path, data=data, method=method,
                                         headers={"Authorization": "Bearer " + key, "Content-Type": "application/json"})
        try:
            with urllib.request.urlopen(request, timeout=WAIT_S) as response:
                payload = response.read().decode()
                return response.status, (payload if text else json.loads(payload))
        except urllib.error.HTTPError as error:
            return error.code, json.loads(error.read().decode())

    def submit_and_wait(self, key, body, engine="default"):
        status, accepted = self.call("POST", "/api/v1/engines/%s/runs" % engine, key, body)
        check(status == 202, "submit answered %s: %s" % (status, accepted))
        deadline = time.monotonic() + WAIT_S
        while True:
            status, run = self.call("GET", "/api/v1/runs/" + accepted["run_id"], key)
            if run.get("status") in ("completed", "degraded", "failed"):
                return run
            check(time.monotonic() < deadline, "run %s did not finish: %s" % (accepted["run_id"], run))
            time.sleep(0.1)

    def stop(self):
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.log.close()


class Receiver:
    """A webhook endpoint on loopback that answers 200 to every delivery."""

    def __init__(self):
        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self):
                self.rfile.read(int(self.headers.get("Content-Length", 0)))
                self.send_response(200)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *ignored):
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = "http://127.0.0.1:%d/hooks/engined" % self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def stop(self):
        self.server.shutdown()
        self.server.server_close()


class ScenarioFailed(Exception):
    pass


def check(condition, message):
    if not condition:
        raise ScenarioFailed(message)


def start_browser(args):
    options = webdriver.ChromeOptions()
    options.binary_location = args.chromium
    for flag in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                 "--window-size=1280,900", "--no-first-run", "--no-default-browser-check", "--disable-extensions",
                 "--disable-background-networking", "--disable-sync", "--disable-component-update"):
        options.add_argument(flag)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    return webdriver.Chrome(service=Service(args.chromedriver), options=options)


class Console:
    def __init__(self, browser, origin, screenshots):
        self.browser = browser
        self.origin = origin
        self.screenshots = screenshots
        self.wait = WebDriverWait(browser, WAIT_S)

    def open(self, hash_path):
        self.browser.get(self.origin + "/console/" + hash_path)

    def go(self, hash_path):
        self.browser.execute_script("location.hash = arguments[0]", hash_path)

    def text_of(self, selector):
        return self.wait.until(ec.visibility_of_element_located((By.CSS_SELECTOR, selector))).text

    def wait_text(self, selector, needle):
        """Waits until the element's text, as the DOM holds it (before any CSS text-transform), contains needle."""
        def shows(browser):  # one script, so that a page re-rendering meanwhile leaves no stale element
            return browser.execute_script(
                "return [...document.querySelectorAll(arguments[0])].some((e) => e.textContent.includes(arguments[1]))",
                selector, needle)
        try:
            self.wait.until(shows)
        except TimeoutException:
            raise ScenarioFailed("%r never showed %r; it shows %r" % (selector, needle, self.page_text(selector)))

    def page_text(self, selector="main"):
        found = self.browser.find_elements(By.CSS_SELECTOR, selector)
        return found[0].text if found else "(no %s)" % selector

    def heading(self, text):
        self.wait_text("main h1", text)

    def sign_in(self, key):
        self.open("#/")
        field = self.wait.until(ec.element_to_be_clickable((By.ID, "api-key")))
        field.clear()
        field.send_keys(key)
        self.browser.find_element(By.ID, "sign-in-button").click()

    def shoot(self, name):
        self.browser.save_screenshot(os.path.join(self.screenshots, name + ".png"))


def scenario_wrong_key_is_told_so(console, env):
    console.sign_in("nx_test_" + "0" * 64)
    console.wait_text("#sign-in-message", "not accepted")
    check(console.browser.execute_script("return sessionStorage.length") == 0, "a refused key stayed in sessionStorage")
    check(not console.browser.find_element(By.ID, "sections").is_displayed(), "the sections show without a key")
    console.shoot("01-sign-in-refused")


def scenario_sign_in_shows_organisation_and_environment(console, env):
    console.sign_in(env["key"])
    console.heading("Engines")
    console.wait_text("#organization", "acme")
    badge = console.browser.execute_script("return document.getElementById('environment-badge').textContent")
    check(badge == "test", "environment badge: %r" % badge)
    check(console.browser.find_element(By.ID, "environment-badge").is_displayed(), "the environment badge is hidden")
    console.wait_text("main table", "default")
    console.wait_text("main table", "entity-analysis")
    # The key lives in sessionStorage only: never in a cookie, localStorage or the URL.
    browser = console.browser
    check(browser.execute_script("return sessionStorage.getItem('engined.console.key')") == env["key"], "key not in sessionStorage")
    check(browser.execute_script("return document.cookie") == "", "a cookie was set")
    check(browser.execute_script("return localStorage.length") == 0, "localStorage was written")
    check(env["key"] not in browser.current_url, "the key is in the URL")
    console.shoot("02-engines")


def scenario_keyboard_reaches_the_sections(console, env):
    # The skip link takes the keyboard to the page's content without changing the route.
    console.browser.execute_script("document.querySelector('.skip-link').focus()")
    ActionChains(console.browser).send_keys(Keys.ENTER).perform()
    check(console.browser.switch_to.active_element.get_attribute("id") == "main", "the skip link did not focus the content")
    check(console.browser.current_url.endswith("#/engines"), "the skip link changed the route: " + console.browser.current_url)
    # From the content, Shift+Tab walks back through the header to the sections.
    reached = []
    for _ in range(8):
        ActionChains(console.browser).key_down(Keys.SHIFT).send_keys(Keys.TAB).key_up(Keys.SHIFT).perform()
        reached.append(console.browser.switch_to.active_element.get_attribute("href") or "")
        if reached[-1].endswith("#/runs"):
            break
    check(any(href.endswith("#/runs") for href in reached), "Tab never reached the Runs section: %s" % reached)
    outline = console.browser.execute_script(
        "return getComputedStyle(document.activeElement).outlineStyle")
    check(outline not in ("none", ""), "the focused link has no visible outline (%r)" % outline)


def scenario_engine_page(console, env):
    console.go("#/engines/default")
    console.wait_text("main", "Scoring dimensions")
    console.wait_text("main", "Configuration hash")
    console.shoot("03-engine")


def scenario_copy_for_agents_puts_contract_md_on_the_clipboard(console, env):
    console.browser.execute_cdp_cmd("Browser.grantPermissions", {
        "origin": env["engined"].origin, "permissions": ["clipboardReadWrite", "clipboardSanitizedWrite"]})
    console.go("#/engines/default/contract")
    console.wait_text("main", "Request fields")
    console.wait_text("main table", "input.address.state")
    console.browser.find_element(By.ID, "copy-for-agents").click()
    console.wait_text("#copy-confirmation", "Copied contract.md")
    clipboard = console.browser.execute_async_script(
        "const done = arguments[arguments.length - 1];"
        "navigator.clipboard.readText().then(done, (error) => done('clipboard refused: ' + error));")
    status, guide = env["engined"].call("GET", "/api/v1/engines/default/contract.md", env["key"], text=True)
    check(status == 200, "contract.md answered %s" % status)
    check(clipboard == guide, "the clipboard holds %d characters, contract.md %d; clipboard starts %r" %
          (len(clipboard), len(guide), clipboard[:200]))
    console.shoot("04-contract")
    # The pinned version is selectable: the page follows the choice.
    Select(console.browser.find_element(By.ID, "contract-version")).select_by_value("1.0")
    console.wait_text("main", '"engine_version": "1.0"')


def scenario_versions_with_side_by_side_diff(console, env):
    console.go("#/engines/default/versions?from=1.1&to=2.0")
    console.wait_text("main table", "2.0")
    console.wait_text("#version-diff", "Request schema")
    console.wait_text("#version-diff", "Lua scorecard")
    changed = console.browser.find_elements(By.CSS_SELECTOR, "#version-diff .diff-line.added, #version-diff .diff-line.removed")
    check(len(changed) > 0, "1.1 against 2.0 shows no changed line")
    console.shoot("05-versions")


def scenario_runs_list_pages_to_the_submitted_run(console, env):
    run = env["run"]
    console.go("#/runs?engine=default")
    console.wait_text("main table", env["newest_run_id"])
    first_page = console.browser.execute_script(
        "return [...document.querySelectorAll('main table tbody tr td:first-child')].map((cell) => cell.textContent)")
    check(len(first_page) == RUNS_PER_PAGE and first_page[0] == env["newest_run_id"],
          "first page: %d rows, first %r" % (len(first_page), first_page[:1]))
    check(run["run_id"] not in first_page, "the oldest run is on the first page")
    console.shoot("06-runs")
    console.browser.find_element(By.ID, "next-page").click()
    console.wait_text("main table", run["run_id"])
    check(env["newest_run_id"] not in console.page_text("main table"), "the second page repeats the first")
    # Filtered by a version the run did not use: it is not listed.
    console.go("#/runs?engine=default&version=1.0")
    console.wait_text("main", "No run matches these filters")
    console.go("#/runs?engine=default&version=2.0&status=completed")
    console.wait_text("main table", env["pinned_run"]["run_id"])
    check(run["run_id"] not in console.page_text("main table"), "an unpinned run is listed under version 2.0")


def scenario_run_page_shows_rank_one(console, env):
    run = env["run"]
    console.browser.find_element(By.CSS_SELECTOR, "main table a[href='#/runs/%s']" % env["pinned_run"]["run_id"])
    console.go("#/runs/" + run["run_id"])
    console.wait_text("main", "Ranked solutions")
    first = console.browser.find_element(By.CSS_SELECTOR, ".solution")
    top = run["solutions"][0]
    check(first.find_element(By.CSS_SELECTOR, ".rank").text == "#1", "first card is not rank 1")
    check(first.find_element(By.CSS_SELECTOR, ".providers").text == " + ".join(top["providers"]),
          "rank 1 providers: %r" % first.find_element(By.CSS_SELECTOR, ".providers").text)
    cost = first.find_element(By.CSS_SELECTOR, ".cost").text
    check("{:,}".format(round(top["est_cost_low"])) in cost, "rank 1 cost %r lacks %s" % (cost, top["est_cost_low"]))
    console.wait_text("main", "Stage timeline")
    console.wait_text("main", "FILTER")
    check(console.text_of("#fingerprint") == run["fingerprint"], "fingerprint differs")
    status, packet = env["engined"].call("GET", "/api/v1/runs/%s/defensibility-packet" % run["run_id"], env["key"])
    dropped = packet["provenance"]["dropped"]
    check(status == 200 and dropped, "the fixture run left nothing out: %s" % packet.get("provenance"))
    rows = console.browser.find_elements(By.CSS_SELECTOR, "table[aria-label='Dropped'] tbody tr")
    check(len(rows) == len(dropped), "%d dropped rows shown, the packet has %d" % (len(rows), len(dropped)))
    check(dropped[0]["reason"] in rows[0].get_attribute("textContent"), "the first dropped row lacks its reason")
    console.browser.find_element(By.ID, "replay").click()
    console.wait_text("#replay-result", "Identical")
    console.shoot("07-run")


def scenario_provider_names_are_text_not_html(console, env):
    console.go("#/runs/" + env["xss_run"]["run_id"])
    console.wait_text("main", "Ranked solutions")
    providers = console.text_of(".solution .providers")
    check(providers == XSS_PROVIDER, "provider shown as %r" % providers)
    console.wait_text("main", "Left out, and why")
    try:
        alert = console.browser.switch_to.alert
        raise ScenarioFailed("a script ran: alert %r" % alert.text)
    except NoAlertPresentException:
        pass
    images = console.browser.execute_script("return document.images.length")
    check(images == 0, "the page holds %d <img> elements" % images)
    console.shoot("08-run-hostile-provider")


def scenario_evaluation_shows_candidates(console, env):
    run = env["evaluation_run"]
    console.go("#/runs/" + run["run_id"])
    console.wait_text("main", "Candidates (%d)" % len(run["candidates"]))
    first_row = console.browser.find_element(By.CSS_SELECTOR, "table[aria-label='Candidates'] tbody tr")
    first = run["candidates"][0]
    row = first_row.get_attribute("textContent")
    for expected in (first["name"], first["tier"], first["scores"]["appetite"]["level"], first["scores"]["appetite"]["reason"]):
        check(expected in row, "rank 1's row lacks %r: %r" % (expected, row))
    console.shoot("09-evaluation")
    console.go("#/runs?engine=entity-analysis")
    console.wait_text("main table", run["run_id"])


def scenario_webhooks_and_deliveries(console, env):
    console.go("#/webhooks")
    console.wait_text("main table", env["receiver"].url)
    console.shoot("10-webhooks")
    console.go("#/webhooks/" + env["webhook_id"])
    console.wait_text("main", "Recent deliveries")
    console.wait_text("main table", "200")
    resend = console.browser.find_element(By.XPATH, "//main//table//button[normalize-space()='Re-send']")
    resend.click()
    console.wait_text("#resend-result", "queued to be sent again")
    console.shoot("11-webhook-deliveries")


def scenario_pools(console, env):
    console.go("#/pools")
    console.wait_text("main table", "carriers:demo")
    console.shoot("12-pools")


def scenario_narrow_window(console, env):
    console.browser.set_window_size(420, 900)
    console.go("#/runs/" + env["run"]["run_id"])
    console.wait_text("main", "Ranked solutions")
    overflow = console.browser.execute_script(
        "return document.documentElement.scrollWidth - document.documentElement.clientWidth")
    wide = console.browser.execute_script(
        "const width = document.documentElement.clientWidth;"
        "return [...document.querySelectorAll('body *')].filter((e) => !e.parentElement.closest('.table-wrap, pre, .diff')"
        "  && (e.getBoundingClientRect().right > width + 1 || (e.scrollWidth > e.clientWidth + 1"
        "      && getComputedStyle(e).overflowX === 'visible')))"
        "  .slice(0, 5).map((e) => e.tagName + '.' + e.className + ' ' + Math.round(e.getBoundingClientRect().right));")
    check(overflow <= 1, "the narrow page scrolls sideways by %spx; widest: %s" % (overflow, wide))
    check(console.browser.find_element(By.ID, "environment-badge").is_displayed(), "no environment badge when narrow")
    console.shoot("13-run-narrow")
    console.browser.set_window_size(1280, 900)


def scenario_a_key_revoked_meanwhile_returns_to_sign_in(console, env):
    console.browser.find_element(By.ID, "sign-out").click()
    key = env["engined"].create_key("acme")
    console.sign_in(key)
    console.heading("Engines")
    status, me = env["engined"].call("GET", "/api/v1/me", key)
    env["engined"].revoke_key(me["key_id"])
    # enginectl is another process: engined refuses the key once the second it trusts a key
    # it checked has passed (operations.md, "When a revocation applies").
    time.sleep(1.1)
    console.go("#/pools")
    console.wait_text("#sign-in-message", "not accepted")
    check(console.browser.execute_script("return sessionStorage.length") == 0, "the revoked key stayed in sessionStorage")
    check(not console.browser.find_element(By.ID, "identity").is_displayed(), "the badge stays after the key was refused")


def scenario_another_organisation_sees_nothing(console, env):
    console.sign_in(env["other_key"])
    console.heading("Engines")
    console.wait_text("#organization", "globex")
    console.go("#/runs?engine=default")
    console.wait_text("main", "No runs of default yet")
    console.go("#/runs/" + env["run"]["run_id"])
    console.wait_text("main", "not_found")
    console.go("#/pools")
    console.wait_text("main", "No carrier pool yet")
    console.go("#/webhooks")
    console.wait_text("main", "No webhook endpoint yet")
    console.shoot("14-other-organisation")


SCENARIOS = [
    scenario_wrong_key_is_told_so,
    scenario_sign_in_shows_organisation_and_environment,
    scenario_keyboard_reaches_the_sections,
    scenario_engine_page,
    scenario_copy_for_agents_puts_contract_md_on_the_clipboard,
    scenario_versions_with_side_by_side_diff,
    scenario_runs_list_pages_to_the_submitted_run,
    scenario_run_page_shows_rank_one,
    scenario_provider_names_are_text_not_html,
    scenario_evaluation_shows_candidates,
    scenario_webhooks_and_deliveries,
    scenario_pools,
    scenario_narrow_window,
    scenario_a_key_revoked_meanwhile_returns_to_sign_in,
    scenario_another_organisation_sees_nothing,
]


def prepare(engined, args, receiver):
    key = engined.create_key("acme")
    other_key = engined.create_key("globex")
    status, endpoint = engined.call("POST", "/api/v1/webhooks", key, {"url": receiver.url, "description": "console test receiver"})
    check(status == 201, "creating the webhook answered %s: %s" % (status, endpoint))
    pool = os.path.join(engined.data_dir, "demo-pool.json")
    subprocess.run([args.demo_pool, "--out", pool, "--count", "300"], check=True, capture_output=True)
    subprocess.run([args.enginectl, "pools", "import", "--data-dir", engined.data_dir, "--org", "acme", "--pool",
                    "carriers:demo", pool], check=True, capture_output=True)
    with open(os.path.join(args.source_dir, "tests", "golden", "placement", "brokerage_tx_multicarrier.input.json")) as fixture:
        body = json.load(fixture)
    run = engined.submit_and_wait(key, body)
    check(run["status"] == "completed" and run["solutions"], "the fixture run: %s" % json.dumps(run)[:500])
    pinned_run = engined.submit_and_wait(key, dict(body, engine_version="2.0"))
    hostile = {"input": {"coverage_types": ["auto"], "address": {"state": "NY", "zip_code": "11231"}},
               "offerings": [{"id": "o1", "provider_name": XSS_PROVIDER, "category": "auto",
                              "attributes": {"line_premium_annual": 1000}}]}
    xss_run = engined.submit_and_wait(key, hostile)
    check(xss_run["solutions"] and xss_run["solutions"][0]["providers"] == [XSS_PROVIDER], "hostile run: %s" % xss_run)
    # Enough newer runs that the fixture run is on the listing's second page (the console shows 25 a page).
    newer = []
    for _ in range(RUNS_PER_PAGE - 2):
        status, accepted = engined.call("POST", "/api/v1/engines/default/runs", key, hostile)
        check(status == 202, "submit answered %s: %s" % (status, accepted))
        newer.append(accepted["run_id"])
    with open(os.path.join(args.source_dir, "contracts", "entity_analysis", "example_request.json")) as example:
        evaluation = json.load(example)
    evaluation["input"]["pool"] = "carriers:demo"
    evaluation_run = engined.submit_and_wait(key, evaluation, engine="entity-analysis")
    check(evaluation_run["status"] == "completed" and evaluation_run["candidates"],
          "the evaluation run: %s" % json.dumps(evaluation_run)[:500])
    deadline = time.monotonic() + WAIT_S
    while True:
        status, deliveries = engined.call("GET", "/api/v1/webhooks/%s/deliveries" % endpoint["id"], key)
        if any(delivery["status"] == "delivered" for delivery in deliveries.get("data", [])):
            break
        check(time.monotonic() < deadline, "no delivery reached the receiver: %s" % deliveries)
        time.sleep(0.2)
    return {"engined": engined, "key": key, "other_key": other_key, "run": run, "pinned_run": pinned_run,
            "xss_run": xss_run, "newest_run_id": newer[-1], "evaluation_run": evaluation_run, "receiver": receiver, "webhook_id": endpoint["id"]}


def report_failure(scenario, console, engined):
    print("FAILED: %s" % scenario, file=sys.stderr)
    traceback.print_exc()
    if console is not None:
        try:
            console.shoot("failure-" + scenario)
            print("--- page URL: %s" % console.browser.current_url, file=sys.stderr)
            print("--- page source:\n%s" % console.browser.page_source[:20000], file=sys.stderr)
            print("--- browser console:", file=sys.stderr)
            for entry in console.browser.get_log("browser"):
                print("  %s %s" % (entry.get("level"), entry.get("message")), file=sys.stderr)
        except Exception as error:  # the browser itself may be what failed
            print("--- the browser could not be inspected: %s" % error, file=sys.stderr)
    if engined is not None:
        print("--- engined log (last 6000 characters):\n%s" % engined.log_text()[-6000:], file=sys.stderr)


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--engined", required=True)
    parser.add_argument("--enginectl", required=True)
    parser.add_argument("--demo-pool", required=True)
    parser.add_argument("--source-dir", required=True)
    parser.add_argument("--screenshots", required=True)
    parser.add_argument("--chromium", default=shutil.which("chromium") or "/usr/bin/chromium")
    parser.add_argument("--chromedriver", default=shutil.which("chromedriver") or "/usr/bin/chromedriver")
    args = parser.parse_args()
    for tool in (args.chromium, args.chromedriver):
        if not os.access(tool, os.X_OK):
            print("%s is missing: run tools/install-deps.sh (Debian chromium, chromium-driver, python3-selenium)" % tool,
                  file=sys.stderr)
            return 1
    os.makedirs(args.screenshots, exist_ok=True)
    for old in os.listdir(args.screenshots):  # a previous run's pictures would mislead the reader
        if old.endswith(".png"):
            os.remove(os.path.join(args.screenshots, old))
    data_dir = tempfile.mkdtemp(prefix="engined-console-")
    engined = receiver = browser = console = None
    current = "start-up"
    try:
        receiver = Receiver()
        engined = Engined(args, data_dir)
        env = prepare(engined, args, receiver)
        browser = start_browser(args)
        console = Console(browser, engined.origin, args.screenshots)
        for scenario in SCENARIOS:
            current = scenario.__name__
            started = time.monotonic()
            scenario(console, env)
            print("ok %s (%.1fs)" % (current, time.monotonic() - started))
        print("screenshots in %s" % args.screenshots)
        return 0
    except Exception:
        report_failure(current, console, engined)
        return 1
    finally:
        if browser is not None:
            browser.quit()
        if engined is not None:
            engined.stop()
        if receiver is not None:
            receiver.stop()
        shutil.rmtree(data_dir, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
