// The sandbox page: the customer's phone on the left, the agent's chat on the right, and the
// wire between them. Everything it shows comes from /api/state, read again whenever the
// server says something changed (server-sent events on /api/events).
"use strict";

const $ = (id) => document.getElementById(id);
const state = {
  data: null,
  personas: [
    { number: "15550100001", name: "Ana" },
    { number: "15550100002", name: "Ben" },
  ],
  customer: "15550100001",
  contact: "",
  replyTo: null,
  pane: "phone",
  readAsked: new Set(),
  wireOpen: new Set(),
  openLists: new Set(),
};

function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (value === undefined || value === null || value === false) continue;
    if (key === "class") node.className = value;
    else if (key === "text") node.textContent = value;
    else if (key.startsWith("on")) node.addEventListener(key.slice(2), value);
    else node.setAttribute(key, value === true ? "" : String(value));
  }
  for (const child of children) {
    if (child === null || child === undefined || child === false) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return node;
}

function formatNumber(digits) {
  const d = String(digits);
  if (d.length === 11 && d.startsWith("1")) return `+1 ${d.slice(1, 4)} ${d.slice(4, 7)} ${d.slice(7)}`;
  return `+${d}`;
}

function clock(seconds) {
  return new Date(seconds * 1000).toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" });
}

// --- talking to the server ---------------------------------------------------------------

// The person's actions reach the sandbox in the order they made them: the browser would send
// two quick ones (a text, then a file) on two connections at once, and the sandbox would run
// whichever came first. Each request waits until the one before it was answered.
let requests = Promise.resolve();

async function post(url, body, statusId) {
  const status = $(statusId);
  status.textContent = "";
  const options = { method: "POST" };
  if (body instanceof FormData) options.body = body;
  else {
    options.body = JSON.stringify(body);
    options.headers = { "content-type": "application/json" };
  }
  const turn = requests.then(() => fetch(url, options));
  requests = turn.catch(() => null);
  let response;
  try {
    response = await turn;
  } catch (error) {
    status.textContent = "The sandbox is not answering.";
    return null;
  }
  const answer = await response.json().catch(() => ({}));
  if (!response.ok) {
    status.textContent = answer.error || `Refused (${response.status})`;
    return null;
  }
  await refresh();
  return answer;
}

let refreshing = null;
let again = false;
async function refresh() {
  if (refreshing) {
    again = true;
    return refreshing;
  }
  refreshing = (async () => {
    do {
      again = false;
      try {
        const response = await fetch("/api/state");
        if (response.ok) {
          state.data = await response.json();
          render();
        }
      } catch (error) {
        // The sandbox stopped; the event stream reconnects and asks again when it is back.
      }
    } while (again);
  })();
  await refreshing;
  refreshing = null;
}

function listen() {
  const source = new EventSource("/api/events");
  let timer = null;
  const soon = () => {
    clearTimeout(timer);
    timer = setTimeout(refresh, 60);
  };
  source.addEventListener("state", soon);
  source.addEventListener("wire", soon);
  source.addEventListener("open", soon);
}

// --- rendering: the phone ----------------------------------------------------------------

// A message list stays on its newest message unless the person scrolled up, also while images
// and players load after it was drawn (they grow it) and while its pane was hidden.
function followBottom(list) {
  list.dataset.stick = "true";
  list.addEventListener("scroll", () => {
    if (!list.clientHeight) return; // hidden: no position to read
    list.dataset.stick = String(list.scrollHeight - list.scrollTop - list.clientHeight < 40);
  });
  const settle = () => keepAtBottom(list);
  list.addEventListener("load", settle, true);
  list.addEventListener("loadedmetadata", settle, true);
}

function keepAtBottom(list) {
  if (list.dataset.stick === "true") list.scrollTop = list.scrollHeight;
}

