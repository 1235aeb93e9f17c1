// Baton inbox: my tasks and my queue, claim, claim next, release, complete, reassign, a task's
// page with its history, and (admins) the supervisor view with bulk actions.
// Plain JavaScript, no build step, no third-party code; it talks only to the API it is served by
// (and, in AWS, to the user pool's hosted UI to sign in). Every text from the API is put in the
// page as text, never as HTML.
//
// Lists keep their place: a change (from the event feed, a poll, or my own action) updates the
// rows it affects in place; the loaded pages, the scroll position and the focus stay. Rows that
// arrive are highlighted and counted ("3 new") until seen.
"use strict";

const PAGE = 50; // tasks per list page
const RELOAD_PAGE = 100; // page size when a list is read again up to what is loaded (the API's maximum)
const POLL_MS = 15000; // refresh period when the event feed is not there
const SETTLE_MS = 150; // events are gathered this long, then their tasks read once each
const $ = (id) => document.getElementById(id);
const LISTS = ["mine", "queue"];
// The filters the API serves (docs/data-model.md), kept in the URL: `q` the search (id, name,
// description), `due` a day (due by its end), `overdue`, `caseId`, `sort` (a list's order).
const FILTERS = ["q", "group", "priorityMin", "priorityMax", "due", "overdue", "caseId", "sort", "holder"];

const state = {
  token: null, // the bearer token: in memory; in AWS also in sessionStorage (this tab only)
  me: null, // the token's claims
  roles: [],
  cognito: null, // the hosted UI's URL and client id, when signed in through it
  users: new Map(), // user id -> user, for names and the reassign list
  groups: null, // my directory groups when known (the local demo directory says), else null
  learned: new Set(), // groups I am surely in, learned from my queue
  lists: { mine: newList(), queue: newList() },
  selected: null, // id of the task shown in the detail panel
  shown: null, // that task, as last read
  current: null, // id of the task the keyboard is on
  poll: null,
  feed: null,
  refreshing: null,
  pending: new Set(), // task ids changed by events, to read
  settle: null,
  since: null, // events older than this (server time) are in the lists already
  filters: {},
  demo: null,
  sup: { items: [], cursor: null, picked: new Set() },
};

function newList() {
  return { items: [], cursor: null, loaded: false, fresh: new Set() };
}

class ApiError extends Error {
  constructor(status, message) {
    super(message);
    this.status = status;
  }
}

// ---------------------------------------------------------------- helpers

function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (key === "class") node.className = value;
    else if (key === "dataset") Object.assign(node.dataset, value);
    else if (key.startsWith("on")) node.addEventListener(key.slice(2), value);
    else if (value !== undefined && value !== null && value !== false) node.setAttribute(key, value);
  }
  for (const child of children.flat()) {
    if (child !== null && child !== undefined) node.append(child instanceof Node ? child : String(child));
  }
  return node;
}

function flash(message, isError = false) {
  const node = $("flash");
  node.textContent = message || "";
  node.classList.toggle("error", Boolean(isError));
}

function claimsOf(token) {
  const part = token.split(".")[1] || "";
  const json = atob(part.replace(/-/g, "+").replace(/_/g, "/").padEnd(Math.ceil(part.length / 4) * 4, "="));
  return JSON.parse(decodeURIComponent(escape(json)));
}

// The roles as the API reads them: `baton:roles`, a JSON array (as a string, or an array).
function rolesOf(claims) {
  let roles = claims["baton:roles"];
  if (typeof roles === "string") {
    try {
      roles = JSON.parse(roles);
    } catch {
      roles = [];
    }
  }
  return Array.isArray(roles) ? roles.filter((r) => typeof r === "string") : [];
}

function messageOf(data, status) {
  if (data && typeof data === "object") {
    return data.message || (data.error && data.error.message) || data.errorKey || `HTTP ${status}`;
  }
  return (typeof data === "string" && data) || `HTTP ${status}`;
}

