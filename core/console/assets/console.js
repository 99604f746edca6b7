// engined console: a single page that signs in with an API key and reads the public /api/v1
// routes with it. Every value from the server is put into the page as text (DOM nodes and
// textContent), never parsed as HTML.
"use strict";

(() => {
  const KEY_STORAGE = "engined.console.key";
  const main = document.getElementById("main");

  // ---- Building the page -------------------------------------------------------------------

  // el("td", {class: "mono"}, "text", otherNode): strings and numbers become text nodes.
  function el(tag, attributes, ...children) {
    const node = document.createElement(tag);
    for (const [name, value] of Object.entries(attributes || {})) {
      if (value === undefined || value === null || value === false) continue;
      if (name.startsWith("on")) node.addEventListener(name.slice(2), value);
      else if (name === "class") node.className = value;
      else node.setAttribute(name, value === true ? "" : String(value));
    }
    append(node, children);
    return node;
  }

  function append(node, children) {
    for (const child of children.flat(Infinity)) {
      if (child === undefined || child === null || child === false) continue;
      node.append(child instanceof Node ? child : document.createTextNode(String(child)));
    }
    return node;
  }

  function show(...nodes) {
    main.replaceChildren(...nodes.flat(Infinity).filter(Boolean));
  }

  // A page renders through the view of the navigation that opened it: if the user went
  // elsewhere while its requests were in flight, its late answer is dropped.
  let navigation = 0;
  function renderer() {
    const opened = navigation;
    return (...nodes) => {
      if (opened === navigation) show(...nodes);
    };
  }

  function table(headings, rows, options = {}) {
    return el("div", {class: "table-wrap"},
      el("table", {"aria-label": options.label},
        el("thead", {}, el("tr", {}, headings.map((heading) =>
          el("th", {scope: "col", class: heading.numeric ? "number" : null}, heading.text || heading)))),
        el("tbody", {}, rows)));
  }

  function badge(text, kind) {
    return el("span", {class: `badge ${kind || ""}`}, text);
  }

  function statusBadge(status) {
    return badge(status, `status-${String(status).replace(/[^a-z_]/g, "")}`);
  }

  function facts(pairs) {
    return el("dl", {class: "facts"}, pairs.filter(([, value]) => value !== undefined).map(([name, value]) =>
      el("div", {}, el("dt", {}, name), el("dd", {}, value === null || value === "" ? el("span", {class: "muted"}, "—") : value))));
  }

  function empty(message, ...more) {
    return el("div", {class: "panel empty", role: "status"}, el("p", {}, message), ...more);
  }

  function errorPanel(error) {
    const code = error.code ? el("span", {class: "error-code"}, error.code) : null;
    return el("div", {class: "panel error", role: "alert"},
      el("strong", {}, error.status ? `The server answered ${error.status}` : "Something went wrong"),
      el("p", {}, code, code ? ": " : "", error.message || String(error)),
      error.requestId ? el("p", {class: "muted mono"}, `request id ${error.requestId}`) : null);
  }

  function heading(title, subtitle, crumbs) {
    return [
      crumbs ? el("div", {class: "breadcrumb"}, crumbs.map((crumb, i) =>
        [i ? " / " : "", crumb.href ? el("a", {href: crumb.href}, crumb.text) : crumb.text])) : null,
      el("h1", {}, title),
      subtitle ? el("p", {class: "subtitle"}, subtitle) : null,
    ];
  }

  function pretty(value) {
    return el("pre", {class: "code", tabindex: "0"}, JSON.stringify(value, null, 2));
  }

  function when(timestamp) {
    if (!timestamp) return null;
    const date = new Date(timestamp);
    return el("time", {datetime: timestamp, title: timestamp},
      Number.isNaN(date.getTime()) ? timestamp : date.toLocaleString());
  }

  function money(amount) {
    if (typeof amount !== "number") return "—";
    return amount.toLocaleString(undefined, {style: "currency", currency: "USD", maximumFractionDigits: 0});
  }

  function shortHash(hash) {
    return hash ? el("span", {class: "mono", title: hash}, `${hash.slice(0, 12)}…`) : null;
  }

  const encode = encodeURIComponent;

  // ---- Talking to the API ------------------------------------------------------------------

  class ApiFailure extends Error {
    constructor(status, code, message, requestId) {
      super(message);
      this.status = status;
      this.code = code;
      this.requestId = requestId;
    }
  }

  async function request(method, path, options = {}) {
    const key = sessionStorage.getItem(KEY_STORAGE);
    const response = await fetch(path, {
      method,
      headers: {Authorization: `Bearer ${key || ""}`, Accept: options.text ? "*/*" : "application/json"},
      cache: "no-store",
      credentials: "omit",
      referrerPolicy: "no-referrer",
    });
    const text = await response.text();
    if (!response.ok) {
      let code = null;
      let message = `${response.status} ${response.statusText}`;
      try {
        const envelope = JSON.parse(text).error;
        code = envelope.code;
        message = envelope.message;
      } catch (ignored) { /* not the error envelope: keep the status line */ }
      const failure = new ApiFailure(response.status, code, message, response.headers.get("X-Request-Id"));
      if (response.status === 401 && !options.signingIn) signOut(failure);
      throw failure;
    }
    return options.text ? text : JSON.parse(text);
  }

  const get = (path, options) => request("GET", path, options);
  const post = (path) => request("POST", path);

  // ---- Sign-in -------------------------------------------------------------------------------

  function showIdentity(me) {
    document.getElementById("organization").textContent = me ? me.organization : "";
    const envBadge = document.getElementById("environment-badge");
    envBadge.textContent = me ? me.environment : "";
    envBadge.className = `badge environment ${me ? me.environment.replace(/[^a-z0-9_-]/gi, "") : ""}`;
    document.getElementById("identity").hidden = !me;
    document.getElementById("sections").hidden = !me;
  }

  let signedIn = null;

  function signOut(reason) {
    sessionStorage.removeItem(KEY_STORAGE);
    signedIn = null;
    showIdentity(null);
    renderSignIn(reason);
  }

  function renderSignIn(reason) {
    const input = el("input", {type: "password", id: "api-key", name: "api-key", autocomplete: "off",
      spellcheck: "false", required: true, placeholder: "nx_test_…", "aria-describedby": "key-help"});
    const message = el("div", {id: "sign-in-message", "aria-live": "polite"},
      reason ? errorPanel(reason.status === 401
        ? {message: "That API key was not accepted. Check it and sign in again.", code: reason.code, status: 401}
        : reason) : null);
    const submit = el("button", {type: "submit", class: "button", id: "sign-in-button"}, "Sign in");
    const form = el("form", {onsubmit: async (event) => {
      event.preventDefault();
      submit.disabled = true;
      sessionStorage.setItem(KEY_STORAGE, input.value.trim());
      try {
        await loadIdentity();
        if (!location.hash || location.hash === "#/" || location.hash === "#/sign-in") location.hash = "#/engines";
        else route();
      } catch (failure) {
        sessionStorage.removeItem(KEY_STORAGE);
        message.replaceChildren(errorPanel(failure.status === 401
          ? {message: "That API key was not accepted. Check it and sign in again.", code: failure.code, status: 401}
          : failure));
        submit.disabled = false;
        input.focus();
      }
    }},
    el("label", {class: "field", for: "api-key"}, "API key"),
    input,
    el("p", {id: "key-help", class: "muted"},
      "The key stays in this browser tab's session storage and is sent only to this server, as a bearer token. " +
      "Create one with enginectl keys create."),
    submit);
    show(el("section", {class: "sign-in panel"}, heading("Sign in"), message, form));
    input.focus();
  }

  async function loadIdentity() {
    signedIn = await get("/api/v1/me", {signingIn: true});
    showIdentity(signedIn);
  }

  // ---- Engines -------------------------------------------------------------------------------

  async function enginesPage() {
    const view = renderer();
    const engines = (await get("/api/v1/engines")).data;
    const releases = await Promise.all(engines.map((engine) =>
      get(`/api/v1/engines/${encode(engine.slug)}/versions`).then((answer) => answer.data, () => null)));
    const rows = engines.map((engine, i) => {
      const versions = releases[i];
      return el("tr", {},
        el("td", {}, el("a", {href: `#/engines/${encode(engine.slug)}`}, engine.slug)),
        el("td", {}, engine.label, engine.description ? el("div", {class: "muted"}, engine.description) : null),
        el("td", {class: "mono"}, engine.engine_type),
        el("td", {}, statusBadge(engine.status), engine.built_in ? [" ", badge("built-in", "")] : null),
        el("td", {}, versions === null ? "—" : versions.length === 0 ? el("span", {class: "muted"}, "none released")
          : el("a", {href: `#/engines/${encode(engine.slug)}/versions`}, `${versions[0].version}`,
            el("span", {class: "muted"}, ` (${versions.length} release${versions.length === 1 ? "" : "s"})`))),
        el("td", {}, el("a", {href: `#/engines/${encode(engine.slug)}/contract`}, "Contract"), " · ",
          el("a", {href: `#/runs?engine=${encode(engine.slug)}`}, "Runs")));
    });
    view(heading("Engines", "The engines this key's organisation can run: the built-in ones and its own."),
      engines.length ? table(["Slug", "Label", "Type", "Status", "Newest release", "Open"], rows, {label: "Engines"})
        : empty("No engines are available to this key."));
  }

  async function enginePage(slug) {
    const view = renderer();
    const [engine, config, versions] = await Promise.all([
      get(`/api/v1/engines/${encode(slug)}`),
      get(`/api/v1/engines/${encode(slug)}/config`),
      get(`/api/v1/engines/${encode(slug)}/versions`),
    ]);
    const current = config.config || {};
    const dimensions = Array.isArray(current.scoring_dimensions) ? current.scoring_dimensions : [];
    const profiles = Array.isArray(current.appetite_weight_profiles) ? current.appetite_weight_profiles : [];
    view(heading(engine.label || engine.slug, engine.description, [{text: "Engines", href: "#/engines"}, {text: engine.slug}]),
      el("div", {class: "toolbar"},
        el("a", {class: "button", href: `#/engines/${encode(slug)}/contract`}, "Contract"),
        el("a", {class: "button secondary", href: `#/engines/${encode(slug)}/versions`}, "Versions"),
        el("a", {class: "button secondary", href: `#/runs?engine=${encode(slug)}`}, "Runs")),
      el("section", {class: "panel"}, facts([
        ["Slug", el("span", {class: "mono"}, engine.slug)],
        ["Type", el("span", {class: "mono"}, engine.engine_type)],
        ["Status", statusBadge(engine.status)],
        ["Newest release", versions.data.length ? versions.data[0].version : null],
        ["Configuration hash", shortHash(config.config_hash)],
        ["Configuration updated", when(config.config_updated_at)],
        ["Updated by", config.config_updated_by],
        ["Default appetite bucket", current.default_appetite_bucket],
      ])),
      el("h2", {}, "Scoring dimensions"),
      dimensions.length ? table(["Dimension", "Label", "Enabled"], dimensions.map((dimension) => el("tr", {},
        el("td", {class: "mono"}, dimension.key || dimension.id || dimension.name || ""),
        el("td", {}, dimension.label || ""),
        el("td", {}, dimension.enabled === false ? "no" : "yes"))), {label: "Scoring dimensions"})
        : empty("This configuration names no scoring dimensions."),
      el("h2", {}, "Appetite weight profiles"),
      profiles.length ? table(["Bucket", "Weights"], profiles.map((profile) => el("tr", {},
        el("td", {class: "mono"}, profile.bucket || profile.name || profile.key || ""),
        el("td", {}, Object.entries(profile.weights || {}).map(([name, weight]) => `${name} ${weight}`).join(" · ")))),
      {label: "Appetite weight profiles"}) : empty("This configuration has no weight profiles."));
  }

  // ---- Contract ------------------------------------------------------------------------------

  // The request schema as rows: one per property, depth first, following local $refs.
  function schemaFields(schema) {
    const rows = [];
    const resolve = (node) => {
      let current = node;
      for (let hops = 0; current && typeof current.$ref === "string" && current.$ref.startsWith("#/") && hops < 32; ++hops) {
        current = current.$ref.slice(2).split("/").reduce((at, part) =>
          at === undefined ? undefined : at[part.replace(/~1/g, "/").replace(/~0/g, "~")], schema);
      }
      return current || {};
    };
    const typeOf = (node) => {
      if (node.type) return Array.isArray(node.type) ? node.type.join(" | ") : node.type;
      if (node.enum) return "enum";
      if (node.oneOf || node.anyOf) return (node.oneOf || node.anyOf).map((option) => typeOf(resolve(option))).join(" | ");
      return "any";
    };
    // `ancestors`: the schemas on the way here; a schema met again is a recursive one, shown once.
    const visit = (node, path, required, ancestors) => {
      const resolved = resolve(node);
      const recursive = ancestors.has(resolved);
      if (path) {
        rows.push({path, type: recursive ? `${typeOf(resolved)} (recursive)` : typeOf(resolved), required,
          enumeration: resolved.enum, description: resolved.description,
          example: resolved.examples ? resolved.examples[0] : resolved.example !== undefined ? resolved.example : resolved.default});
      }
      if (recursive || rows.length > 2000) return;
      const inner = new Set(ancestors).add(resolved);
      const properties = Object.assign({}, ...[resolved, ...(resolved.allOf || []).map(resolve)].map((part) => part.properties || {}));
      const requiredNames = new Set([resolved, ...(resolved.allOf || []).map(resolve)].flatMap((part) => part.required || []));
      for (const [name, child] of Object.entries(properties)) visit(child, path ? `${path}.${name}` : name, requiredNames.has(name), inner);
      if (resolved.items && typeof resolved.items === "object" && !Array.isArray(resolved.items)) {
        visit(resolved.items, `${path}[]`, false, inner);
      }
    };
    visit(schema || {}, "", false, new Set());
    return rows.filter((row) => !row.path.endsWith("[]") || row.type !== "any");
  }

  function exampleText(value) {
    if (value === undefined || value === null) return null;
    return el("code", {}, typeof value === "string" ? value : JSON.stringify(value));
  }

  async function contractPage(slug, params) {
    const view = renderer();
    const version = params.get("version") || "";
    const query = version ? `?engine_version=${encode(version)}` : "";
    const [contract, versions, guide] = await Promise.all([
      get(`/api/v1/engines/${encode(slug)}/contract${query}`),
      get(`/api/v1/engines/${encode(slug)}/versions`),
      get(`/api/v1/engines/${encode(slug)}/contract.md${query}`, {text: true}),
    ]);
    const confirmation = el("span", {class: "confirmation", id: "copy-confirmation", role: "status", "aria-live": "polite"});
    const copyButton = el("button", {type: "button", class: "button", id: "copy-for-agents", onclick: async () => {
      try {
        await navigator.clipboard.writeText(guide);
        confirmation.className = "confirmation";
        confirmation.textContent = `Copied contract.md (${guide.length.toLocaleString()} characters) — paste it into your agent's context.`;
      } catch (failure) {
        confirmation.className = "confirmation failure";
        confirmation.textContent = `The browser refused the clipboard (${failure.message}). Use "Download contract.md" instead.`;
      }
    }}, "Copy for agents");
    const download = (name, text, type) => () => {
      const link = el("a", {href: URL.createObjectURL(new Blob([text], {type})), download: name});
      document.body.append(link);
      link.click();
      link.remove();
      setTimeout(() => URL.revokeObjectURL(link.href), 10000);
    };
    const openApiButton = el("button", {type: "button", class: "button secondary", id: "download-openapi", onclick: async () => {
      try {
        const openapi = await get("/api/v1/openapi.json", {text: true});
        download("openapi.json", openapi, "application/json")();
      } catch (failure) {
        confirmation.className = "confirmation failure";
        confirmation.textContent = failure.message;
      }
    }}, "Download OpenAPI");
    const guideButton = el("button", {type: "button", class: "button secondary", onclick: download(`${slug}-contract.md`, guide, "text/markdown")},
      "Download contract.md");
    const picker = el("select", {id: "contract-version", onchange: (event) => {
      location.hash = `#/engines/${encode(slug)}/contract${event.target.value ? `?version=${encode(event.target.value)}` : ""}`;
    }}, el("option", {value: ""}, "Current configuration"),
    versions.data.map((release) => el("option", {value: release.version, selected: release.version === version},
      `${release.version} (${release.bump})`)));
    const fields = schemaFields(contract.request_schema);
    view(heading(`Contract of ${slug}`, "What a request to this engine must look like, and a guide to hand to a coding agent.",
      [{text: "Engines", href: "#/engines"}, {text: slug, href: `#/engines/${encode(slug)}`}, {text: "Contract"}]),
    el("div", {class: "toolbar"},
      el("label", {for: "contract-version"}, "Version", picker),
      copyButton, guideButton, openApiButton, confirmation),
    contract.engine_version
      ? el("p", {class: "muted"}, "Submit with ", el("code", {}, `"engine_version": "${contract.engine_version}"`), " to keep this contract.")
      : el("p", {class: "muted"}, "Runs submitted without ", el("code", {}, "engine_version"),
        " use this, the current configuration; pin a release to keep a contract."),
    el("h2", {}, "Request fields"),
    fields.length ? table(["Path", "Type", "Required", "Allowed values", "Description", "Example"], fields.map((field) => el("tr", {},
      el("td", {class: "mono wrap-anywhere"}, field.path),
      el("td", {class: "mono"}, field.type),
      el("td", {}, field.required ? "required" : el("span", {class: "muted"}, "optional")),
      el("td", {class: "mono"}, field.enumeration ? field.enumeration.map((value) => JSON.stringify(value)).join(", ") : ""),
      el("td", {}, field.description || ""),
      el("td", {}, exampleText(field.example)))), {label: "Request fields"})
      : empty("The request schema declares no fields."),
    el("h2", {}, "Example request"),
    contract.example_request ? pretty(contract.example_request) : empty("This configuration has no example request."));
  }

  // ---- Versions ------------------------------------------------------------------------------

  // Longest common subsequence over lines: the rows of a side-by-side diff.
  function lineDiff(left, right) {
    const a = left.split("\n");
    const b = right.split("\n");
    if (a.length * b.length > 4_000_000) {
      return {rows: [{left: "(too long to compare line by line)", right: "", kind: "changed"}], changes: 1};
    }
    const lcs = Array.from({length: a.length + 1}, () => new Uint32Array(b.length + 1));
    for (let i = a.length - 1; i >= 0; --i) {
      for (let j = b.length - 1; j >= 0; --j) {
        lcs[i][j] = a[i] === b[j] ? lcs[i + 1][j + 1] + 1 : Math.max(lcs[i + 1][j], lcs[i][j + 1]);
      }
    }
    const rows = [];
    let changes = 0;
    let i = 0;
    let j = 0;
    while (i < a.length || j < b.length) {
      if (i < a.length && j < b.length && a[i] === b[j]) {
        rows.push({left: a[i++], right: b[j++], kind: "same"});
      } else if (j < b.length && (i === a.length || lcs[i][j + 1] >= lcs[i + 1][j])) {
        rows.push({left: null, right: b[j++], kind: "added"});
        ++changes;
      } else {
        rows.push({left: a[i++], right: null, kind: "removed"});
        ++changes;
      }
    }
    return {rows, changes};
  }

  function sideBySide(title, left, right, leftName, rightName) {
    const {rows, changes} = lineDiff(left, right);
    const grid = el("div", {class: "diff", tabindex: "0", role: "group", "aria-label": `${title}: ${leftName} against ${rightName}`},
      el("div", {class: "diff-head"}, leftName), el("div", {class: "diff-head"}, rightName));
    for (const row of rows) {
      grid.append(
        el("div", {class: `diff-line ${row.left === null ? "blank" : row.kind === "removed" ? "removed" : ""}`}, row.left ?? ""),
        el("div", {class: `diff-line ${row.right === null ? "blank" : row.kind === "added" ? "added" : ""}`}, row.right ?? ""));
    }
    return el("section", {},
      el("h3", {}, title, " ", el("span", {class: "diff-summary"}, changes ? `${changes} changed line${changes === 1 ? "" : "s"}` : "identical")),
      grid);
  }

  async function versionsPage(slug, params) {
    const view = renderer();
    const versions = (await get(`/api/v1/engines/${encode(slug)}/versions`)).data;
    const crumbs = [{text: "Engines", href: "#/engines"}, {text: slug, href: `#/engines/${encode(slug)}`}, {text: "Versions"}];
    if (!versions.length) {
      view(heading(`Versions of ${slug}`, null, crumbs),
        empty("No release yet. Publish the current configuration with POST /api/v1/engines/{slug}/versions to make 1.0."));
      return;
    }
    const rows = versions.map((release) => el("tr", {},
      el("td", {class: "mono"}, release.version),
      el("td", {}, badge(release.bump, `bump-${release.bump}`)),
      el("td", {}, when(release.released_at)),
      el("td", {}, release.changelog || el("span", {class: "muted"}, "—")),
      el("td", {}, (release.reasons || []).length
        ? el("ul", {class: "reasons"}, release.reasons.map((reason) =>
          el("li", {}, reason.message, reason.pointer ? el("span", {class: "muted mono"}, ` ${reason.pointer}`) : null)))
        : el("span", {class: "muted"}, release.bump === "initial" ? "first release" : "no breaking change"))));
    const from = params.get("from") || (versions[1] || versions[0]).version;
    const to = params.get("to") || versions[0].version;
    const picker = (id, label, selected) => el("label", {for: id}, label,
      el("select", {id}, versions.map((release) => el("option", {value: release.version, selected: release.version === selected}, release.version))));
    const compare = el("form", {class: "toolbar", onsubmit: (event) => {
      event.preventDefault();
      location.hash = `#/engines/${encode(slug)}/versions?from=${encode(compare.querySelector("#diff-from").value)}` +
        `&to=${encode(compare.querySelector("#diff-to").value)}`;
    }}, picker("diff-from", "Compare", from), picker("diff-to", "with", to), el("button", {type: "submit", class: "button"}, "Show differences"));
    const diffArea = el("div", {id: "version-diff"}, el("p", {class: "muted"}, "Loading the two releases…"));
    view(heading(`Versions of ${slug}`, "Each release and why the comparator numbered it as it did.", crumbs),
      table(["Version", "Bump", "Released", "Changelog", "Comparator's reasons"], rows, {label: "Releases"}),
      el("h2", {}, "Side-by-side"), compare, diffArea);
    const [a, b] = await Promise.all([from, to].map((version) => get(`/api/v1/engines/${encode(slug)}/versions/${encode(version)}`)));
    const part = (release, pick) => {
      const value = pick(release.config || {});
      return typeof value === "string" ? value : JSON.stringify(value ?? null, null, 2);
    };
    const sections = [
      ["Request schema", (config) => config.request_schema],
      ["Response schema", (config) => config.response_schema],
      ["Weights", (config) => ({scoring_dimensions: config.scoring_dimensions, appetite_weight_profiles: config.appetite_weight_profiles,
        default_appetite_bucket: config.default_appetite_bucket})],
      ["Lua scorecard", (config) => config.lua_source || ""],
    ];
    diffArea.replaceChildren(...sections.map(([title, pick]) => sideBySide(title, part(a, pick), part(b, pick), a.version, b.version)));
  }

  // ---- Runs ----------------------------------------------------------------------------------

  const STATUSES = ["queued", "processing", "completed", "degraded", "failed"];

  function runSummary(run) {
    if (run.error) return el("span", {}, el("span", {class: "mono"}, run.error.code), " ", run.error.message);
    if (Array.isArray(run.solutions) && run.solutions.length) {
      const top = run.solutions[0];
      return [top.providers ? top.providers.join(" + ") : "", " ", el("span", {class: "muted"}, money(top.est_cost_low))];
    }
    if (Array.isArray(run.candidates) && run.candidates.length) {
      return [run.candidates[0].name || run.candidates[0].carrier_id, " ", el("span", {class: "muted"}, run.candidates[0].tier || "")];
    }
    if (run.output && run.output.diagnostic) return el("span", {class: "muted"}, run.output.diagnostic);
    return el("span", {class: "muted"}, "—");
  }

  async function runsPage(params) {
    const view = renderer();
    const engines = (await get("/api/v1/engines")).data;
    if (!engines.length) {
      view(heading("Runs"), empty("No engines are available to this key."));
      return;
    }
    const slug = params.get("engine") || engines[0].slug;
    const status = params.get("status") || "";
    const version = params.get("version") || "";
    const cursor = params.get("cursor") || "";
    const query = new URLSearchParams({limit: "25"});
    if (status) query.set("status", status);
    if (version) query.set("engine_version", version);
    if (cursor) query.set("cursor", cursor);
    const [page, versions] = await Promise.all([
      get(`/api/v1/engines/${encode(slug)}/runs?${query}`),
      get(`/api/v1/engines/${encode(slug)}/versions`).then((answer) => answer.data, () => []),
    ]);
    const link = (changes) => {
      const next = new URLSearchParams({engine: slug});
      if (status) next.set("status", status);
      if (version) next.set("version", version);
      for (const [name, value] of Object.entries(changes)) {
        if (value) next.set(name, value); else next.delete(name);
      }
      return `#/runs?${next}`;
    };
    const filter = (id, label, name, options, selected) => el("label", {for: id}, label,
      el("select", {id, onchange: (event) => { location.hash = link({[name]: event.target.value, cursor: ""}); }},
        options.map(([value, text]) => el("option", {value, selected: value === selected}, text))));
    const rows = page.data.map((run) => el("tr", {},
      el("td", {}, el("a", {href: `#/runs/${encode(run.run_id)}`, class: "mono"}, run.run_id)),
      el("td", {}, statusBadge(run.status)),
      el("td", {class: "mono"}, run.engine_version || el("span", {class: "muted"}, "current")),
      el("td", {}, when(run.created_at)),
      el("td", {class: "number"}, typeof run.duration_ms === "number" ? `${run.duration_ms} ms` : "—"),
      el("td", {}, runSummary(run))));
    view(heading("Runs", "Newest first. Only the runs of this key's organisation and environment are listed."),
      el("div", {class: "toolbar"},
        filter("runs-engine", "Engine", "engine", engines.map((engine) => [engine.slug, engine.slug]), slug),
        filter("runs-status", "Status", "status", [["", "Any status"], ...STATUSES.map((name) => [name, name])], status),
        filter("runs-version", "Version", "version", [["", "Any version"], ...versions.map((release) => [release.version, release.version])], version)),
      page.data.length ? table(["Run", "Status", "Version", "Submitted", {text: "Duration", numeric: true}, "Top result"], rows, {label: "Runs"})
        : empty(cursor || status || version ? "No run matches these filters." : `No runs of ${slug} yet.`,
          el("p", {class: "muted"}, `Submit one with POST /api/v1/engines/${slug}/runs.`)),
      el("div", {class: "toolbar"},
        cursor ? el("a", {class: "button secondary", href: link({cursor: ""})}, "Newest") : null,
        page.has_more ? el("a", {class: "button secondary", id: "next-page", href: link({cursor: page.next_cursor})}, "Older runs") : null));
  }

  // A level: 1.0 is best, 4.0 worst (the platform scale); "L2" reads as 2.
  function levelNumber(level) {
    if (typeof level === "number") return level;
    const match = /^L?(\d+(?:\.\d+)?)$/i.exec(String(level));
    return match ? Number(match[1]) : null;
  }

  // `compact`: inside a table cell, where the bar gets a fixed width.
  function scorecardChart(dimensions, compact) {
    const chart = el("div", {class: compact ? "chart compact" : "chart", "aria-label": "Scorecard"});
    for (const [name, dimension] of Object.entries(dimensions || {})) {
      const info = typeof dimension === "object" && dimension !== null ? dimension : {level: dimension};
      const level = levelNumber(info.level);
      const fill = el("span");
      const goodness = level === null ? 0 : Math.max(0.04, Math.min(1, (4 - level) / 3));
      fill.style.width = `${Math.round(goodness * 100)}%`;
      const grade = level === null ? "" : level <= 1.75 ? "level-good" : level <= 2.75 ? "level-fair" : "level-poor";
      chart.append(
        el("span", {}, info.label || name, info.weight !== undefined ? el("span", {class: "muted"}, ` ×${info.weight}`) : null),
        el("div", {class: `bar ${grade}`, "aria-hidden": "true"}, fill),
        el("span", {class: "mono"}, info.level === undefined ? "—" : String(info.level)),
        info.reason ? el("p", {class: "reason"}, info.reason) : null);
    }
    return chart;
  }

  function solutionCard(solution) {
    const lines = (solution.offerings || []).map((offering) =>
      el("li", {}, el("strong", {}, offering.category || "line"), ": ", offering.provider_name || offering.provider_id || offering.id,
        offering.attributes && typeof offering.attributes.line_premium_annual === "number"
          ? el("span", {class: "muted"}, ` ${money(offering.attributes.line_premium_annual)}/yr`) : null));
    const cost = solution.est_cost_low === solution.est_cost_high ? money(solution.est_cost_low)
      : `${money(solution.est_cost_low)} – ${money(solution.est_cost_high)}`;
    const scorecard = solution.scorecard || {};
    return el("article", {class: "solution", "aria-label": `Rank ${solution.rank}`},
      el("div", {class: "solution-head"},
        el("span", {class: "rank"}, `#${solution.rank}`),
        solution.cluster_label ? badge(solution.cluster_label, "status-active") : null,
        el("span", {class: "providers"}, (solution.providers || []).join(" + ")),
        el("span", {class: "cost"}, cost, el("span", {class: "muted"}, " /yr")),
        el("span", {}, "overall level ", el("strong", {class: "mono"}, scorecard.overall_level ?? "—"))),
      lines.length ? el("ul", {class: "lines"}, lines) : null,
      scorecardChart(scorecard.dimensions));
  }

  const TIER_BADGES = {STRONG_FIT: "status-completed", GOOD_FIT: "status-completed", MODERATE_FIT: "status-degraded",
    WEAK_FIT: "status-failed"};

  function candidateRows(candidates) {
    return table(["Rank", "Carrier", "Tier", "Confidence", "L-scores", "Reasoning"], candidates.map((candidate) => el("tr", {},
      el("td", {class: "number"}, candidate.rank),
      el("td", {}, candidate.name || candidate.carrier_id, el("div", {class: "muted mono"}, candidate.carrier_id || "")),
      el("td", {}, candidate.tier ? badge(candidate.tier, TIER_BADGES[candidate.tier] || "") : "—"),
      el("td", {}, candidate.confidence || "—"),
      el("td", {}, scorecardChart(candidate.scores, true)),
      el("td", {}, candidate.reasoning || ""))), {label: "Candidates"});
  }

  function timeline(events) {
    const stages = (events || []).filter((event) => typeof event.duration_ms === "number");
    const total = Math.max(1, ...stages.map((event) => event.ended_ms));
    const validate = (events || []).find((event) => event.stage === "VALIDATE");
    return el("div", {class: "timeline panel"},
      validate ? el("p", {class: "muted"}, "VALIDATE ", when(validate.at), ": ", validate.detail) : null,
      stages.map((event) => {
        const bar = el("span");
        bar.style.left = `${(event.started_ms / total) * 100}%`;
        bar.style.width = `${(event.duration_ms / total) * 100}%`;
        return el("div", {class: "timeline-row"},
          el("span", {class: "mono"}, event.stage),
          el("div", {class: "timeline-track", "aria-hidden": "true"}, bar),
          el("span", {class: "number"}, `${event.duration_ms} ms · ${event.events} ev`));
      }),
      stages.length ? null : el("p", {class: "muted"}, "No stage ran (the run has not executed, or failed before its engine started)."));
  }

  function droppedTable(dropped) {
    if (!dropped || !dropped.length) return empty("Nothing was left out.");
    return table(["Stage", "What", "Reason"], dropped.map((entry) => {
      const what = Object.entries(entry).filter(([name]) => name !== "reason" && name !== "stage")
        .map(([name, value]) => `${name}: ${typeof value === "string" ? value : JSON.stringify(value)}`).join(" · ");
      return el("tr", {}, el("td", {class: "mono"}, entry.stage || ""), el("td", {class: "wrap-anywhere"}, what),
        el("td", {class: "mono"}, typeof entry.reason === "string" ? entry.reason : JSON.stringify(entry.reason)));
    }), {label: "Dropped"});
  }

  async function runPage(runId) {
    const view = renderer();
    const [run, packet] = await Promise.all([
      get(`/api/v1/runs/${encode(runId)}`),
      get(`/api/v1/runs/${encode(runId)}/defensibility-packet`),
    ]);
    const replayResult = el("span", {id: "replay-result", role: "status", "aria-live": "polite"});
    const replayButton = el("button", {type: "button", class: "button secondary", id: "replay", onclick: async () => {
      replayButton.disabled = true;
      replayResult.replaceChildren("Replaying…");
      try {
        const report = await post(`/api/v1/runs/${encode(runId)}/replay`);
        replayResult.replaceChildren(report.identical
          ? el("span", {class: "confirmation"}, "Identical: the replay produced the same bytes.")
          : el("span", {class: "confirmation failure"}, "Differs", report.first_difference ? ` at ${report.first_difference}` : "",
            report.replay_fingerprint !== report.fingerprint ? " (the fingerprint changed too)" : ""));
      } catch (failure) {
        replayResult.replaceChildren(el("span", {class: "confirmation failure"}, failure.message));
      } finally {
        replayButton.disabled = false;
      }
    }}, "Replay");
    const terminal = ["completed", "degraded", "failed"].includes(run.status);
    view(heading(`Run ${run.run_id}`, null, [{text: "Runs", href: `#/runs?engine=${encode(run.engine)}`}, {text: run.run_id}]),
      el("section", {class: "panel"}, facts([
        ["Status", statusBadge(run.status)],
        ["Engine", el("a", {href: `#/engines/${encode(run.engine)}`}, run.engine)],
        ["Version", run.engine_version || "current configuration"],
        ["Pin", run.engine_version_pin],
        ["Stage", run.stage],
        ["Submitted", when(run.created_at)],
        ["Completed", when(run.completed_at)],
        ["Duration", typeof run.duration_ms === "number" ? `${run.duration_ms} ms` : null],
        ["Fingerprint", run.fingerprint ? el("span", {class: "mono wrap-anywhere", id: "fingerprint"}, run.fingerprint) : null],
      ]),
      el("div", {class: "toolbar"}, terminal ? replayButton : null, replayResult)),
      run.error ? errorPanel({code: run.error.code, message: run.error.message}) : null,
      run.output && run.output.degradation_reason ? el("div", {class: "panel"}, el("strong", {}, "Degraded: "), run.output.degradation_reason) : null,
      Array.isArray(run.solutions) ? [el("h2", {}, `Ranked solutions (${run.solutions.length})`),
        run.solutions.length ? el("div", {class: "solutions"}, run.solutions.map(solutionCard))
          : empty(run.output && run.output.diagnostic ? `No solution: ${run.output.diagnostic}` : "No solution.")] : null,
      Array.isArray(run.candidates) ? [el("h2", {}, `Candidates (${run.candidates.length})`),
        run.candidates.length ? candidateRows(run.candidates) : empty("No candidate.")] : null,
      !terminal ? empty(`This run is ${run.status}; reload to see its result.`) : null,
      el("h2", {}, "Stage timeline"), timeline(packet.events),
      el("h2", {}, "Left out, and why"), droppedTable(packet.provenance && packet.provenance.dropped),
      el("h2", {}, "Output"), pretty(run.output));
  }

  // ---- Webhooks ------------------------------------------------------------------------------

  async function webhooksPage() {
    const view = renderer();
    const endpoints = (await get("/api/v1/webhooks")).data;
    view(heading("Webhooks", "Endpoints that receive this environment's run events."),
      endpoints.length ? table(["Endpoint", "Events", "State", "Failures", "Created"], endpoints.map((endpoint) => el("tr", {},
        el("td", {class: "wrap-anywhere"}, el("a", {href: `#/webhooks/${encode(endpoint.id)}`}, endpoint.url),
          endpoint.description ? el("div", {class: "muted"}, endpoint.description) : null),
        el("td", {class: "mono"}, (endpoint.events || []).join(", ")),
        el("td", {}, statusBadge(endpoint.active ? "active" : "disabled"),
          endpoint.disabled_reason ? el("div", {class: "muted"}, endpoint.disabled_reason) : null),
        el("td", {class: "number"}, endpoint.consecutive_failures ?? 0),
        el("td", {}, when(endpoint.created_at)))), {label: "Webhook endpoints"})
        : empty("No webhook endpoint yet.", el("p", {class: "muted"}, "Register one with POST /api/v1/webhooks.")));
  }

  async function webhookPage(webhookId) {
    const view = renderer();
    const [endpoint, deliveries] = await Promise.all([
      get(`/api/v1/webhooks/${encode(webhookId)}`),
      get(`/api/v1/webhooks/${encode(webhookId)}/deliveries`),
    ]);
    const outcome = el("p", {id: "resend-result", role: "status", "aria-live": "polite"});
    const rows = deliveries.data.map((delivery) => el("tr", {},
      el("td", {class: "mono"}, delivery.event_type, el("div", {class: "muted"}, delivery.id)),
      el("td", {}, delivery.run_id ? el("a", {href: `#/runs/${encode(delivery.run_id)}`, class: "mono"}, delivery.run_id) : "—"),
      el("td", {}, statusBadge(delivery.status)),
      el("td", {}, (delivery.attempts || []).map((attempt) =>
        el("div", {class: "mono"}, `#${attempt.attempt} `, attempt.status_code ?? attempt.error ?? "no answer", " ",
          el("span", {class: "muted"}, when(attempt.started_at), typeof attempt.duration_ms === "number" ? ` · ${attempt.duration_ms} ms` : ""))),
      (delivery.attempts || []).length ? null : `${delivery.attempt_count} attempt(s), last ${delivery.last_status_code ?? delivery.last_error ?? "—"}`),
      el("td", {}, when(delivery.created_at)),
      el("td", {}, el("button", {type: "button", class: "button secondary", onclick: async (event) => {
        event.target.disabled = true;
        try {
          await post(`/api/v1/webhooks/${encode(webhookId)}/deliveries/${encode(delivery.id)}/retry`);
          outcome.textContent = `Delivery ${delivery.id} is queued to be sent again.`;
        } catch (failure) {
          outcome.textContent = `Re-send refused: ${failure.message}`;
        } finally {
          event.target.disabled = false;
        }
      }}, "Re-send"))));
    view(heading(endpoint.url, endpoint.description, [{text: "Webhooks", href: "#/webhooks"}, {text: endpoint.id}]),
      el("section", {class: "panel"}, facts([
        ["Events", (endpoint.events || []).join(", ")],
        ["State", statusBadge(endpoint.active ? "active" : "disabled")],
        ["Disabled because", endpoint.disabled_reason],
        ["Consecutive failures", String(endpoint.consecutive_failures ?? 0)],
      ])),
      el("h2", {}, "Recent deliveries"), outcome,
      rows.length ? table(["Event", "Run", "Status", "Attempts", "Created", ""], rows, {label: "Deliveries"})
        : empty("Nothing was sent to this endpoint yet."));
  }

  // ---- Pools ---------------------------------------------------------------------------------

  async function poolsPage() {
    const view = renderer();
    const pools = (await get("/api/v1/pools")).data;
    view(heading("Pools", "Carrier pools of this organisation (both environments see them); each run keeps the snapshot it used."),
      pools.length ? table(["Pool", {text: "Carriers", numeric: true}, "Snapshot", "Imported from", "Imported"], pools.map((pool) => el("tr", {},
        el("td", {class: "mono"}, pool.name),
        el("td", {class: "number"}, Number(pool.carrier_count).toLocaleString()),
        el("td", {}, shortHash(pool.snapshot)),
        el("td", {}, pool.source || "—"),
        el("td", {}, when(pool.imported_at)))), {label: "Pools"})
        : empty("No carrier pool yet.", el("p", {class: "muted"}, "Import one with enginectl pools import.")));
  }

  // ---- Routing -------------------------------------------------------------------------------

  const routes = [
    [/^engines$/, () => ["engines", enginesPage()]],
    [/^engines\/([^/]+)$/, (slug) => ["engines", enginePage(slug)]],
    [/^engines\/([^/]+)\/contract$/, (slug, params) => ["engines", contractPage(slug, params)]],
    [/^engines\/([^/]+)\/versions$/, (slug, params) => ["engines", versionsPage(slug, params)]],
    [/^runs$/, (params) => ["runs", runsPage(params)]],
    [/^runs\/([^/]+)$/, (id) => ["runs", runPage(id)]],
    [/^webhooks$/, () => ["webhooks", webhooksPage()]],
    [/^webhooks\/([^/]+)$/, (id) => ["webhooks", webhookPage(id)]],
    [/^pools$/, () => ["pools", poolsPage()]],
  ];

  async function route() {
    if (!sessionStorage.getItem(KEY_STORAGE)) {
      renderSignIn(null);
      return;
    }
    if (!signedIn) {
      try {
        await loadIdentity();
      } catch (failure) {
        if (failure.status !== 401) show(errorPanel(failure));
        return;
      }
    }
    const hash = location.hash.replace(/^#\/?/, "") || "engines";
    const [path, query] = hash.split("?");
    const params = new URLSearchParams(query || "");
    const current = ++navigation;
    show(el("p", {class: "loading", role: "status"}, "Loading…"));
    for (const [pattern, page] of routes) {
      const match = pattern.exec(path);
      if (!match) continue;
      const captured = match.slice(1).map(decodeURIComponent);
      const [section, rendered] = page(...captured, params);
      for (const link of document.querySelectorAll("#sections a")) {
        if (link.dataset.section === section) link.setAttribute("aria-current", "page");
        else link.removeAttribute("aria-current");
      }
      try {
        await rendered;
      } catch (failure) {
        if (current === navigation && failure.status !== 401) show(heading("Could not load this page"), errorPanel(failure));
      }
      if (current === navigation) main.focus({preventScroll: true});
      return;
    }
    show(heading("Not found"), empty("The console has no such page.", el("a", {href: "#/engines"}, "Go to the engines")));
  }

  // The skip link moves focus without touching the fragment, which holds the page's route.
  document.querySelector(".skip-link").addEventListener("click", (event) => {
    event.preventDefault();
    main.focus();
  });
  document.getElementById("sign-out").addEventListener("click", () => {
    signOut(null);
    location.hash = "#/";
  });
  window.addEventListener("hashchange", route);
  route();
})();