function renderPersonas() {
  const select = $("customer-select");
  const known = new Map(state.personas.map((p) => [p.number, p]));
  for (const customer of state.data.customers) {
    if (/^\d+$/.test(customer) && !known.has(customer)) {
      const persona = { number: customer, name: "" };
      state.personas.push(persona);
      known.set(customer, persona);
    }
  }
  const wanted = state.personas.map((p) => `${p.number}|${p.name}`).join(",");
  if (select.dataset.built !== wanted) {
    select.replaceChildren(
      ...state.personas.map((p) =>
        el("option", { value: p.number, text: `${p.name || "Customer"} (${formatNumber(p.number)})` })
      )
    );
    select.dataset.built = wanted;
  }
  select.value = state.customer;
}

function persona() {
  return state.personas.find((p) => p.number === state.customer) || { number: state.customer, name: "" };
}

function mediaUrl(id) {
  return `/media/whatsapp/${encodeURIComponent(id)}`;
}

function messageBody(message) {
  const parts = [];
  const kind = message.kind;
  if (kind === "image" || kind === "sticker") {
    parts.push(el("img", { src: mediaUrl(message.media_id), alt: message.text || `${kind} from ${message.from_customer ? "you" : "the business"}` }));
  } else if (kind === "video") {
    parts.push(el("video", { src: mediaUrl(message.media_id), controls: true, "aria-label": "Video" }));
  } else if (kind === "audio") {
    parts.push(el("span", { class: "voice-label", text: message.voice ? "🎤 Voice message" : "🎵 Audio" }));
    parts.push(el("audio", { src: mediaUrl(message.media_id), controls: true, preload: "metadata", "aria-label": message.voice ? "Voice message" : "Audio" }));
  } else if (kind === "document") {
    const name = message.filename || "Document";
    parts.push(
      el("div", { class: "doc" },
        el("span", { class: "icon", "aria-hidden": "true", text: "📄" }),
        el("a", { href: mediaUrl(message.media_id), download: name, text: name, "aria-label": `Download ${name}` }))
    );
  } else if (kind === "location") {
    const d = message.details;
    parts.push(el("div", { class: "card" }, `📍 ${d.name || "Location"}`, el("br"), d.address || "", el("br"),
      el("small", { text: `${d.latitude}, ${d.longitude}` })));
  } else if (kind === "contacts") {
    for (const card of message.details.contacts || []) {
      parts.push(el("div", { class: "card" }, `👤 ${card.name}`, card.phone ? el("br") : null, card.phone || ""));
    }
  } else if (kind === "interactive" && !message.from_customer) {
    if (message.text) parts.push(el("div", { class: "text" }, ...renderWhatsApp(message.text)));
    parts.push(choices(message));
    return parts;
  } else if (kind === "button" || kind === "interactive") {
    parts.push(el("span", { text: message.text }));
    return parts;
  } else if (kind !== "text") {
    parts.push(el("em", { text: `(${kind})` }));
  }
  if (message.text) parts.push(el("div", { class: "text" }, ...renderWhatsApp(message.text)));
  return parts;
}

// The business's question with options, as WhatsApp shows it: reply buttons under the bubble,
// or one button opening the list's rows. Tapping one sends the reply WhatsApp would send.
function choices(message) {
  const details = message.details || {};
  const options = details.options || [];
  const tap = (option) => {
    state.openLists.delete(message.wamid); // a chosen row closes the list, as on a phone
    return post("/api/customer/choice", {
    ...customerFields(), reply_to: message.wamid, reply_id: option.id, title: option.title,
      description: option.description || "", list: details.type === "list",
    }, "wa-status");
  };
  if (details.type !== "list") {
    return el("div", { class: "choices", role: "group", "aria-label": "Reply buttons" },
      ...options.map((option) => el("button", { type: "button", class: "choice",
        "aria-label": `Tap the reply button ${option.title}`, text: option.title, onclick: () => tap(option) })));
  }
  const open = state.openLists.has(message.wamid);
  const rows = el("ul", { class: "rows", hidden: !open, "aria-label": details.button || "Options" },
    ...options.map((option) => el("li", {},
      el("button", { type: "button", class: "row", "aria-label": `Choose ${option.title}`, onclick: () => tap(option) },
        el("span", { class: "row-title", text: option.title }),
        option.description ? el("span", { class: "row-description", text: option.description }) : null))));
  const opener = el("button", { type: "button", class: "choice", "aria-expanded": String(open),
    "aria-label": `Open the list: ${details.button || "Options"}`, text: `☰ ${details.button || "Options"}` });
  opener.addEventListener("click", () => {
    rows.hidden = !rows.hidden;
    opener.setAttribute("aria-expanded", String(!rows.hidden));
    // Kept across redraws: a new message must not close the list being read.
    if (rows.hidden) state.openLists.delete(message.wamid); else state.openLists.add(message.wamid);
  });
  return el("div", { class: "choices list" }, opener, rows);
}

