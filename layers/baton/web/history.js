// Baton inbox: a history event in words a person reads, from its changes, action, actor, reason
// and comment ("Bob → Cat, reassigned by Ada: rebalance"). Loaded before inbox.js; `describeEvent`
// takes the event and a function naming a user id.

const PAST = {
  create: "created", claim: "claimed", release: "released", assign: "assigned", unassign: "unassigned",
  reassign: "reassigned", complete: "completed", abandon: "abandoned", heartbeat: "lease extended",
  "lease-expired": "lease expired", update: "updated", "assignee-add": "assignee added",
  "assignee-remove": "assignee removed",
};
const FIELDS = {
  candidateUsers: "candidate users", candidateGroups: "candidate groups", dueDate: "due date",
  lease: "lease until",
};
const REASONS = {
  "lease-expired": "the lease expired", "offer-expired": "the offer expired", "offer-rejected": "the offer was rejected",
  offboarding: "offboarding",
};

function reasonInWords(code) {
  if (REASONS[code]) return REASONS[code];
  const [kind, arg] = code.split(/:(.*)/s);
  if (kind === "routing") return `routed ${arg}`;
  if (kind === "escalation") return `escalation step ${arg}`;
  if (kind === "absence") return `absence (${arg})`;
  return code;
}

function valueInWords(value) {
  if (value === null || value === undefined || value === "") return "none";
  if (Array.isArray(value)) return value.length ? value.join(", ") : "none";
  if (typeof value === "object") {
    return Object.entries(value).map(([k, v]) => `${k} ${valueInWords(v)}`).join(", ");
  }
  return String(value);
}

function describeEvent(event, name = (id) => id) {
  const who = (id) => (id ? name(id) : "nobody");
  const changes = event.action === "create" ? {} : (event.changes || {});
  const parts = [];
  if (changes.assignee) parts.push(`${who(changes.assignee.from)} → ${who(changes.assignee.to)}`);
  for (const [field, change] of Object.entries(changes)) {
    if (field === "assignee") continue;
    parts.push(`${FIELDS[field] || field} ${valueInWords(change.from)} → ${valueInWords(change.to)}`);
  }
  let text = parts.join("; ");
  text += `${text ? ", " : ""}${PAST[event.action] || event.action} by ${who(event.actor)}`;
  if (event.onBehalfOf) text += ` for ${who(event.onBehalfOf)}`;
  if (event.reason && event.reason !== "request") text += ` (${reasonInWords(event.reason)})`;
  if (event.comment) text += `: ${event.comment}`;
  return text;
}

if (typeof module !== "undefined") module.exports = { describeEvent };