function b64url(bytes) {
  return btoa(String.fromCharCode(...bytes)).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

function nameOf(userId) {
  if (!userId) return "";
  const user = state.users.get(userId);
  const full = user && [user.firstname, user.lastname].filter(Boolean).join(" ");
  return full ? `${full} (${userId})` : userId;
}

function when(text) {
  if (!text) return "";
  const date = new Date(text);
  return Number.isNaN(date.getTime()) ? text
    : date.toLocaleString(undefined, { dateStyle: "medium", timeStyle: "short" });
}

const me = () => state.me && state.me.sub;
const isAdmin = () => state.roles.includes("admin");
// The groups I lead (my user's `leads`, once the directory is read): their supervisor view is mine.
const ledGroups = () => ((state.users && state.users.get(me())) || {}).leads || [];
const maySupervise = () => isAdmin() || ledGroups().length > 0;
const taskPath = (id, rest = "") => `api/v1/tasks/${encodeURIComponent(id)}${rest}`;
const typing = (node) => node && (node.isContentEditable || ["INPUT", "TEXTAREA", "SELECT"].includes(node.tagName));

// ---------------------------------------------------------------- the API

async function api(method, path, { body, version } = {}) {
  const headers = { Authorization: `Bearer ${state.token}` };
  if (body !== undefined) headers["Content-Type"] = "application/json";
  if (version !== undefined && version !== null) headers["If-Match"] = `"${version}"`;
  const response = await fetch(path, {
    method, headers, cache: "no-store", body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await response.text();
  let data = null;
  try {
    data = text ? JSON.parse(text) : null;
  } catch {
    data = text;
  }
  if (response.status === 401) {
    signOut("Your sign-in is no longer valid: sign in again.");
    throw new ApiError(401, "Unauthorized");
  }
  if (!response.ok) throw new ApiError(response.status, messageOf(data, response.status));
  return { status: response.status, data };
}

// ---------------------------------------------------------------- sign-in

async function demoDirectory() {
  try {
    const response = await fetch("local/demo-users", { cache: "no-store" });
    return response.ok ? await response.json() : null;
  } catch {
    return null;
  }
}

async function signInDemo(userId) {
  const response = await fetch("local/demo-token", {
    method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify({ user: userId }),
  });
  const data = await response.json().catch(() => null);
  if (!response.ok) throw new ApiError(response.status, messageOf(data, response.status));
  const params = new URLSearchParams(location.search);
  params.set("user", userId);
  history.replaceState(null, "", `${location.pathname}?${params}`.replace(/%2C/g, ","));
  return data.token;
}

function redirectUri() {
  return location.origin + location.pathname;
}

async function cognitoSignIn(cognito) {
  const verifier = b64url(crypto.getRandomValues(new Uint8Array(48)));
  const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(verifier));
  const nonce = b64url(crypto.getRandomValues(new Uint8Array(16)));
  sessionStorage.setItem("baton.pkce", JSON.stringify({ verifier, state: nonce }));
  const query = new URLSearchParams({
    response_type: "code", client_id: cognito.clientId, redirect_uri: redirectUri(),
    scope: "openid email profile", state: nonce,
    code_challenge: b64url(new Uint8Array(digest)), code_challenge_method: "S256",
  });
  location.assign(`${cognito.url}/oauth2/authorize?${query}`);
}

async function cognitoFinish(cognito, params) {
  const saved = JSON.parse(sessionStorage.getItem("baton.pkce") || "null");
  sessionStorage.removeItem("baton.pkce");
  history.replaceState(null, "", location.pathname);
  if (!saved || saved.state !== params.get("state")) throw new Error("Sign-in was not started here: try again.");
  const response = await fetch(`${cognito.url}/oauth2/token`, {
    method: "POST",
    headers: { "Content-Type": "application/x-www-form-urlencoded" },
    body: new URLSearchParams({
      grant_type: "authorization_code", client_id: cognito.clientId, code: params.get("code"),
      redirect_uri: redirectUri(), code_verifier: saved.verifier,
    }),
  });
  const tokens = await response.json().catch(() => ({}));
  if (!response.ok || !tokens.id_token) throw new Error(`Sign-in failed: ${tokens.error || response.status}`);
  return tokens.id_token; // the API's authorizer takes the ID token (audience: the app client)
}

async function start() {
  performance.mark("baton-start");
  wire();
  const params = new URLSearchParams(location.search);
  try {
    const demo = await demoDirectory();
    if (demo) {
      state.demo = demo;
      showDemoChooser(demo);
      if (params.get("user")) return await begin(await signInDemo(params.get("user")), false);
      return showSignIn();
    }
    const config = await (await fetch("inbox/config.json", { cache: "no-store" })).json();
    if (config.cognito) {
      $("cognito-sign-in").hidden = false;
      $("cognito-button").addEventListener("click", () => cognitoSignIn(config.cognito));
      state.cognito = config.cognito;
      if (params.get("code")) return await begin(await cognitoFinish(config.cognito, params), true);
    }
    $("token-sign-in").hidden = false;
    const saved = sessionStorage.getItem("baton.token");
    if (saved) return await begin(saved, true);
    showSignIn();
  } catch (error) {
    showSignIn();
    flash(error.message, true);
  }
}

function wire() {
  $("sign-out").addEventListener("click", () => {
    signOut("");
    if (state.cognito) { // end the hosted UI's session too; it sends the browser back here
      const query = new URLSearchParams({ client_id: state.cognito.clientId, logout_uri: redirectUri() });
      location.assign(`${state.cognito.url}/logout?${query}`);
    }
  });
  $("refresh").addEventListener("click", () => refresh());
  $("claim-next").addEventListener("click", claimNext);
  for (const which of LISTS) {
    $(`${which}-more`).addEventListener("click", () => loadMore(which));
    $(`${which}-new`).addEventListener("click", () => showNew(which));
  }
  $("reassign").addEventListener("submit", reassign);
  $("delegate").addEventListener("submit", delegate);
  $("complete").addEventListener("submit", confirmComplete);
  $("detail-close").addEventListener("click", () => closeTask());
  $("help-open").addEventListener("click", () => $("help").showModal());
  $("compact").addEventListener("change", (event) => setCompact(event.target.checked, true));
  $("notify").addEventListener("change", (event) => setNotify(event.target.checked));
  $("filters").addEventListener("submit", (event) => {
    event.preventDefault();
    applyFilters(readFilterForm(), true);
  });
  $("f-clear").addEventListener("click", () => applyFilters({}, true));
  $("f-save").addEventListener("click", saveFilter);
  $("f-load").addEventListener("click", loadSavedFilter);
  $("bulk").addEventListener("submit", bulkAction);
  $("sup-more").addEventListener("click", () => loadSupervise(true));
  $("token-sign-in").addEventListener("submit", (event) => {
    event.preventDefault();
    const token = $("token-input").value.trim();
    if (token) begin(token, true).catch((error) => flash(error.message, true));
  });
  document.addEventListener("keydown", onKey);
  window.addEventListener("popstate", () => fromUrl());
}

function showDemoChooser(demo) {
  $("demo-sign-in").hidden = false;
  const list = $("demo-users");
  list.replaceChildren(...demo.users.map((user) => el("li", {},
    el("button", {
      type: "button", dataset: { user: user.id },
      onclick: async () => {
        try {
          await begin(await signInDemo(user.id), false);
        } catch (error) {
          flash(error.message, true);
        }
      },
    }, user.name, el("small", {}, `${user.id} · roles: ${user.roles.join(", ") || "none"}`
      + ` · groups: ${user.groups.join(", ") || "none"}`)))));
}

function showSignIn() {
  $("app").hidden = true;
  $("sign-in").hidden = false;
  $("sign-out").hidden = true;
  $("view-work").hidden = true;
  $("view-supervise").hidden = true;
  $("who").textContent = "";
  $("live").textContent = "";
}

async function begin(token, keep) {
  let claims;
  try {
    claims = claimsOf(token);
  } catch {
    throw new Error("That is not a JWT.");
  }
  state.token = token;
  state.me = claims;
  state.roles = rolesOf(claims);
  if (keep) sessionStorage.setItem("baton.token", token);
  const demoUser = state.demo && state.demo.users.find((u) => u.id === claims.sub);
  state.groups = demoUser ? new Set(demoUser.groups) : null;
  $("sign-in").hidden = true;
  $("app").hidden = false;
  $("sign-out").hidden = false;
  $("view-supervise").hidden = !isAdmin();
  $("f-holder-label").hidden = !isAdmin();
  $("who").textContent = `${claims.username || claims["cognito:username"] || claims.sub}`
    + ` · ${claims["custom:tenant"] || ""}${state.roles.length ? ` · ${state.roles.join(", ")}` : ""}`;
  flash("");
  setCompact(localStorage.getItem(prefKey("compact")) === "1", false);
  setNotify(localStorage.getItem(prefKey("notify")) === "1" && "Notification" in window
    && Notification.permission === "granted", false);
  // the directory (names, for a task's page and Reassign) is read beside the lists, not before them
  state.usersLoaded = loadUsers().then(() => { // a lead is offered its groups' supervisor view
    if (state.view !== "supervise") $("view-supervise").hidden = !maySupervise();
  }).catch(() => {}); // a 401 has signed out already
  await fromUrl(true);
  await state.usersLoaded;
  follow();
}

function signOut(message) {
  state.token = null;
  state.me = null;
  sessionStorage.removeItem("baton.token");
  if (state.feed) state.feed.abort();
  clearInterval(state.poll);
  state.poll = null;
  state.selected = null;
  state.lists = { mine: newList(), queue: newList() };
  closeTask(false);
  history.replaceState(null, "", location.pathname);
  showSignIn();
  flash(message, Boolean(message));
}

// ---------------------------------------------------------------- preferences (this browser)

const prefKey = (name) => `baton.${name}.${(state.me && state.me["custom:tenant"]) || ""}.${me() || ""}`;

function setCompact(on, remember) {
  $("compact").checked = on;
  $("app").classList.toggle("compact", on);
  if (remember) {
    if (on) localStorage.setItem(prefKey("compact"), "1");
    else localStorage.removeItem(prefKey("compact"));
  }
}

async function setNotify(on, ask = true) {
  if (on && ask) {
    if (!("Notification" in window)) {
      flash("This browser has no desktop notifications.", true);
      on = false;
    } else if (Notification.permission !== "granted") {
      on = (await Notification.requestPermission()) === "granted";
      if (!on) flash("Notifications are blocked for this page in the browser's settings.", true);
    }
  }
  $("notify").checked = on;
  state.notify = on;
  if (ask) {
    if (on) localStorage.setItem(prefKey("notify"), "1");
    else localStorage.removeItem(prefKey("notify"));
  }
}

function notify(task, why) {
  if (!state.notify || !("Notification" in window) || Notification.permission !== "granted") return;
  try {
    const note = new Notification(`Baton: ${why}`, { body: task.name || task.id, tag: `baton-${task.id}` });
    note.onclick = () => {
      window.focus();
      showTask(task.id);
    };
  } catch {
    // a browser that allows notifications only from a service worker: the page still shows it
  }
}

// ---------------------------------------------------------------- the URL: view, task, filters

function filtersOf(params) {
  const found = {};
  for (const name of FILTERS) {
    const value = params.get(name);
    if (value !== null && value !== "") found[name] = value;
  }
  return found;
}

function urlFor(filters, view, task) {
  const params = new URLSearchParams();
  const user = new URLSearchParams(location.search).get("user");
  if (user) params.set("user", user);
  if (view) params.set("view", view);
  for (const [k, v] of Object.entries(filters)) params.set(k, v);
  if (task) params.set("task", task);
  const query = params.toString();
  return `${location.pathname}${query ? `?${query}` : ""}`;
}

function sameFilters(a, b) {
  const keys = new Set([...Object.keys(a), ...Object.keys(b)]);
  return [...keys].every((k) => (a[k] ?? "") === (b[k] ?? ""));
}

// Read the page's state from the URL: on sign-in, and when the back or forward button moves.
async function fromUrl(first = false) {
  if (!state.token) return;
  const params = new URLSearchParams(location.search);
  const filters = filtersOf(params);
  if (params.get("view") === "supervise" && !isAdmin()) await state.usersLoaded; // a lead's?
  const view = params.get("view") === "supervise" && maySupervise() ? "supervise" : null;
  fillFilterForm(filters);
  const active = Object.keys(filters).filter((k) => k !== "q").length;
  $("f-active").textContent = active ? `(${active})` : "";
  if (active) $("f-more").open = true; // the filters in force are shown
  $("work").hidden = view === "supervise";
  $("supervise").hidden = view !== "supervise";
  $("view-work").hidden = view !== "supervise";
  $("view-supervise").hidden = view === "supervise" || !maySupervise();
  $("claim-next").hidden = view === "supervise";
  $("claim-next-says").hidden = view === "supervise";
  const changed = first || !sameFilters(filters, state.filters) || state.view !== view;
  state.filters = filters;
  state.view = view;
  if (changed) {
    if (view === "supervise") await state.usersLoaded.then(() => loadSupervise(false));
    else await Promise.all(LISTS.map((which) => loadList(which)));
    if (first) performance.mark("baton-first-paint");
  }
  // read again: the reader may have opened a task while the lists loaded
  const task = new URLSearchParams(location.search).get("task");
  if (task || view === "supervise") await state.usersLoaded;
  if (task && view !== "supervise") {
    if (task !== state.selected) await showTask(task, { push: false });
  } else if (state.selected) {
    closeTask(false);
  }
}

const FILTER_FIELDS = [["q", "f-q"], ["group", "f-group"], ["priorityMin", "f-pmin"], ["priorityMax", "f-pmax"],
  ["due", "f-due"], ["overdue", "f-overdue"], ["caseId", "f-case"], ["sort", "f-sort"], ["holder", "f-holder"]];

function readFilterForm() {
  const filters = {};
  for (const [name, id] of FILTER_FIELDS) {
    const node = $(id);
    const value = node.type === "checkbox" ? (node.checked ? "1" : "") : node.value.trim();
    if (value) filters[name] = value;
  }
  if (!isAdmin()) delete filters.holder;
  return filters;
}

function fillFilterForm(filters) {
  for (const [name, id] of FILTER_FIELDS) {
    const node = $(id);
    if (node.type === "checkbox") node.checked = Boolean(filters[name]);
    else node.value = filters[name] || "";
  }
}

// The end of the day `due` (a date, in this browser's time zone), as the API's RFC 3339 time.
function dueBefore(day) {
  const end = new Date(`${day}T23:59:59.999`);
  return Number.isNaN(end.getTime()) ? null : end.toISOString();
}

async function applyFilters(filters, push) {
  if (push) history.pushState(null, "", urlFor(filters, state.view, state.view ? null : state.selected));
  await fromUrl();
}

function saveFilter() {
  const filters = readFilterForm();
  localStorage.setItem(prefKey("filter"), JSON.stringify(filters));
  flash(Object.keys(filters).length ? "Saved as your filter (in this browser)." : "Saved: no filter.");
}

function loadSavedFilter() {
  let saved = null;
  try {
    saved = JSON.parse(localStorage.getItem(prefKey("filter")) || "null");
  } catch {
    saved = null;
  }
  if (!saved || typeof saved !== "object") {
    flash("You have no saved filter yet: set one, then “Save as my filter”.");
    return;
  }
  applyFilters(filtersOf(new URLSearchParams(saved)), true);
}

// The query parameters of a list (GET /api/v1/tasks): `group` narrows my queue (a group's
// queue partition); the priority range, the search, due by, overdue and the order both lists; the
// holder is the supervisor's; a case is listed by itself (`caseListing`).
function filterQuery(which) {
  const params = new URLSearchParams();
  const f = state.filters;
  if (f.group && which === "queue") params.set("group", f.group);
  if (f.priorityMin) params.set("priorityMin", f.priorityMin);
  if (f.priorityMax) params.set("priorityMax", f.priorityMax);
  params.set("sort", f.sort || "queue");
  for (const [k, v] of Object.entries(commonFilters())) params.set(k, v);
  return `&${params}`;
}

// The search, due-by and overdue filters as the API names them (every open-task listing takes them).
function commonFilters() {
  const f = state.filters;
  const out = {};
  if (f.q) out.search = f.q;
  if (f.due && dueBefore(f.due)) out.dueBefore = dueBefore(f.due);
  if (f.overdue) out.overdue = "true";
  return out;
}

// ---------------------------------------------------------------- order and membership

// The lists' order, as the API lists them (docs/api.md): queue order (priority descending, then
// due date (none last), then age, then id), or with `sort` due date first, oldest or newest first.
function compare(a, b) {
  const cmp = (x, y) => (x < y ? -1 : x > y ? 1 : 0);
  const due = (t) => t.dueDate || "~";
  const age = (t) => t.createdAt || "";
  const priority = cmp(b.priority ?? 50, a.priority ?? 50);
  const orders = {
    due: [cmp(due(a), due(b)), priority, cmp(age(a), age(b)), cmp(a.id, b.id)],
    age: [cmp(age(a), age(b)), cmp(a.id, b.id)],
    newest: [cmp(age(b), age(a)), cmp(b.id, a.id)],
  };
  const order = orders[state.filters.sort] || [priority, cmp(due(a), due(b)), cmp(age(a), age(b)), cmp(a.id, b.id)];
  return order.find((c) => c !== 0) || 0;
}

// What a search looks in, as the API does (tasks/filters.py): id, name, the description's start.
const searchText = (task) => [task.id, task.name || "", (task.description || "").slice(0, 400)].join("\n").toLowerCase();
const overdueNow = (task) => Boolean((task.dueDate && new Date(task.dueDate) <= new Date())
  || (task.escalations || []).some((s) => s.firedAt));

function mayBeMyGroup(task) {
  const groups = task.candidateGroups || [];
  if (!groups.length) return false;
  if (state.groups) return groups.some((g) => state.groups.has(g));
  if (groups.some((g) => state.learned.has(g))) return true;
  return null; // not known here: the queue is asked
}

// The filters as the API applies them (a row that arrives by an event must pass them too).
function matchesFilters(task, which) {
  const f = state.filters;
  if (f.q && !searchText(task).includes(f.q.trim().toLowerCase())) return false;
  if (f.due && !(task.dueDate && dueBefore(f.due) && task.dueDate <= dueBefore(f.due))) return false;
  if (f.overdue && !overdueNow(task)) return false;
  if (f.caseId && task.caseId !== f.caseId) return false;
  if (which === "queue" && f.group && !(task.candidateGroups || []).includes(f.group)) return false;
  const priority = task.priority ?? 50;
  if (f.priorityMin && priority < Number(f.priorityMin)) return false;
  if (f.priorityMax && priority > Number(f.priorityMax)) return false;
  return true;
}

const leasePassed = (task) => Boolean(task.leaseExpiresAt && new Date(task.leaseExpiresAt) <= new Date());

// Which list a task belongs in for me now: "mine", "queue", null (neither), or "ask" (it may be
// in my queue through a group this page does not know I am in).
function placeOf(task) {
  if (!task || task.status !== "open") return null;
  if (task.assignee === me() && !leasePassed(task)) return matchesFilters(task, "mine") ? "mine" : null;
  if (task.type === "automatic" || (task.assignee && !leasePassed(task)) || !matchesFilters(task, "queue")) return null;
  if ((task.candidateUsers || []).includes(me()) && !state.filters.group) return "queue";
  const group = mayBeMyGroup(task);
  return group === null ? "ask" : group ? "queue" : null;
}

function learn(tasks) {
  for (const task of tasks) { // a task in my queue that names me not: I am in one of its groups
    const groups = task.candidateGroups || [];
    if (groups.length === 1 && !(task.candidateUsers || []).includes(me())) state.learned.add(groups[0]);
  }
}

// ---------------------------------------------------------------- lists

async function loadUsers() {
  try {
    const { data } = await api("GET", "api/v1/users?limit=100");
    state.users = new Map(data.items.map((user) => [user.id, user]));
  } catch (error) {
    if (error.status === 401) throw error;
    state.users = new Map(); // names are a nicety; ids still show
  }
}

const QUERIES = { mine: "assignee=me&status=open", queue: "candidate=me&status=open" };

async function fetchPage(which, cursor, limit = PAGE) {
  const after = cursor ? `&cursor=${encodeURIComponent(cursor)}` : "";
  if (state.filters.caseId) return caseListing(which, after);
  const { data } = await api("GET", `api/v1/tasks?${QUERIES[which]}${filterQuery(which)}&limit=${limit}${after}`);
  if (which === "queue") learn(data.items);
  return { items: data.items, cursor: data.cursor || null };
}

// A case's tasks (GET /api/v1/tasks?caseId=: one Query a page; a case holds few tasks), those of
// this list kept (mine: open and held by me; my queue: open, free and offered to me or my groups).
async function caseListing(which, after) {
  const { data } = await api("GET", `api/v1/tasks?caseId=${encodeURIComponent(state.filters.caseId)}&limit=100${after}`);
  const items = data.items.filter((task) => {
    const where = placeOf(task);
    return where === which || (which === "queue" && where === "ask" && !task.assignee);
  }).sort(compare);
  return { items, cursor: data.cursor || null };
}

function noteReadTime(at) {
  // Events from before the lists were first read are in them already: the feed replays every
  // event it keeps to a new client, and those are skipped by their time (the feed is the local
  // server's, on this machine's clock; a second of margin).
  if (state.since === null) state.since = at - 1000;
}

// The first page, from scratch (sign-in, new filters).
async function loadList(which) {
  const list = state.lists[which];
  try {
    const at = Date.now();
    const page = await fetchPage(which, null);
    noteReadTime(at);
    list.items = page.items;
    list.cursor = page.cursor;
    list.fresh.clear();
    list.loaded = true;
    render(which);
  } catch (error) {
    listError(which, error);
  }
}

function listError(which, error) {
  if (error.status === 401) return;
  if (error.status === 400 && Object.keys(state.filters).length) {
    flash(`These filters are not served here: ${error.message}`, true);
  } else {
    flash(error.message, true);
  }
  state.lists[which].items = [];
  state.lists[which].cursor = null;
  render(which);
}

async function loadMore(which) {
  const list = state.lists[which];
  if (!list.cursor) return;
  try {
    const page = await fetchPage(which, list.cursor);
    const known = new Set(list.items.map((t) => t.id));
    const added = page.items.filter((t) => !known.has(t.id));
    list.items = list.items.concat(added);
    list.cursor = page.cursor;
    const node = $(which);
    node.querySelector(".empty")?.remove();
    node.append(...added.map((task) => taskItem(task, which)));
    counts(which);
  } catch (error) {
    if (error.status !== 401) flash(error.message, true);
  }
}

// Read the list again as far as it is loaded (pages of 100), and bring the rows in line in place.
async function reload(which) {
  const list = state.lists[which];
  const want = Math.max(list.items.length, PAGE);
  let items = [];
  let cursor = null;
  do {
    // eslint-disable-next-line no-await-in-loop
    const page = await fetchPage(which, cursor, RELOAD_PAGE);
    items = items.concat(page.items);
    cursor = page.cursor;
  } while (cursor && items.length < want);
  keepPlace([...list.items, ...items].map((t) => t.id), () => {
    const before = new Set(list.items.map((t) => t.id));
    const now = new Set(items.map((t) => t.id));
    for (const task of list.items) if (!now.has(task.id)) removeRow(which, task.id);
    for (const task of items) {
      if (before.has(task.id)) updateRow(which, task);
      else insertRow(which, task, false);
    }
    list.cursor = cursor;
    list.items = items;
    reorder(which);
  });
  counts(which);
}

async function refresh() {
  if (!state.token) return undefined;
  if (state.refreshing) return state.refreshing;
  state.refreshing = (async () => {
    try {
      if (state.view === "supervise") await loadSupervise(false);
      else await Promise.all(LISTS.map((which) => reload(which)));
      if (state.selected) await showTask(state.selected, { push: false, quiet: true });
    } catch (error) {
      if (error.status !== 401) flash(error.message, true);
    } finally {
      state.refreshing = null;
    }
  })();
  return state.refreshing;
}

function render(which) {
  const list = state.lists[which];
  const node = $(which);
  node.replaceChildren(...list.items.map((task) => taskItem(task, which)));
  counts(which);
}

function counts(which) {
  const list = state.lists[which];
  const node = $(which);
  if (!list.items.length && !node.querySelector(".empty")) {
    node.replaceChildren(el("li", { class: "empty" },
      which === "mine" ? "Nothing assigned to you." : "Nothing waiting in your queue."));
  } else if (list.items.length) {
    node.querySelector(".empty")?.remove();
  }
  $(`${which}-count`).textContent = `(${list.items.length}${list.cursor ? "+" : ""})`;
  $(`${which}-more`).hidden = !list.cursor;
  const fresh = $(`${which}-new`);
  fresh.hidden = list.fresh.size === 0;
  fresh.textContent = `${list.fresh.size} new`;
  fresh.setAttribute("aria-label", `${list.fresh.size} new in ${which === "mine" ? "my tasks" : "my queue"}: show them`);
}

function rowOf(which, id) {
  return $(which).querySelector(`li.task[data-id="${CSS.escape(id)}"]`);
}

function taskItem(task, which) {
  const meta = [el("span", { class: "id" }, task.id)];
  meta.push(el("span", { class: "priority" }, `priority ${task.priority ?? 50}`));
  if (task.dueDate) {
    const overdue = new Date(task.dueDate) < new Date();
    meta.push(el("span", { class: `due${overdue ? " overdue" : ""}` }, `due ${when(task.dueDate)}${overdue ? " (overdue)" : ""}`));
  }
  const fired = (task.escalations || []).filter((s) => s.firedAt);
  if (fired.length) meta.push(el("span", { class: "escalated overdue" }, `escalated (${fired.map((s) => s.id).join(", ")})`));
  if (task.leaseExpiresAt) meta.push(el("span", { class: "lease" }, `lease until ${when(task.leaseExpiresAt)}`));
  if (which === "queue") {
    const offered = [...(task.candidateGroups || []).map((g) => `group ${g}`), ...(task.candidateUsers || [])];
    if (offered.length) meta.push(el("span", { class: "offered" }, `offered to ${offered.join(", ")}`));
  }
  if (delegatedToMe(task)) meta.push(el("span", { class: "delegated" }, `delegated by ${nameOf(task.owner)}`));
  const name = task.name || task.id;
  const actions = which === "mine"
    ? [button("Release", () => act(task.id, "release"), "", name),
      delegatedToMe(task) ? button("Resolve", () => act(task.id, "resolve"), "", name)
        : button("Complete", () => showTask(task.id, { focus: "complete" }), "", name),
      button("Reassign…", () => showTask(task.id, { focus: "reassign" }), "", name)]
    : [notYours(task) || button("Claim", () => act(task.id, "claim"), "primary", name)];
  actions.push(button("History", () => showTask(task.id), "", name));
  const list = state.lists[which];
  const classes = ["task"];
  if (state.selected === task.id) classes.push("selected");
  if (state.current === task.id) classes.push("current");
  if (list.fresh.has(task.id)) classes.push("new");
  return el("li", { class: classes.join(" "), dataset: { id: task.id, version: task.version }, tabindex: "-1" },
    el("div", { class: "title" }, el("a", {
      href: urlFor(state.filters, null, task.id),
      onclick: (event) => {
        if (event.ctrlKey || event.metaKey || event.shiftKey) return;
        event.preventDefault();
        showTask(task.id);
      },
    }, name)),
    el("div", { class: "meta" }, meta),
    el("div", { class: "actions" }, actions));
}

// A delegated task I hold for its owner (API.md "Absence, delegation"): I give it back, the owner completes.
const delegatedToMe = (task) => task.delegationState === "pending" && task.assignee === me() && Boolean(task.owner);

// Why I may not hold a task, as the server's eligibility says (`mayHold`: separation of duties),
// shown instead of a Claim button; null when I may.
function notYours(task) {
  const may = task.mayHold;
  if (!may || may.mayHold !== false) return null;
  return el("span", { class: "not-yours", dataset: { reason: may.reason || "" } }, `Not yours to claim: ${may.message || may.reason}`);
}

function button(label, handler, cls, taskName) {
  const plain = label.replace("…", "");
  return el("button", {
    type: "button", class: cls, dataset: { action: plain.toLowerCase() },
    "aria-label": taskName ? `${plain}: ${taskName}` : undefined,
    onclick: async (event) => {
      const node = event.currentTarget;
      node.disabled = true;
      try {
        await handler();
      } finally {
        node.disabled = false;
      }
    },
  }, label);
}

// Run `change` (which adds, removes or moves rows) without moving what the reader looks at: the
// first row on screen that `change` does not touch stays where it was on the screen.
function keepPlace(touched, change) {
  const skip = new Set(touched);
  let anchor = null;
  let top = 0;
  for (const node of document.querySelectorAll("#mine li.task, #queue li.task, #mine-more, #queue-more")) {
    if (node.dataset.id && skip.has(node.dataset.id)) continue;
    const rect = node.getBoundingClientRect();
    if (rect.height && rect.bottom > 0) {
      anchor = node;
      top = rect.top;
      break;
    }
  }
  const focused = document.activeElement;
  change();
  if (anchor && anchor.isConnected) {
    const delta = anchor.getBoundingClientRect().top - top;
    if (Math.abs(delta) >= 1) window.scrollBy(0, delta);
  }
  if (focused && focused !== document.activeElement && focused.isConnected) focused.focus({ preventScroll: true });
}

function removeRow(which, id) {
  rowOf(which, id)?.remove();
  state.lists[which].fresh.delete(id);
}

function updateRow(which, task) {
  const row = rowOf(which, task.id);
  if (!row) return;
  if (Number(row.dataset.version) === task.version) return;
  const active = row.contains(document.activeElement) ? document.activeElement.dataset.action : null;
  const fresh = taskItem(task, which);
  row.replaceWith(fresh);
  if (active) fresh.querySelector(`button[data-action="${active}"]`)?.focus({ preventScroll: true });
}

// Put a task's row where the list's order says (the list's items hold it already, or get it).
function insertRow(which, task, mark) {
  const list = state.lists[which];
  if (mark) list.fresh.add(task.id);
  const row = taskItem(task, which);
  const node = $(which);
  node.querySelector(".empty")?.remove();
  const next = list.items.find((t) => t.id !== task.id && compare(task, t) < 0);
  const before = next ? rowOf(which, next.id) : null;
  node.insertBefore(row, before);
}

function reorder(which) {
  // rows in the order of list.items (after a reload some may have moved)
  const node = $(which);
  const list = state.lists[which];
  let prev = null;
  for (const task of list.items) {
    const row = rowOf(which, task.id);
    if (!row) continue;
    const want = prev ? prev.nextElementSibling : node.firstElementChild;
    if (want !== row) node.insertBefore(row, want);
    prev = row;
  }
}

// A task as it is now (null: gone): update, move, add or drop its rows. `mark` highlights a
// task that arrives in a list (not my own doing).
function place(id, task, mark) {
  let where = placeOf(task);
  if (where === "ask") where = null; // the caller asks the queue first (placeAsked)
  const touched = [id];
  keepPlace(touched, () => {
    for (const which of LISTS) {
      const list = state.lists[which];
      const at = list.items.findIndex((t) => t.id === id);
      if (which !== where) {
        if (at >= 0) {
          list.items.splice(at, 1);
          removeRow(which, id);
        }
        continue;
      }
      if (at >= 0) list.items.splice(at, 1);
      // beyond the last loaded row of a list with more pages: it comes with its page
      const last = list.items[list.items.length - 1];
      if (list.cursor && last && compare(task, last) > 0) {
        removeRow(which, id);
        continue;
      }
      const index = list.items.findIndex((t) => compare(task, t) < 0);
      list.items.splice(index < 0 ? list.items.length : index, 0, task);
      if (at >= 0 && rowOf(which, id)) {
        removeRow(which, id);
        insertRow(which, task, mark && list.fresh.has(id));
      } else {
        insertRow(which, task, mark);
        if (mark && which === "queue") notify(task, "new in your queue");
        if (mark && which === "mine") notify(task, "assigned to you");
      }
    }
  });
  for (const which of LISTS) counts(which);
  if (state.selected === id && task) showTask(id, { push: false, quiet: true, task });
}

// A task that may be in my queue through a group I am not known to be in: read my queue up to
// where the task would be (pages of 100), and see.
async function placeAsked(task, mark) {
  const list = state.lists.queue;
  let cursor = null;
  let found = false;
  let read = 0;
  do {
    // eslint-disable-next-line no-await-in-loop
    const page = await fetchPage("queue", cursor, RELOAD_PAGE);
    read += page.items.length;
    found = page.items.some((t) => t.id === task.id);
    const last = page.items[page.items.length - 1];
    cursor = page.cursor;
    if (found || !last || compare(task, last) < 0) break;
  } while (cursor && read < list.items.length + RELOAD_PAGE);
  if (found) {
    learn([task]);
    place(task.id, { ...task }, mark);
    if (placeOf(task) === "ask") { // still unknown (several groups): put it in by hand
      keepPlace([task.id], () => {
        const index = list.items.findIndex((t) => compare(task, t) < 0);
        list.items.splice(index < 0 ? list.items.length : index, 0, task);
        insertRow("queue", task, mark);
      });
      counts("queue");
      if (mark) notify(task, "new in your queue");
    }
  } else {
    place(task.id, null, false);
  }
}

// ---------------------------------------------------------------- actions

const ACTIONS = {
  claim: (task) => api("POST", taskPath(task.id, "/action/claim"), { body: {}, version: task.version }),
  resolve: (task, extra) => api("POST", taskPath(task.id, "/action/resolve"), { body: extra || {}, version: task.version }),
  delegate: (task, extra) => api("POST", taskPath(task.id, "/action/delegate"), { body: extra, version: task.version }),
  release: (task) => api("POST", taskPath(task.id, "/action/release"), { body: {}, version: task.version }),
  complete: (task, extra) => api("POST", taskPath(task.id, "/action/complete"), { body: extra || {}, version: task.version }),
};
const DONE = { claim: "Claimed", release: "Released", complete: "Completed", resolve: "Gave back", delegate: "Delegated" };

function known(id) {
  for (const which of LISTS) {
    const task = state.lists[which].items.find((t) => t.id === id);
    if (task) return task;
  }
  return state.shown && state.shown.id === id ? state.shown : { id };
}

async function act(id, action, extra) {
  const task = known(id);
  const t0 = performance.now();
  try {
    const { data } = await ACTIONS[action](task, extra);
    place(id, data, false);
    for (const which of LISTS) state.lists[which].fresh.delete(id);
    flash(`${DONE[action]} ${data.name || id}.`);
    performance.measure("baton-action", { start: t0, end: performance.now() });
    return data;
  } catch (error) {
    if (error.status === 401) return null;
    flash(error.status === 412 ? `${id} changed meanwhile: it is shown as it is now.` : error.message, true);
    await readTasks([id], false);
    return null;
  }
}

async function claimNext() {
  try {
    const { status, data } = await api("POST", "api/v1/tasks/claim-next", { body: {} });
    if (status === 204 || !data) {
      flash("Nothing in your queue to claim.");
    } else {
      place(data.id, data, false);
      flash(`Claimed ${data.name || data.id}.`);
      state.current = data.id;
      highlightCurrent();
    }
  } catch (error) {
    if (error.status === 401) return;
    flash(error.status === 404 ? "Claim next is not available on this server." : error.message, true);
  }
}

async function reassign(event) {
  event.preventDefault();
  const id = state.selected;
  const target = $("reassign-user").value;
  const comment = $("reassign-comment").value.trim();
  const policy = (state.shown && state.shown.policy) || {};
  if (policy.requireReassignmentReason && !comment) {
    flash("This task needs a comment to be reassigned.", true);
    $("reassign-comment").focus();
    return;
  }
  const body = { newStepUserIds: [target] };
  if (comment) body.comment = comment;
  try {
    await api("POST", taskPath(id, "/action/reassign"), { body });
    flash(`Reassigned ${id} to ${nameOf(target)}.`);
    $("reassign-comment").value = "";
  } catch (error) {
    if (error.status !== 401) flash(error.message, true);
  }
  await readTasks([id], false);
}

function confirmComplete(event) {
  event.preventDefault();
  const task = state.shown;
  if (!task) return;
  const outcome = $("complete-outcome").value.trim(); // the workflows' outcome (docs/workflows.md)
  const comment = $("complete-comment").value.trim();
  $("confirm-text").textContent = `${task.name || task.id}${outcome ? ` — outcome: ${outcome}` : ""}`
    + `${comment ? ` — comment: “${comment}”` : ""}. This cannot be undone.`;
  const dialog = $("confirm");
  dialog.returnValue = "";
  dialog.onclose = async () => {
    if (dialog.returnValue !== "yes") return;
    const body = {};
    if (comment) body.comment = comment;
    if (outcome) body.outcome = outcome;
    const done = await act(task.id, "complete", body);
    if (done) {
      $("complete-comment").value = "";
      $("complete-outcome").value = "";
      await showTask(task.id, { push: false, quiet: true });
    }
  };
  dialog.showModal();
}

// ---------------------------------------------------------------- a task's page

function closeTask(push = true) {
  state.selected = null;
  state.shown = null;
  $("detail").hidden = true;
  $("work").classList.remove("with-detail");
  for (const node of document.querySelectorAll(".task.selected")) node.classList.remove("selected");
  if (push && state.token) history.pushState(null, "", urlFor(state.filters, state.view, null));
}

const show = (value) => value !== undefined && value !== null && value !== "" && !(Array.isArray(value) && !value.length);

function fieldsOf(task) {
  const policy = task.policy || {};
  const rows = [["id", task.id], ["status", task.status], ["holder", nameOf(task.assignee) || "nobody"],
    ["priority", task.priority], ["due", task.dueDate ? `${when(task.dueDate)}${new Date(task.dueDate) < new Date() && task.status === "open" ? " (overdue)" : ""}` : ""],
    ["follow up", when(task.followUpDate)],
    ["candidates", [...(task.candidateGroups || []).map((g) => `group ${g}`), ...(task.candidateUsers || []).map(nameOf)].join(", ")],
    ["policy", [policy.allowReassignment === false ? "no reassignment" : "reassignable",
      show(policy.allowedReassignees) ? `only to ${policy.allowedReassignees.map(nameOf).join(", ")}` : "",
      policy.requireReassignmentReason ? "a comment is required" : ""].filter(Boolean).join("; ")],
    ["lease", [task.leaseSeconds ? `${task.leaseSeconds} s per claim` : "", task.leaseExpiresAt ? `held until ${when(task.leaseExpiresAt)}` : ""]
      .filter(Boolean).join("; ")],
    ["type", task.type], ["project", task.projectId ? `${task.projectId}${task.activityId ? ` / ${task.activityId}` : ""}` : ""],
    ["case", task.caseId || (task.case && (task.case.id || task.case.name))],
    ["delegation", task.owner ? `${task.delegationState === "pending" ? "delegated" : "given back"} by its owner ${nameOf(task.owner)}` : ""],
    ["separation", separationText(task.separation)],
    ["outcome", task.outcome],
    ["created", `${when(task.createdAt)}${task.createdBy ? ` by ${nameOf(task.createdBy)}` : ""}`],
    ["updated", when(task.updatedAt)], ["version", task.version]];
  // what other features add to a task, shown when it has them
  for (const key of ["escalations", "firedSteps", "escalation", "caseTasks", "skills", "routing"]) {
    if (show(task[key])) rows.push([key, typeof task[key] === "object" ? JSON.stringify(task[key]) : task[key]]);
  }
  return rows.filter(([, v]) => show(v));
}

function separationText(sep) {
  if (!sep) return "";
  return [sep.excludeCreator ? "not its creator" : "", show(sep.tasks) ? `not who held ${sep.tasks.join(", ")}` : "",
    show(sep.activities) ? `not who held a task of ${sep.activities.join(", ")} in this case` : ""].filter(Boolean).join("; ");
}

// The case's other tasks (GET /api/v1/tasks?caseId=: one Query), each a link to its page.
async function showCase(task) {
  const node = $("detail-case");
  if (!task.caseId) {
    node.hidden = true;
    return;
  }
  let items = [];
  let more = false;
  try {
    const { data } = await api("GET", `api/v1/tasks?caseId=${encodeURIComponent(task.caseId)}&limit=50`);
    items = data.items.filter((t) => t.id !== task.id);
    more = Boolean(data.cursor);
  } catch (error) {
    if (error.status === 401) return;
  }
  if (state.selected !== task.id) return;
  node.hidden = false;
  $("detail-case-title").textContent = `Case ${task.caseId}: its other tasks`;
  $("detail-case-list").replaceChildren(...(items.length ? items.map((t) => el("li", { dataset: { id: t.id } },
    el("a", { href: urlFor(state.filters, null, t.id) }, t.name || t.id),
    ` (${t.status}${t.assignee ? `, ${nameOf(t.assignee)}` : ""})`)) : [el("li", { class: "empty" }, "none")]),
  ...(more ? [el("li", { class: "hint" }, "and more")] : []));
}

async function showTask(id, { focus = null, push = true, quiet = false, task = null } = {}) {
  const changing = state.selected !== id;
  state.selected = id;
  for (const node of document.querySelectorAll(".task")) node.classList.toggle("selected", node.dataset.id === id);
  for (const which of LISTS) {
    if (state.lists[which].fresh.delete(id)) {
      rowOf(which, id)?.classList.remove("new");
      counts(which);
    }
  }
  if (push && changing) history.pushState(null, "", urlFor(state.filters, state.view, id));
  if (quiet && task && state.shown && state.shown.id === id && state.shown.version === task.version) return;
  let events;
  try {
    const reads = [api("GET", taskPath(id, "/history?limit=100"))];
    if (!task) reads.push(api("GET", taskPath(id)));
    const [history, got] = await Promise.all(reads);
    events = history.data;
    task = task || got.data;
  } catch (error) {
    if (error.status !== 401 && !quiet) flash(error.status === 404 ? `There is no task ${id}.` : error.message, true);
    if (error.status === 404) closeTask(false);
    return;
  }
  if (state.selected !== id) return;
  state.shown = task;
  $("detail").hidden = false;
  $("work").classList.add("with-detail");
  $("detail-title").textContent = task.name || task.id;
  $("detail-description").textContent = task.description || "";
  $("detail-description").hidden = !task.description;
  $("detail-fields").replaceChildren(...fieldsOf(task).flatMap(([k, v]) => [el("dt", {}, k), el("dd", {}, v)]));
  $("history").replaceChildren(...events.items.map((e, i) => el("tr", {},
    el("td", { class: "num" }, e.version ?? i + 1), el("td", { class: "when" }, when(e.at)), el("td", {}, nameOf(e.actor)),
    el("td", { class: "what" }, e.action), el("td", {}, fromTo(e.action, e.from)),
    el("td", {}, fromTo(e.action, e.to) || (e.candidates || []).map(nameOf).join(", ")),
    el("td", { class: "comment" }, describeEvent(e, (id) => state.users.get(id)?.firstname || id)))));
  const open = task.status === "open";
  const mine = open && task.assignee === me() && !leasePassed(task);
  const free = open && task.type !== "automatic" && (!task.assignee || leasePassed(task));
  const actions = [];
  if (free) actions.push(notYours(task) || button("Claim", () => act(id, "claim"), "primary", task.name));
  if (mine) actions.push(button("Release", () => act(id, "release"), "", task.name));
  if (open && delegatedToMe(task)) actions.push(button("Resolve", () => act(id, "resolve"), "primary", task.name),
    el("span", { class: "hint" }, ` gives it back to ${nameOf(task.owner)}, who completes it`));
  $("detail-actions").replaceChildren(...actions);
  showDelegate(task, mine && task.delegationState !== "pending");
  showCase(task);
  // Only the owner (or admin) completes a delegated task.
  const mayFinish = open && (task.delegationState === "pending" ? task.owner === me() || isAdmin() : mine || isAdmin());
  $("complete").hidden = !mayFinish;
  const outcomes = Array.isArray(task.outcomes) ? task.outcomes : ["approved", "rejected"];
  $("complete-outcomes").replaceChildren(...outcomes.map((o) => el("option", { value: o })));
  showReassign(task, open && (mine || isAdmin() || (free && task.assignee === null)));
  if (focus === "reassign" && !$("reassign").hidden) $("reassign-user").focus();
  if (focus === "complete" && !$("complete").hidden) $("complete-comment").focus();
  if (changing && window.matchMedia("(max-width: 900px)").matches) $("detail").scrollIntoView();
}

function fromTo(action, value) {
  if (!value) return "";
  if (["create", "complete", "abandon"].includes(action)) return value; // statuses
  if (action === "heartbeat") return when(value);
  return nameOf(value);
}

// Delegate: to any active user of the tenant but me (eligibility is the server's: a refusal says why).
function showDelegate(task, may) {
  const form = $("delegate");
  form.hidden = !may;
  if (!may) return;
  const choices = [...state.users.values()].filter((u) => u.active !== false && u.id !== me()).map((u) => u.id);
  const select = $("delegate-user");
  if ([...select.options].map((o) => o.value).join("\n") !== choices.join("\n")) {
    const current = select.value;
    select.replaceChildren(...choices.map((u) => el("option", { value: u }, nameOf(u))));
    if (current && choices.includes(current)) select.value = current;
  }
}

async function delegate(event) {
  event.preventDefault();
  const id = state.selected;
  const body = { userId: $("delegate-user").value };
  const comment = $("delegate-comment").value.trim();
  if (comment) body.comment = comment;
  const done = await act(id, "delegate", body);
  if (done) {
    $("delegate-comment").value = "";
    await showTask(id, { push: false, quiet: true });
  }
}

// Reassign offers the users the task's policy allows (all active users of the tenant when it
// names none), and marks a required comment.
function showReassign(task, may) {
  const policy = task.policy || {};
  const form = $("reassign");
  if (!may || task.type === "automatic") {
    form.hidden = true;
    return;
  }
  form.hidden = false;
  const allowed = show(policy.allowedReassignees) ? policy.allowedReassignees : null;
  const blocked = policy.allowReassignment === false;
  const choices = blocked ? [] : (allowed || [...state.users.values()].filter((u) => u.active !== false).map((u) => u.id))
    .filter((u) => u !== me() && u !== task.assignee);
  $("reassign-policy").textContent = blocked ? "This task's policy does not allow reassignment."
    : allowed ? `This task may go only to ${allowed.map(nameOf).join(", ")}.` : "";
  const select = $("reassign-user");
  if ([...select.options].map((o) => o.value).join("\n") !== choices.join("\n")) { // rebuilt only when it changed:
    const current = select.value; // a refresh must not reset a choice being made
    select.replaceChildren(...choices.map((u) => el("option", { value: u }, nameOf(u))));
    if (current && choices.includes(current)) select.value = current;
  }
  select.disabled = blocked || !choices.length;
  form.querySelector("button[type=submit]").disabled = blocked || !choices.length;
  const required = Boolean(policy.requireReassignmentReason);
  const comment = $("reassign-comment");
  comment.required = required;
  if (required) comment.setAttribute("aria-required", "true");
  else comment.removeAttribute("aria-required");
  $("reassign-comment-label").replaceChildren("Comment",
    ...(required ? [" ", el("span", { class: "required" }, "(required)")] : []));
}

// ---------------------------------------------------------------- the supervisor view (admin, a group's lead)

// A lead's view: one group it leads (the group filter's, else its first), every open task of it
// (GET /api/v1/groups/{id}/tasks: its queue and its members' inboxes), shown by holder.
function ledGroup() {
  const led = ledGroups();
  return led.includes(state.filters.group) ? state.filters.group : led[0];
}

async function loadSupervise(more) {
  if (!isAdmin()) return loadLedGroup(more);
  // What the API serves: the tenant's open tasks (newest first), one holder's (in queue order),
  // or one group's queue; a priority range with the latter two; an id with any.
  const f = state.filters;
  const params = new URLSearchParams({ status: "open", limit: "100" });
  if (f.holder) params.set("assignee", f.holder);
  else if (f.group) params.set("group", f.group);
  if (f.holder || f.group) {
    if (f.priorityMin) params.set("priorityMin", f.priorityMin);
    if (f.priorityMax) params.set("priorityMax", f.priorityMax);
    if (f.sort) params.set("sort", f.sort);
  }
  for (const [k, v] of Object.entries(commonFilters())) params.set(k, v);
  if (f.caseId) { // a case's tasks: listed by themselves (open ones kept)
    for (const k of [...params.keys()]) params.delete(k);
    params.set("caseId", f.caseId);
    params.set("limit", "100");
  }
  await showSupervised(`api/v1/tasks?`, params, more, (items) => (f.caseId ? items.filter((t) => t.status === "open"
    && matchesFilters(t, "mine") && (!f.holder || t.assignee === f.holder)) : items));
}

async function loadLedGroup(more) {
  const group = ledGroup();
  const shown = await showSupervised(`api/v1/groups/${encodeURIComponent(group)}/tasks?`,
    new URLSearchParams({ limit: "100" }), more, (items) => items.filter((t) => matchesFilters(t, "mine")));
  if (shown) $("supervise-title").firstChild.textContent = `Open tasks of group ${group} (you lead it), by holder `;
}

// One page of the supervisor's list (`more`: the next, after sup.cursor), `keep` choosing what is
// shown of it; then the bulk reassignment's list of active users and the view. False on an error
// (flashed, but a 401, which signs out).
async function showSupervised(path, params, more, keep) {
  const sup = state.sup;
  if (more && sup.cursor) params.set("cursor", sup.cursor);
  try {
    const { data } = await api("GET", `${path}${params}`);
    const items = keep(data.items);
    sup.items = more ? sup.items.concat(items) : items;
    sup.cursor = data.cursor || null;
    if (!more) sup.picked.clear();
  } catch (error) {
    if (error.status !== 401) flash(error.message, true);
    return false;
  }
  const users = [...state.users.values()].filter((u) => u.active !== false);
  const select = $("bulk-user");
  if (select.options.length !== users.length) {
    select.replaceChildren(...users.map((u) => el("option", { value: u.id }, nameOf(u.id))));
  }
  renderSupervise();
  return true;
}

function renderSupervise() {
  const sup = state.sup;
  const byHolder = new Map();
  for (const task of sup.items) {
    const holder = task.assignee || "";
    if (!byHolder.has(holder)) byHolder.set(holder, []);
    byHolder.get(holder).push(task);
  }
  const holders = [...byHolder.keys()].sort((a, b) => (a === "" ? -1 : b === "" ? 1 : nameOf(a).localeCompare(nameOf(b))));
  $("sup-groups").replaceChildren(...holders.map((holder) => {
    const tasks = byHolder.get(holder);
    const title = holder ? nameOf(holder) : "Nobody (in the queues)";
    const headId = `sup-h-${holder || "none"}`;
    const all = el("input", {
      type: "checkbox", "aria-label": `Select every task of ${title}`,
      onchange: (event) => {
        for (const t of tasks) {
          if (event.target.checked) sup.picked.add(t.id);
          else sup.picked.delete(t.id);
        }
        renderSupervise();
      },
    });
    all.checked = tasks.every((t) => sup.picked.has(t.id));
    return el("section", { class: "holder", "aria-labelledby": headId, dataset: { holder } },
      el("h3", { id: headId }, `${title} `, el("span", { class: "count" }, `(${tasks.length})`)),
      el("table", { class: "sup-table", "aria-labelledby": headId },
        el("thead", {}, el("tr", {}, el("th", { class: "pick", scope: "col" }, all), el("th", { scope: "col" }, "task"),
          el("th", { scope: "col" }, "priority"), el("th", { scope: "col" }, "due"), el("th", { scope: "col" }, "offered to"))),
        el("tbody", {}, tasks.map((task) => {
          const box = el("input", {
            type: "checkbox", "aria-label": `Select ${task.name || task.id}`, dataset: { id: task.id },
            onchange: (event) => {
              if (event.target.checked) sup.picked.add(task.id);
              else sup.picked.delete(task.id);
              $("bulk-selected").textContent = `${sup.picked.size} selected`;
            },
          });
          box.checked = sup.picked.has(task.id);
          return el("tr", { dataset: { id: task.id } }, el("td", { class: "pick" }, box),
            el("td", {}, el("a", { href: urlFor({}, null, task.id) }, task.name || task.id), " ",
              el("span", { class: "count" }, task.id)),
            el("td", {}, task.priority ?? 50), el("td", {}, when(task.dueDate)),
            el("td", {}, [...(task.candidateGroups || []).map((g) => `group ${g}`), ...(task.candidateUsers || [])].join(", ")));
        }))));
  }));
  if (!sup.items.length) $("sup-groups").replaceChildren(el("p", { class: "empty" }, "No open tasks."));
  $("sup-count").textContent = `(${sup.items.length}${sup.cursor ? "+" : ""})`;
  $("sup-more").hidden = !sup.cursor;
  $("bulk-selected").textContent = `${sup.picked.size} selected`;
}

// Tasks that changed, read again and put in place (the selection stays).
async function superviseTasks(ids) {
  const sup = state.sup;
  const found = await Promise.all(ids.map((id) => api("GET", taskPath(id)).then((r) => r.data, () => null)));
  ids.forEach((id, i) => {
    const task = found[i];
    const at = sup.items.findIndex((t) => t.id === id);
    const keep = task && task.status === "open" && (!state.filters.holder || task.assignee === state.filters.holder);
    if (at >= 0 && keep) sup.items[at] = task;
    else if (at >= 0) sup.items.splice(at, 1);
    else if (keep) sup.items.unshift(task); // the view lists newest first
    if (!keep) sup.picked.delete(id);
  });
  renderSupervise();
}

async function bulkAction(event) {
  event.preventDefault();
  const sup = state.sup;
  const action = $("bulk-action").value;
  const taskIds = sup.items.map((t) => t.id).filter((id) => sup.picked.has(id)).slice(0, 100);
  if (!taskIds.length) {
    flash("Select tasks first.", true);
    return;
  }
  const body = { taskIds };
  if (action === "reassign" || action === "assign") body.userId = $("bulk-user").value;
  const comment = $("bulk-comment").value.trim();
  if (comment && action === "reassign") body.comment = comment;
  let results;
  try {
    ({ data: { results } } = await api("POST", `api/v1/task-actions/${action}`, { body }));
  } catch (error) {
    if (error.status !== 401) flash(error.message, true);
    return;
  }
  const names = new Map(sup.items.map((t) => [t.id, t.name || t.id]));
  const good = results.filter((r) => r.status < 300).length;
  $("bulk-results").replaceChildren(
    el("p", {}, `${action}: ${good} of ${results.length} done.`),
    el("ul", {}, results.map((r) => el("li", { class: r.status < 300 ? "good" : "bad", dataset: { id: r.taskId, status: r.status } },
      `${names.get(r.taskId) || r.taskId} (${r.taskId}): ${r.status < 300 ? "done" : `${r.status} ${messageOf(r.error, r.status)}`}`))));
  for (const r of results) {
    if (r.task) {
      const at = sup.items.findIndex((t) => t.id === r.taskId);
      if (at >= 0) {
        if (r.task.status === "open") sup.items[at] = r.task;
        else sup.items.splice(at, 1);
      }
      sup.picked.delete(r.taskId);
    }
  }
  renderSupervise();
}

// ---------------------------------------------------------------- keyboard

function rows() {
  return [...document.querySelectorAll("#mine li.task, #queue li.task")];
}

function highlightCurrent() {
  for (const node of document.querySelectorAll(".task.current")) node.classList.toggle("current", node.dataset.id === state.current);
  const row = rows().find((r) => r.dataset.id === state.current);
  if (row) {
    row.classList.add("current");
    row.focus({ preventScroll: true });
    row.scrollIntoView({ block: "nearest" });
  }
}

function onKey(event) {
  if (!state.token || event.ctrlKey || event.metaKey || event.altKey) return;
  if (document.querySelector("dialog[open]")) return; // the dialog has the keys (Esc closes it)
  if (typing(event.target)) {
    if (event.key === "Escape") event.target.blur();
    return;
  }
  if (state.view === "supervise" && event.key !== "?") return;
  const all = rows();
  const at = all.findIndex((r) => r.dataset.id === state.current);
  const currentRow = at >= 0 ? all[at] : null;
  switch (event.key) {
    case "j":
    case "k": {
      if (!all.length) return;
      const next = event.key === "j" ? Math.min(at + 1, all.length - 1) : Math.max(at - 1, 0);
      state.current = all[at < 0 ? 0 : next].dataset.id;
      highlightCurrent();
      break;
    }
    case "Enter":
      if (!currentRow) return;
      showTask(currentRow.dataset.id);
      break;
    case "c":
      if (!currentRow || currentRow.closest("ul").id !== "queue") {
        flash("Choose a task of your queue first (j / k).", true);
        return;
      }
      act(currentRow.dataset.id, "claim");
      break;
    case "n":
      claimNext();
      break;
    case "/":
      $("f-q").focus();
      $("f-q").select();
      break;
    case "?":
      $("help").showModal();
      break;
    case "Escape":
      if (state.selected) closeTask();
      break;
    default:
      return;
  }
  event.preventDefault();
}

function showNew(which) {
  const list = state.lists[which];
  const first = list.items.find((t) => list.fresh.has(t.id));
  const row = first && rowOf(which, first.id);
  if (row) {
    row.scrollIntoView({ block: "center" });
    state.current = first.id;
    highlightCurrent();
  }
  for (const id of list.fresh) rowOf(which, id)?.classList.remove("new");
  list.fresh.clear();
  counts(which);
}

// ---------------------------------------------------------------- live updates

// The local server streams every task change as Server-Sent Events at /local/events. fetch() is
// used rather than EventSource so that the token goes in the Authorization header. Each event
// names a task: it is read once (events of a moment are gathered) and its rows updated in
// place. Where there is no feed (in AWS, changes go to EventBridge), the lists are read again
// every POLL_MS, as far as they are loaded, and brought in line in place.
async function follow() {
  if (state.feed) state.feed.abort();
  const controller = new AbortController();
  state.feed = controller;
  let wasLive = false;
  try {
    const headers = { Authorization: `Bearer ${state.token}`, Accept: "text/event-stream" };
    if (state.lastEventId) headers["Last-Event-ID"] = state.lastEventId; // resume after it
    const response = await fetch("local/events", {
      headers,
      cache: "no-store", signal: controller.signal,
    });
    const type = response.headers.get("Content-Type") || "";
    if (!response.ok || !response.body || !type.startsWith("text/event-stream")) throw new Error("no event feed");
    live(true);
    wasLive = true;
    const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
    let buffer = "";
    for (;;) {
      // eslint-disable-next-line no-await-in-loop
      const { value, done } = await reader.read();
      if (done) break;
      buffer += value.replace(/\r\n?/g, "\n");
      let end;
      while ((end = buffer.indexOf("\n\n")) >= 0) {
        const block = buffer.slice(0, end);
        buffer = buffer.slice(end + 2);
        const id = block.split("\n").find((l) => l.startsWith("id:"));
        if (id) state.lastEventId = id.slice(3).trim();
        const data = block.split("\n").filter((l) => l.startsWith("data:")).map((l) => l.slice(5).trim()).join("\n");
        if (data) onEvent(data);
      }
    }
  } catch {
    // no feed, or it broke: poll
  }
  if (controller.signal.aborted || !state.token) return;
  live(false);
  if (wasLive) {
    setTimeout(() => {
      if (state.feed === controller) {
        follow();
        refresh();
      }
    }, POLL_MS); // it was there: try again
  }
}

// A page the back-forward cache keeps holds nothing open: its feed would keep one of the browser's
// six connections to the server (after six inbox pages in a row, the next one waited about a
// minute, until the server dropped one). Shown again, it follows the feed and reads its lists.
window.addEventListener("pagehide", (e) => {
  if (e.persisted && state.feed) state.feed.abort();
});
window.addEventListener("pageshow", (e) => {
  if (e.persisted && state.token) {
    follow();
    refresh();
  }
});

function onEvent(data) {
  let event;
  try {
    event = JSON.parse(data);
  } catch {
    return;
  }
  const id = event.subject;
  if (!id) return;
  const at = Date.parse(event.time);
  if (state.since !== null && !Number.isNaN(at) && at < state.since) return; // in the lists already
  const version = event.data && event.data.version;
  const have = LISTS.map((w) => state.lists[w].items.find((t) => t.id === id)).find(Boolean);
  if (have && version && have.version >= version && state.selected !== id) return; // seen (my own action)
  const mark = !(event.data && event.data.actor === me());
  state.pending.add(`${mark ? "!" : ""}${id}`);
  clearTimeout(state.settle);
  state.settle = setTimeout(drain, SETTLE_MS);
}

async function drain() {
  const wanted = [...state.pending];
  state.pending.clear();
  const marks = new Map();
  for (const key of wanted) {
    const mark = key.startsWith("!");
    const id = mark ? key.slice(1) : key;
    marks.set(id, (marks.get(id) || false) || mark);
  }
  if (state.view === "supervise") await superviseTasks([...marks.keys()]);
  else await readTasks([...marks.keys()], marks);
}

// Read these tasks (eight at a time) and place each.
async function readTasks(ids, marks) {
  const queue = [...ids];
  const worker = async () => {
    while (queue.length) {
      const id = queue.shift();
      const mark = marks ? marks.get(id) : false;
      let task = null;
      try {
        // eslint-disable-next-line no-await-in-loop
        ({ data: task } = await api("GET", taskPath(id)));
      } catch (error) {
        if (error.status === 401) return;
        if (error.status !== 404) continue;
      }
      if (placeOf(task) === "ask") await placeAsked(task, mark); // eslint-disable-line no-await-in-loop
      else place(id, task, mark);
    }
  };
  await Promise.all(Array.from({ length: Math.min(8, ids.length) }, worker));
}

function live(on) {
  const node = $("live");
  node.classList.toggle("on", on);
  node.textContent = on ? "live" : `refreshing every ${POLL_MS / 1000} s`;
  clearInterval(state.poll);
  state.poll = on ? null : setInterval(() => {
    if (document.visibilityState === "visible") refresh();
  }, POLL_MS);
}

// ---------------------------------------------------------------- team (API.md "People")
// My groups' queues and members (GET /api/v1/groups/{id}/stats), and my presence.

async function openTeam() {
  if (!state.me) return;
  $("team-groups").replaceChildren(el("p", { class: "hint" }, "Loading…"));
  $("team").showModal();
  await loadTeam();
}

async function loadTeam() {
  let mine = null;
  try {
    await state.usersLoaded; // the stand-in choices are the directory's users: loaded first
    const { data } = await api("GET", `api/v1/users?filter=${encodeURIComponent(me())}`);
    mine = (data.items || []).find((u) => u.id === me()) || null;
  } catch (error) {
    $("team-groups").replaceChildren(el("p", { class: "error" }, error.message));
    return;
  }
  showAbsence(mine);
  $("team-presence").value = mine ? mine.presence : "available";
  $("team-presence").disabled = !mine;
  const groups = mine ? mine.groups : [];
  if (!groups.length) {
    $("team-groups").replaceChildren(el("p", { class: "hint" }, "You are in no group."));
    return;
  }
  const sections = await Promise.all(groups.map(async (id) => {
    try {
      const { data } = await api("GET", `api/v1/groups/${encodeURIComponent(id)}/stats`);
      return teamSection(data);
    } catch (error) {
      return el("p", { class: "error" }, `${id}: ${error.message}`);
    }
  }));
  $("team-groups").replaceChildren(...sections);
}

function teamSection(stats) {
  const q = stats.queue;
  const age = q.oldestAgeSeconds === null ? "none waiting" : `oldest waiting ${Math.round(q.oldestAgeSeconds)} s`;
  const rows = stats.members.map((m) => el("tr", { dataset: { id: m.id } },
    el("th", { scope: "row" }, nameOf(m.id)),
    el("td", { class: "presence" }, m.known ? m.presence : "unknown"),
    el("td", { class: "load" }, m.known ? `${m.load}${m.capacity === null ? "" : ` / ${m.capacity}`}` : ""),
  ));
  return el("section", { class: "team-group", dataset: { id: stats.groupId } },
    el("h3", {}, `${stats.name} `, el("span", { class: "hint" }, `(${stats.routing.strategy})`)),
    el("p", { class: "team-queue" },
      `${q.depth} in the queue, ${age}, ${q.pastDue} past due, ${q.offered} offered, ${q.escalated} escalated`),
    el("table", { class: "team-members" },
      el("thead", {}, el("tr", {}, el("th", { scope: "col" }, "member"), el("th", { scope: "col" }, "presence"),
        el("th", { scope: "col" }, "load / capacity"))),
      el("tbody", {}, rows)));
}

async function setPresence(status) {
  try {
    await api("PUT", `api/v1/users/${encodeURIComponent(me())}/presence`, { body: { status } });
    flash(`You are ${status}.`);
  } catch (error) {
    flash(error.message, true);
  }
  await loadTeam();
}

// My absence (PUT / DELETE /api/v1/users/{me}/absence): from, until, who stands in and how.
const localInput = (date) => (Number.isNaN(date.getTime()) ? ""
  : new Date(date.getTime() - date.getTimezoneOffset() * 60000).toISOString().slice(0, 16));

function showAbsence(mine) {
  const absence = mine && mine.absence;
  const select = $("absence-delegate");
  const users = [...state.users.values()].filter((u) => u.active !== false && u.id !== me());
  if (select.options.length !== users.length + 1) {
    select.replaceChildren(el("option", { value: "" }, "nobody (my work waits in its queues)"),
      ...users.map((u) => el("option", { value: u.id }, nameOf(u.id))));
  }
  $("absence-end").hidden = !absence;
  if (absence) {
    $("absence-now").textContent = `You are away from ${when(absence.from)} until ${when(absence.until)}`
      + `${absence.delegateTo ? `; ${nameOf(absence.delegateTo)} stands in (${absence.mode})` : ""}.`;
    $("absence-from").value = localInput(new Date(absence.from));
    $("absence-until").value = localInput(new Date(absence.until));
    select.value = absence.delegateTo || "";
    $("absence-mode").value = absence.mode || "redirect";
  } else {
    $("absence-now").textContent = "No absence set.";
    if (!$("absence-from").value) $("absence-from").value = localInput(new Date());
  }
}

async function setAbsence(event) {
  event.preventDefault();
  const from = new Date($("absence-from").value);
  const until = new Date($("absence-until").value);
  if (Number.isNaN(from.getTime()) || Number.isNaN(until.getTime())) {
    flash("Give when your absence starts and ends.", true);
    return;
  }
  const body = { from: from.toISOString(), until: until.toISOString(), mode: $("absence-mode").value };
  if ($("absence-delegate").value) body.delegateTo = $("absence-delegate").value;
  try {
    await api("PUT", `api/v1/users/${encodeURIComponent(me())}/absence`, { body });
    flash(`Your absence is set until ${when(body.until)}.`);
  } catch (error) {
    if (error.status !== 401) flash(error.message, true);
  }
  await loadTeam();
}

async function endAbsence() {
  try {
    await api("DELETE", `api/v1/users/${encodeURIComponent(me())}/absence`);
    flash("Your absence has ended.");
  } catch (error) {
    if (error.status !== 401) flash(error.message, true);
  }
  await loadTeam();
}

function wireTeam() {
  $("absence").addEventListener("submit", setAbsence);
  $("absence-end").addEventListener("click", endAbsence);
  $("team-open").addEventListener("click", openTeam);
  $("team-presence").addEventListener("change", (event) => setPresence(event.target.value));
  // The button shows while someone is signed in (the app is shown).
  const show = () => { $("team-open").hidden = $("app").hidden; };
  new MutationObserver(show).observe($("app"), { attributes: true, attributeFilter: ["hidden"] });
  show();
}

wireTeam();
start();