function renderWhatsApp(text) {
  // WhatsApp's own formatting (*bold*, _italic_, ~strike~), built as nodes, never as HTML.
  const parts = [];
  const pattern = /(\*[^*\n]+\*|_[^_\n]+_|~[^~\n]+~)/g;
  const tags = { "*": "strong", _: "em", "~": "s" };
  let last = 0;
  for (const match of text.matchAll(pattern)) {
    if (match.index > last) parts.push(text.slice(last, match.index));
    parts.push(el(tags[match[0][0]], { text: match[0].slice(1, -1) }));
    last = match.index + match[0].length;
  }
  parts.push(text.slice(last));
  return parts;
}

function ticks(message) {
  if (!message.from_customer) return null;
  const status = message.status;
  if (status === "failed") return el("span", { class: "ticks failed", text: "!", title: "Not delivered" });
  const read = status === "read";
  return el("span", { class: `ticks${read ? " read" : ""}`, text: status === "sent" ? "✓" : "✓✓",
    title: read ? "Read" : status === "sent" ? "Sent" : "Delivered", "aria-label": read ? "Read" : "Delivered" });
}

function snippet(message) {
  if (!message) return "a message";
  if (message.text) return message.text.slice(0, 80);
  if (message.filename) return `📄 ${message.filename}`;
  return { image: "📷 Photo", audio: "🎤 Voice message", video: "🎬 Video", location: "📍 Location", contacts: "👤 Contact" }[message.kind] || message.kind;
}

function renderPhone() {
  const list = $("wa-messages");
  const messages = (state.data.phones[state.customer] || []);
  const byId = new Map(messages.map((m) => [m.wamid, m]));
  // Drawn again only when it changed: a redraw restarts players and reloads images.
  const drawn = `${state.customer}|${JSON.stringify(messages)}`;
  if (list.dataset.drawn === drawn) {
    markRead(messages);
    return;
  }
  list.dataset.drawn = drawn;
  if (list.dataset.customer !== state.customer) list.dataset.stick = "true";
  list.replaceChildren(
    ...messages.map((message) => {
      const mine = message.from_customer;
      const who = mine ? "You" : "Sandbox Support";
      const item = el("li", {
        class: `bubble ${mine ? "mine" : "theirs"}${message.reactions.length ? " reacted" : ""}`,
        "data-wamid": message.wamid,
        "data-kind": message.kind,
        "aria-label": `${who}: ${snippet(message)}`,
      });
      if (message.reply_to) {
        item.append(el("div", { class: "quote", text: `↩ ${snippet(byId.get(message.reply_to))}` }));
      }
      item.append(...messageBody(message));
      item.append(el("div", { class: "meta" }, clock(message.at), ticks(message)));
      if (message.reactions.length) {
        item.append(el("span", { class: "reactions", "aria-label": "Reactions", text: message.reactions.map((r) => r[0]).join("") }));
      }
      item.append(
        el("div", { class: "bubble-actions" },
          el("button", { type: "button", "aria-label": `Reply to: ${snippet(message)}`, text: "↩", onclick: () => startReply(message) }),
          el("button", { type: "button", "aria-label": `React to: ${snippet(message)}`, text: "☺", onclick: (event) => openPicker(event, message) }))
      );
      return item;
    })
  );
  list.dataset.customer = state.customer;
  keepAtBottom(list);
  markRead(messages);
}

