// Baton inbox: my tasks and my queue, claim, claim next, release, complete, reassign, history.
// Plain JavaScript, no build step, no third-party code; it talks only to the API it is served by
// (and, in AWS, to the user pool's hosted UI to sign in). Every text from the API is put in the
// page as text, never as HTML.
"use strict";

const PAGE = 50; // tasks per list page
const POLL_MS = 15000; // refresh period when the event feed is not there
const $ = (id) => document.getElementById(id);

const state = {
  token: null, // the bearer token: in memory; in AWS also in sessionStorage (this tab only)
  me: null, // the token's claims
  cognito: null, // the hosted UI's URL and client id, when signed in through it
  users: new Map(), // user id -> user, for names and the reassign list
  lists: { mine: { items: [], cursor: null }, queue: { items: [], cursor: null } },
  selected: null, // id of the task shown in the detail panel
  poll: null,
  feed: null,
  refreshing: null,
};

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

function rolesOf(claims) {
  const groups = claims["cognito:groups"];
  return Array.isArray(groups) ? groups : [];
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
  return Number.isNaN(date.getTime()) ? text : date.toLocaleString();
}

const taskPath = (id, rest = "") => `api/v1/tasks/${encodeURIComponent(id)}${rest}`;

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
  history.replaceState(null, "", `${location.pathname}?user=${encodeURIComponent(userId)}`);
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
  $("sign-out").addEventListener("click", () => {
    signOut("");
    if (state.cognito) { // end the hosted UI's session too; it sends the browser back here
      const query = new URLSearchParams({ client_id: state.cognito.clientId, logout_uri: redirectUri() });
      location.assign(`${state.cognito.url}/logout?${query}`);
    }
  });
  $("refresh").addEventListener("click", () => refresh());
  $("claim-next").addEventListener("click", claimNext);
  $("mine-more").addEventListener("click", () => loadList("mine", true));
  $("queue-more").addEventListener("click", () => loadList("queue", true));
  $("reassign").addEventListener("submit", reassign);
  $("token-sign-in").addEventListener("submit", (event) => {
    event.preventDefault();
    const token = $("token-input").value.trim();
    if (token) begin(token, true);
  });
  const params = new URLSearchParams(location.search);
  try {
    const demo = await demoDirectory();
    if (demo) {
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
  if (keep) sessionStorage.setItem("baton.token", token);
  $("sign-in").hidden = true;
  $("app").hidden = false;
  $("sign-out").hidden = false;
  const roles = rolesOf(claims);
  $("who").textContent = `${claims.username || claims["cognito:username"] || claims.sub}`
    + ` · ${claims["custom:tenant"] || ""}${roles.length ? ` · ${roles.join(", ")}` : ""}`;
  flash("");
  await loadUsers();
  await refresh();
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
  $("detail").hidden = true;
  history.replaceState(null, "", location.pathname);
  showSignIn();
  flash(message, Boolean(message));
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

async function loadList(which, more = false) {
  const list = state.lists[which];
  const cursor = more && list.cursor ? `&cursor=${encodeURIComponent(list.cursor)}` : "";
  const { data } = await api("GET", `api/v1/tasks?${QUERIES[which]}&limit=${PAGE}${cursor}`);
  list.items = more ? list.items.concat(data.items) : data.items;
  list.cursor = data.cursor || null;
  render(which);
}

async function refresh() {
  if (!state.token) return;
  if (state.refreshing) return state.refreshing;
  state.refreshing = (async () => {
    try {
      await Promise.all([loadList("mine"), loadList("queue")]);
      if (state.selected) await showTask(state.selected);
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
  const items = list.items.map((task) => taskItem(task, which));
  node.replaceChildren(...(items.length ? items : [el("li", { class: "empty" },
    which === "mine" ? "Nothing assigned to you." : "Nothing waiting in your queue.")]));
  $(`${which}-count`).textContent = `(${list.items.length}${list.cursor ? "+" : ""})`;
  $(`${which}-more`).hidden = !list.cursor;
}

function taskItem(task, which) {
  const meta = [el("span", { class: "id" }, task.id)];
  if (task.priority !== undefined && task.priority !== null) meta.push(el("span", { class: "priority" }, `priority ${task.priority}`));
  if (task.dueDate) {
    const overdue = new Date(task.dueDate) < new Date();
    meta.push(el("span", { class: `due${overdue ? " overdue" : ""}` }, `due ${when(task.dueDate)}`));
  }
  if (task.leaseExpiresAt) meta.push(el("span", { class: "lease" }, `lease until ${when(task.leaseExpiresAt)}`));
  if (which === "queue") {
    const offered = [...(task.candidateGroups || []).map((g) => `group ${g}`), ...(task.candidateUsers || [])];
    if (offered.length) meta.push(el("span", { class: "offered" }, `offered to ${offered.join(", ")}`));
  }
  const actions = which === "mine"
    ? [button("Release", () => act(task, "release")), button("Complete", () => act(task, "complete")),
      button("Reassign…", () => showTask(task.id, true))]
    : [button("Claim", () => act(task, "claim"), "primary")];
  actions.push(button("History", () => showTask(task.id)));
  return el("li", { class: `task${state.selected === task.id ? " selected" : ""}`, dataset: { id: task.id } },
    el("div", { class: "title" }, task.name || task.id), el("div", { class: "meta" }, meta),
    el("div", { class: "actions" }, actions));
}

function button(label, handler, cls = "") {
  return el("button", {
    type: "button", class: cls, dataset: { action: label.replace("…", "").toLowerCase() },
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

// ---------------------------------------------------------------- actions

const ACTIONS = {
  claim: (task) => api("POST", `operations-manager/tasks/${encodeURIComponent(task.id)}/claim`, { version: task.version }),
  release: (task) => api("POST", `operations-manager/tasks/${encodeURIComponent(task.id)}/release`, { version: task.version }),
  complete: (task) => api("POST", taskPath(task.id, "/action/complete"), { body: {}, version: task.version }),
};
const DONE = { claim: "Claimed", release: "Released", complete: "Completed" };

async function act(task, action) {
  try {
    await ACTIONS[action](task);
    flash(`${DONE[action]} ${task.name || task.id}.`);
  } catch (error) {
    if (error.status === 401) return;
    flash(error.status === 412 ? `${task.id} changed meanwhile: the lists are fresh again.` : error.message, true);
  }
  await refresh();
}

async function claimNext() {
  try {
    const { status, data } = await api("POST", "api/v1/tasks/claim-next", { body: {} });
    if (status === 204 || !data) flash("Nothing in your queue to claim.");
    else flash(`Claimed ${data.name || data.id}.`);
  } catch (error) {
    if (error.status === 401) return;
    flash(error.status === 404 ? "Claim next is not available on this server." : error.message, true);
  }
  await refresh();
}

async function reassign(event) {
  event.preventDefault();
  const id = state.selected;
  const target = $("reassign-user").value;
  const comment = $("reassign-comment").value.trim();
  const body = { newStepUserIds: [target] };
  if (comment) body.comment = comment;
  try {
    await api("POST", taskPath(id, "/action/reassign"), { body });
    flash(`Reassigned ${id} to ${nameOf(target)}.`);
    $("reassign-comment").value = "";
  } catch (error) {
    if (error.status !== 401) flash(error.message, true);
  }
  await refresh();
}

// ---------------------------------------------------------------- detail and history

async function showTask(id, focusReassign = false) {
  state.selected = id;
  for (const node of document.querySelectorAll(".task")) node.classList.toggle("selected", node.dataset.id === id);
  let task;
  let events;
  try {
    [{ data: task }, { data: events }] = await Promise.all([
      api("GET", taskPath(id)), api("GET", taskPath(id, "/history?limit=100"))]);
  } catch (error) {
    if (error.status !== 401) flash(error.message, true);
    return;
  }
  $("detail").hidden = false;
  $("detail-title").textContent = task.name || task.id;
  const fields = [["id", task.id], ["status", task.status], ["assignee", nameOf(task.assignee) || "nobody"],
    ["priority", task.priority], ["due", when(task.dueDate)], ["candidates",
      [...(task.candidateGroups || []).map((g) => `group ${g}`), ...(task.candidateUsers || [])].join(", ")],
    ["version", task.version], ["updated", when(task.updatedAt)]];
  $("detail-fields").replaceChildren(...fields.filter(([, v]) => v !== undefined && v !== null && v !== "")
    .flatMap(([k, v]) => [el("dt", {}, k), el("dd", {}, v)]));
  $("history").replaceChildren(...events.items.map((e, i) => el("tr", {},
    el("td", {}, e.version ?? i + 1), el("td", {}, when(e.at)), el("td", {}, nameOf(e.actor)), el("td", {}, e.action),
    el("td", {}, nameOf(e.from)), el("td", {}, nameOf(e.to) || (e.candidates || []).join(", ")),
    el("td", {}, describeEvent(e, (id) => state.users.get(id)?.firstname || id)))));
  const mine = task.status === "open" && task.assignee === state.me.sub;
  $("reassign").hidden = !mine;
  if (mine) {
    const select = $("reassign-user");
    const others = [...state.users.values()].filter((u) => u.id !== state.me.sub);
    const shown = [...select.options].map((o) => o.value).join("\n");
    if (shown !== others.map((u) => u.id).join("\n")) { // rebuilt only when it changed: a refresh
      const current = select.value; // must not reset a choice being made
      select.replaceChildren(...others.map((u) => el("option", { value: u.id }, nameOf(u.id))));
      if (current) select.value = current;
    }
    if (focusReassign) select.focus();
  }
}

// ---------------------------------------------------------------- live updates

// The local server streams every task change as Server-Sent Events at /local/events. fetch() is
// used rather than EventSource so that the token goes in the Authorization header. Where there
// is no feed (in AWS, changes go to EventBridge), the lists refresh every POLL_MS instead.
async function follow() {
  if (state.feed) state.feed.abort();
  const controller = new AbortController();
  state.feed = controller;
  let pending = null;
  let wasLive = false;
  const changed = () => {
    clearTimeout(pending);
    pending = setTimeout(refresh, 200);
  };
  try {
    const response = await fetch("local/events", {
      headers: { Authorization: `Bearer ${state.token}`, Accept: "text/event-stream" },
      cache: "no-store", signal: controller.signal,
    });
    const type = response.headers.get("Content-Type") || "";
    if (!response.ok || !response.body || !type.startsWith("text/event-stream")) throw new Error("no event feed");
    live(true);
    wasLive = true;
    const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
    let buffer = "";
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      buffer += value.replace(/\r\n?/g, "\n");
      let end;
      while ((end = buffer.indexOf("\n\n")) >= 0) {
        const block = buffer.slice(0, end);
        buffer = buffer.slice(end + 2);
        if (/^data:/m.test(block)) changed();
      }
    }
  } catch {
    // no feed, or it broke: poll
  }
  if (controller.signal.aborted || !state.token) return;
  live(false);
  if (wasLive) setTimeout(() => state.feed === controller && follow(), POLL_MS); // it was there: try again
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

start();