function markRead(messages) {
  const unread = messages.filter((m) => !m.from_customer && (m.status === "sent" || m.status === "delivered") && m.kind !== "reaction");
  const fresh = unread.filter((m) => !state.readAsked.has(m.wamid));
  if (!fresh.length || document.visibilityState === "hidden") return;
  for (const m of fresh) state.readAsked.add(m.wamid);
  post("/api/customer/read", { customer: state.customer }, "wa-status");
}

function startReply(message) {
  state.replyTo = message.wamid;
  $("wa-replying").hidden = false;
  $("wa-replying-text").textContent = `Replying to: ${snippet(message)}`;
  $("wa-text").focus();
}

function cancelReply() {
  state.replyTo = null;
  $("wa-replying").hidden = true;
}

let pickerTarget = null;
function openPicker(event, message) {
  pickerTarget = message.wamid;
  const picker = $("emoji-picker");
  picker.hidden = false;
  const box = event.currentTarget.getBoundingClientRect();
  picker.style.top = `${Math.max(8, box.top - 44)}px`;
  picker.style.left = `${Math.max(8, Math.min(window.innerWidth - 220, box.left - 160))}px`;
  picker.querySelector("button").focus();
}

// --- rendering: the agent's side ---------------------------------------------------------

function chosenChat() {
  const chats = state.data.chats;
  if (!chats.length) return null;
  let chat = chats.find((c) => c.contact_id === state.contact);
  if (!chat) {
    chat = [...chats].reverse().find((c) => c.active) || chats[chats.length - 1];
    state.contact = chat.contact_id;
  }
  return chat;
}

function followCustomer() {
  // A new chat of the customer on the phone comes to the front on the agent's side.
  const chats = state.data.chats.filter((c) => c.customer === state.customer && c.active);
  const newest = chats[chats.length - 1];
  if (newest && newest.contact_id !== state.lastFollowed) {
    state.lastFollowed = newest.contact_id;
    state.contact = newest.contact_id;
  }
}

function renderContacts() {
  const chats = state.data.chats;
  $("contacts-empty").hidden = chats.length > 0;
  $("contacts").replaceChildren(
    ...[...chats].reverse().map((chat) =>
      el("li", {},
        el("button", {
          type: "button",
          "aria-current": chat.contact_id === state.contact ? "true" : "false",
          "aria-label": `Open the chat with ${chat.display_name} (${chat.active ? "open" : "ended"})`,
          onclick: () => { state.contact = chat.contact_id; render(); },
        },
        el("span", { class: "who", text: chat.display_name || chat.customer }),
        el("span", { class: "sub", text: `${formatNumber(chat.customer)} ` }),
        el("span", { class: `badge${chat.active ? "" : " ended"}`, text: chat.active ? "open" : "ended" })))
    )
  );
}

const NOTICES = {
  "application/vnd.amazonaws.connect.event.participant.joined": "joined the chat",
  "application/vnd.amazonaws.connect.event.participant.left": "left the chat",
  "application/vnd.amazonaws.connect.event.chat.ended": "The chat ended",
  "application/vnd.amazonaws.connect.event.transfer.succeeded": "The chat was transferred",
};

function renderMarkdown(text) {
  // Bold and italic only, built as nodes (never innerHTML), so nothing a customer types runs.
  const parts = [];
  const pattern = /(\*\*[^*]+\*\*|_[^_]+_)/g;
  let last = 0;
  for (const match of text.matchAll(pattern)) {
    if (match.index > last) parts.push(text.slice(last, match.index));
    const token = match[0];
    parts.push(token.startsWith("**") ? el("strong", { text: token.slice(2, -2) }) : el("em", { text: token.slice(1, -1) }));
    last = match.index + token.length;
  }
  parts.push(text.slice(last));
  return parts;
}

const INTERACTIVE = "application/vnd.amazonaws.connect.message.interactive";

function interactiveBody(content) {
  // A quick reply or list picker as the agent reads it: the question, then its options.
  let content_ = null;
  try {
    content_ = JSON.parse(content).data.content;
  } catch (error) {
    return [content];
  }
  const options = (content_ && content_.elements) || [];
  return [content_.title || "", el("ul", { class: "options" }, ...options.map((o) => el("li", { text: o.title || "" })))];
}

function attachmentBody(item) {
  const url = `/media/connect/${encodeURIComponent(item.attachment_id)}`;
  const type = item.attachment_type || "";
  const name = item.attachment_name;
  if (item.attachment_status === "REJECTED") {
    return [el("span", { class: "badge rejected", text: "rejected by the scan" }), ` ${name}`];
  }
  const link = el("a", { href: `${url}?download=1`, download: name, text: `📄 ${name}`, "aria-label": `Download ${name}` });
  if (type.startsWith("image/")) return [el("img", { src: url, alt: name }), link];
  if (type.startsWith("audio/")) return [el("audio", { src: url, controls: true, preload: "metadata", "aria-label": `Play ${name}` }), link];
  return [link];
}

function renderTranscript() {
  const chat = chosenChat();
  const list = $("transcript");
  $("end-chat").disabled = !chat || !chat.active;
  $("ccp-send").disabled = $("ccp-attach").disabled = $("ccp-options").disabled = !chat || !chat.active;
  if (!chat) {
    $("ccp-name").textContent = "No chat selected";
    $("ccp-meta").textContent = "";
    list.replaceChildren();
    delete list.dataset.drawn;
    return;
  }
  $("ccp-name").textContent = `${chat.display_name || "Customer"} · ${formatNumber(chat.customer)}`;
  $("ccp-meta").textContent = `Contact ${chat.contact_id} · ${chat.active ? "open" : "ended"} · WhatsApp`;
  const drawn = `${chat.contact_id}|${chat.active}|${JSON.stringify(chat.items)}`;
  if (list.dataset.drawn === drawn) return;
  list.dataset.drawn = drawn;
  if (list.dataset.contact !== chat.contact_id) list.dataset.stick = "true";
  list.replaceChildren(
    ...chat.items.map((item) => {
      if (item.kind === "EVENT") {
        const notice = NOTICES[item.content_type];
        if (!notice) return null;
        const who = item.role === "SYSTEM" || notice.startsWith("The") ? "" : `${item.display_name || item.role} `;
        return el("li", { class: "notice", "data-kind": "event", text: `${who}${notice}` });
      }
      const role = item.role === "AGENT" ? "agent" : "customer";
      const body = el("div", { class: "body" });
      if (item.kind === "ATTACHMENT") body.append(...attachmentBody(item));
      else if (item.content_type === INTERACTIVE) body.append(...interactiveBody(item.content));
      else if (item.content_type === "text/markdown") body.append(...renderMarkdown(item.content));
      else body.append(item.content);
      return el("li", { class: `item ${role}`, "data-kind": item.kind.toLowerCase(), "data-item": item.item_id },
        el("div", { class: "who", text: `${item.display_name || item.role} · ${item.at.slice(11, 16)}` }), body);
    }).filter(Boolean)
  );
  list.dataset.contact = chat.contact_id;
  keepAtBottom(list);
}

// --- rendering: the wire -----------------------------------------------------------------

function renderWire() {
  const events = state.data.wire;
  $("wire-count").textContent = String(events.length);
  if ($("wire").hidden) return;
  $("wire-list").replaceChildren(
    ...events.map((event) => {
      const details = el("details", { open: state.wireOpen.has(event.seq) });
      details.addEventListener("toggle", () => {
        if (details.open) state.wireOpen.add(event.seq); else state.wireOpen.delete(event.seq);
      });
      const bad = event.status >= 400;
      details.append(
        el("summary", { "aria-label": `${{ in: "Received", out: "Called" }[event.direction] || "Sandbox"} ${event.title}${event.status ? ` (${event.status})` : ""}` },
          el("span", { class: `dir ${event.direction}`, text: { in: "↓", out: "↑" }[event.direction] || "⚡" }),
          el("span", { class: "time", text: new Date(event.at * 1000).toLocaleTimeString() }),
          el("span", { class: "title", text: event.title }),
          event.status ? el("span", { class: `code${bad ? " bad" : ""}`, text: `${event.status}${event.error ? ` ${event.error}` : ""}` }) : null),
        el("pre", { text: event.body })
      );
      return el("li", { "data-direction": event.direction }, details);
    })
  );
}

function renderBridge() {
  // Where the bridge runs, and what happened to it: a crash and the process that took over.
  const bridge = state.data.bridge;
  const last = bridge.crashes[bridge.crashes.length - 1];
  const where = bridge.child ? `child process ${bridge.process}` : "in the sandbox's process";
  const text = last
    ? `Bridge: ${last.killed} killed, ${last.fresh} took over (${where})`
    : `Bridge: ${where}`;
  const node = $("bridge-state");
  if (node.textContent !== text) node.textContent = text;
  node.classList.toggle("crashed", Boolean(last));
}

function render() {
  if (!state.data) return;
  renderBridge();
  renderPersonas();
  followCustomer();
  renderPhone();
  renderContacts();
  renderTranscript();
  renderWire();
}

// --- the customer's actions --------------------------------------------------------------

function customerFields() {
  const p = persona();
  return { customer: p.number, name: p.name };
}

async function sendText(event) {
  event.preventDefault();
  const input = $("wa-text");
  const text = input.value;
  if (!text.trim()) return;
  // Cleared at once, as a phone does: what is typed meanwhile belongs to the next message.
  const replyTo = state.replyTo;
  input.value = "";
  cancelReply();
  const answer = await post("/api/customer/text", { ...customerFields(), text, reply_to: replyTo }, "wa-status");
  if (!answer && !input.value) input.value = text;
}

async function sendUpload(kind, file, extra = {}) {
  const form = new FormData();
  const fields = customerFields();
  form.append("customer", fields.customer);
  form.append("name", fields.name);
  for (const [key, value] of Object.entries(extra)) form.append(key, value);
  form.append("file", file, file.name || "voice-note.webm");
  $("wa-status").textContent = kind === "voice" ? "Sending the voice note…" : `Sending ${file.name}…`;
  const answer = await post(`/api/customer/${kind}`, form, "wa-status");
  if (answer) $("wa-status").textContent = "";
}

function toggleAttachMenu(open) {
  const menu = $("wa-attach-menu");
  const show = open ?? menu.hidden;
  menu.hidden = !show;
  $("wa-attach").setAttribute("aria-expanded", String(show));
}

let recorder = null;
async function toggleRecording() {
  const button = $("wa-record");
  if (recorder) {
    recorder.stop();
    return;
  }
  if (!navigator.mediaDevices || !window.MediaRecorder) {
    $("wa-status").textContent = "This browser cannot record here: send an audio file instead (📎).";
    return;
  }
  let stream;
  try {
    stream = await navigator.mediaDevices.getUserMedia({ audio: true });
  } catch (error) {
    $("wa-status").textContent = "No microphone allowed: send an audio file instead (📎).";
    return;
  }
  const chunks = [];
  recorder = new MediaRecorder(stream);
  recorder.addEventListener("dataavailable", (e) => chunks.push(e.data));
  recorder.addEventListener("stop", () => {
    stream.getTracks().forEach((t) => t.stop());
    recorder = null;
    button.setAttribute("aria-pressed", "false");
    const type = chunks[0]?.type || "audio/webm";
    const file = new File(chunks, `voice-note.${type.includes("ogg") ? "ogg" : "webm"}`, { type });
    sendUpload("voice", file);
  });
  recorder.start();
  button.setAttribute("aria-pressed", "true");
  $("wa-status").textContent = "Recording… press 🎙 again to send.";
}

// --- the agent's actions -----------------------------------------------------------------

async function agentSend(event) {
  event.preventDefault();
  const text = $("ccp-text").value;
  if (!text.trim()) return;
  $("ccp-text").value = "";
  const answer = await post("/api/agent/text", { contact_id: state.contact, text, markdown: $("ccp-markdown").checked }, "ccp-status");
  if (!answer && !$("ccp-text").value) $("ccp-text").value = text;
}

async function agentAttach(file) {
  const form = new FormData();
  form.append("contact_id", state.contact);
  form.append("file", file, file.name);
  $("ccp-status").textContent = `Sending ${file.name}…`;
  const answer = await post("/api/agent/file", form, "ccp-status");
  if (answer) $("ccp-status").textContent = "";
}

// --- faults and scenario -----------------------------------------------------------------

function openFaults() {
  const kinds = state.data ? state.data.faults : {};
  const select = $("fault-kind");
  if (!select.options.length) {
    select.replaceChildren(...Object.entries(kinds).map(([kind, f]) => el("option", { value: kind, text: f.label })));
  }
  describeFault();
  $("faults-dialog").showModal();
}

function describeFault() {
  const fault = state.data.faults[$("fault-kind").value] || {};
  $("fault-operation").disabled = fault.needs !== "operation";
  const chat = chosenChat();
  $("fault-hint").textContent = fault.needs === "contact"
    ? (chat ? `Applies to the chat shown on the agent's side (${chat.display_name || chat.customer}).` : "Open a chat first.")
    : fault.needs === "operation" ? "Applies to the bridge's calls of the chosen operation." : "";
}

async function applyFault() {
  const apply = $("fault-apply");
  const pending = post("/api/fault", { kind: $("fault-kind").value, operation: $("fault-operation").value, contact_id: state.contact }, "fault-status");
  // A crash switch first moves the bridge to a child process: say so while it takes.
  $("fault-status").textContent = "Applying…";
  apply.disabled = true;
  const answer = await pending;
  apply.disabled = false;
  if (answer) $("fault-status").textContent = `✓ ${answer.said}`;
}

async function saveScenario() {
  const response = await fetch("/api/scenario");
  const answer = await response.json();
  $("scenario-path").textContent = answer.path;
  $("scenario-json").textContent = JSON.stringify(answer.steps, null, 2);
  $("scenario-dialog").showModal();
}

function showPane(pane) {
  state.pane = pane;
  for (const tab of document.querySelectorAll(".tab")) tab.setAttribute("aria-selected", String(tab.dataset.pane === pane));
  $("phone-pane").classList.toggle("shown", pane === "phone");
  $("agent-pane").classList.toggle("shown", pane === "agent");
  keepAtBottom($("wa-messages"));
  keepAtBottom($("transcript"));
}

// --- wiring ------------------------------------------------------------------------------

function wire() {
  followBottom($("wa-messages"));
  followBottom($("transcript"));
  $("wa-compose").addEventListener("submit", sendText);
  $("wa-cancel-reply").addEventListener("click", cancelReply);
  $("customer-select").addEventListener("change", (e) => { state.customer = e.target.value; cancelReply(); render(); });
  $("wa-attach").addEventListener("click", () => toggleAttachMenu());
  $("wa-pick-file").addEventListener("click", () => { toggleAttachMenu(false); $("wa-file").click(); });
  $("wa-pick-voice").addEventListener("click", () => { toggleAttachMenu(false); $("wa-voice-file").click(); });
  $("wa-file").addEventListener("change", (e) => {
    const file = e.target.files[0];
    if (file) sendUpload("file", file, { caption: $("wa-text").value });
    if (file) $("wa-text").value = "";
    e.target.value = "";
  });
  $("wa-voice-file").addEventListener("change", (e) => {
    const file = e.target.files[0];
    if (file) sendUpload("voice", file);
    e.target.value = "";
  });
  $("wa-record").addEventListener("click", toggleRecording);
  $("wa-location").addEventListener("click", () => { toggleAttachMenu(false); $("location-dialog").showModal(); });
  $("wa-contact").addEventListener("click", () => { toggleAttachMenu(false); $("contact-dialog").showModal(); });
  $("location-dialog").addEventListener("close", () => {
    if ($("location-dialog").returnValue !== "send") return;
    post("/api/customer/location", { ...customerFields(), name: $("loc-name").value, address: $("loc-address").value,
      latitude: Number($("loc-lat").value), longitude: Number($("loc-lng").value) }, "wa-status");
  });
  $("contact-dialog").addEventListener("close", () => {
    if ($("contact-dialog").returnValue !== "send") return;
    post("/api/customer/contact", { ...customerFields(), contact_name: $("card-name").value, contact_phone: $("card-phone").value }, "wa-status");
  });
  $("add-customer").addEventListener("click", () => $("customer-dialog").showModal());
  $("customer-dialog").addEventListener("close", () => {
    if ($("customer-dialog").returnValue !== "add") return;
    const number = $("new-number").value.replace(/\D/g, "");
    if (!number) return;
    if (!state.personas.some((p) => p.number === number)) state.personas.push({ number, name: $("new-name").value.trim() });
    state.customer = number;
    render();
  });
  for (const chip of document.querySelectorAll("[data-quick]")) {
    chip.addEventListener("click", () => post("/api/customer/button", { ...customerFields(), text: chip.dataset.quick, reply_to: state.replyTo }, "wa-status").then((a) => a && cancelReply()));
  }
  for (const button of $("emoji-picker").querySelectorAll("button")) {
    button.addEventListener("click", () => {
      $("emoji-picker").hidden = true;
      post("/api/customer/react", { ...customerFields(), emoji: button.dataset.emoji, reply_to: pickerTarget }, "wa-status");
    });
  }
  document.addEventListener("keydown", (e) => {
    if (e.key === "Escape") { $("emoji-picker").hidden = true; toggleAttachMenu(false); }
  });
  document.addEventListener("click", (e) => {
    if (!e.target.closest("#emoji-picker") && !e.target.closest(".bubble-actions")) $("emoji-picker").hidden = true;
    if (!e.target.closest(".attach-wrap")) toggleAttachMenu(false);
  });

  $("ccp-compose").addEventListener("submit", agentSend);
  $("ccp-text").addEventListener("keydown", (e) => {
    if (e.key === "Enter" && !e.shiftKey) { e.preventDefault(); $("ccp-compose").requestSubmit(); }
  });
  $("ccp-attach").addEventListener("click", () => $("ccp-file").click());
  $("ccp-file").addEventListener("change", (e) => {
    const file = e.target.files[0];
    if (file) agentAttach(file);
    e.target.value = "";
  });
  $("ccp-options").addEventListener("click", () => $("options-dialog").showModal());
  $("options-dialog").addEventListener("close", () => {
    if ($("options-dialog").returnValue !== "send") return;
    post("/api/agent/options", { contact_id: state.contact, question: $("options-question").value,
      options: $("options-lines").value.split("\n"), list: $("options-list").checked }, "ccp-status");
  });
  $("end-chat").addEventListener("click", () => post("/api/agent/end", { contact_id: state.contact }, "ccp-status"));

  $("open-wire").addEventListener("click", () => {
    const drawer = $("wire");
    drawer.hidden = !drawer.hidden;
    $("open-wire").setAttribute("aria-expanded", String(!drawer.hidden));
    renderWire();
  });
  $("close-wire").addEventListener("click", () => { $("wire").hidden = true; $("open-wire").setAttribute("aria-expanded", "false"); });
  $("open-faults").addEventListener("click", openFaults);
  $("fault-kind").addEventListener("change", describeFault);
  $("fault-apply").addEventListener("click", applyFault);
  $("save-scenario").addEventListener("click", saveScenario);
  for (const tab of document.querySelectorAll(".tab")) tab.addEventListener("click", () => showPane(tab.dataset.pane));
  showPane("phone");
}

wire();
refresh().then(listen);
