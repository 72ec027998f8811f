// wuye pages: plain JavaScript, every server string inserted with textContent (never innerHTML).
const $ = (sel, root = document) => root.querySelector(sel);
const el = (tag, attrs = {}, ...children) => {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (k === "class") node.className = v; else if (k.startsWith("on")) node.addEventListener(k.slice(2), v); else node.setAttribute(k, v);
  }
  for (const c of children) node.append(c instanceof Node ? c : document.createTextNode(String(c ?? "")));
  return node;
};
const api = async (path, options = {}) => {
  const res = await fetch(path, { credentials: "same-origin", headers: { "Content-Type": "application/json" }, ...options });
  if (res.status === 401 && !location.pathname.startsWith("/login")) { location.href = "/login?next=" + encodeURIComponent(location.pathname); throw new Error("login"); }
  const body = res.headers.get("content-type")?.includes("json") ? await res.json() : await res.text();
  if (!res.ok) throw new Error(body?.error?.message || res.statusText);
  return body;
};
const fmtLeft = (s) => {
  if (s === null || s === undefined) return "—";
  const neg = s < 0; s = Math.abs(s);
  const h = Math.floor(s / 3600), m = Math.floor((s % 3600) / 60), sec = s % 60;
  const t = h ? `${h}小时${m}分` : `${m}分${String(sec).padStart(2, "0")}秒`;
  return neg ? `已超时 ${t}` : t;
};
const ROLE_PAGES = { resident: [["/chat", "在线客服"]], agent: [["/agent", "工作台"]], trainer: [["/trainer", "培训考核"]],
  manager: [["/manager", "数据看板"], ["/agent", "工作台"]],
  admin: [["/admin", "知识库"], ["/hittest", "命中测试"], ["/agent", "工作台"], ["/manager", "看板"]] };

async function header() {
  const page = document.body.dataset.page;
  if (page === "login" || page === "index") return null;
  const me = await api("/api/auth/me");
  $("#who").textContent = `${me.name}（${me.role}）`;
  for (const [href, label] of ROLE_PAGES[me.role] || []) $("#nav").append(el("a", { href }, label));
  $("#nav").append(el("a", { href: "#", onclick: async (e) => { e.preventDefault(); await api("/api/auth/logout", { method: "POST" }); location.href = "/login"; } }, "退出"));
  return me;
}

function loginPage() {
  $("#login-form").addEventListener("submit", async (e) => {
    e.preventDefault();
    const f = new FormData(e.target);
    try {
      const t = await api("/api/auth/login", { method: "POST", body: JSON.stringify({ username: f.get("username"), password: f.get("password") }) });
      const next = new URLSearchParams(location.search).get("next");
      location.href = next && next.startsWith("/") ? next : (ROLE_PAGES[t.role]?.[0]?.[0] || "/");
    } catch (err) { $("#login-error").textContent = err.message; }
  });
}

function chatPage() {
  let conversation = null;
  const box = $("#messages");
  const add = (who, text, extra = {}) => {
    const m = el("div", { class: `msg ${who}${extra.emergency ? " emergency" : ""}` }, text);
    if (extra.citations?.length) {
      const c = el("div", { class: "cites" }, "来源：");
      for (const cite of extra.citations) {
        c.append(el("a", { "data-ref": cite.ref, onclick: () => openEntry(cite.entry_id, cite.ref) },
          cite.clause ? `《${cite.title}》第${cite.clause}条` : `《${cite.title}》`));
      }
      m.append(c);
    }
    if (extra.answered && extra.turn_id && extra.citations?.length) m.append(voteRow(extra.turn_id));
    box.append(m); box.scrollTop = box.scrollHeight; return m;
  };
  const voteRow = (turnId) => {  // 赞/踩 on an answer; a 踩 may say why (optional)
    const row = el("div", { class: "votes", "data-turn": turnId });
    const send = async (vote, reason) => {
      try {
        await api(`/api/chat/turns/${turnId}/vote`, { method: "POST", body: JSON.stringify({ vote, reason: reason || null }) });
        row.replaceChildren(el("span", { class: "vote-done muted" }, vote === "up" ? "感谢您的肯定" : "已收到您的反馈，我们会改进这条答复"));
      } catch (err) { row.append(el("span", { class: "error" }, err.message)); }
    };
    const reason = el("input", { class: "vote-reason hidden", maxlength: "500", placeholder: "哪里没帮到您？（可不填）" });
    const submit = el("button", { type: "button", class: "vote-send secondary hidden", onclick: () => send("down", reason.value.trim()) }, "提交");
    row.append(el("button", { type: "button", class: "vote-up secondary", title: "有帮助", onclick: () => send("up") }, "👍 有用"),
      el("button", { type: "button", class: "vote-down secondary", title: "没帮助", onclick: () => { reason.classList.remove("hidden"); submit.classList.remove("hidden"); reason.focus(); } }, "👎 没用"),
      reason, submit);
    return row;
  };
  add("bot", "您好，这里是示例物业在线客服。报修、投诉、缴费、装修等问题都可以直接告诉我。");
  const send = async (text) => {
    add("me", text);
    const pending = add("bot", "…");
    try {
      const res = await fetch("/api/chat?stream=true", { method: "POST", credentials: "same-origin", headers: { "Content-Type": "application/json" },
        body: JSON.stringify({ message: text, conversation_id: conversation }) });
      if (!res.ok) { const body = await res.json(); throw new Error(body?.error?.message || res.statusText); }
      const reader = res.body.getReader(); const dec = new TextDecoder(); let buf = ""; let shown = "";
      for (;;) {
        const { value, done } = await reader.read(); if (done) break;
        buf += dec.decode(value, { stream: true });
        let i;
        while ((i = buf.indexOf("\n\n")) >= 0) {
          const chunk = buf.slice(0, i); buf = buf.slice(i + 2);
          const ev = /event: (\w+)/.exec(chunk)?.[1]; const data = JSON.parse(/data: (.*)/s.exec(chunk)?.[1] || "{}");
          if (ev === "meta") { conversation = data.conversation_id; if (data.emergency) { $("#emergency-banner").classList.remove("hidden"); pending.classList.add("emergency"); } }
          if (ev === "delta") { shown += data.text; pending.textContent = shown; }
          if (ev === "done") {
            pending.remove(); lastTurn = Math.max(lastTurn, data.turn_id);
            if (data.reply) { add("bot", data.reply, data); ticketCard(data); }  // empty: an agent holds the chat
            agentBanner(data.agent);
          }
        }
      }
    } catch (err) { pending.textContent = "发送失败：" + err.message; }
  };
  let lastTurn = 0;
  const agentBanner = (agent) => {
    const b = $("#agent-banner");
    b.textContent = agent === "joined" ? "人工客服已接入，正在为您服务" : agent === "waiting" ? "正在为您转接人工客服…" : agent === "callback" ? "已登记人工回电" : "";
    b.classList.toggle("hidden", !b.textContent);
  };
  const poll = async () => {  // an agent's messages arrive between the resident's own turns
    if (!conversation) return;
    try {
      const c = await api(`/api/conversations/${encodeURIComponent(conversation)}`);
      for (const t of c.turns) {
        if (t.id > lastTurn && t.speaker === "agent") add("agent", `人工客服：${t.answer}`);
        if (t.id > lastTurn && t.speaker === "update") add("bot update", t.answer);  // the ticket moved
        lastTurn = Math.max(lastTurn, t.id);
      }
      agentBanner(c.agent);
    } catch (err) { /* the next poll tries again */ }
  };
  setInterval(poll, 2000);
  $("#chat-form").addEventListener("submit", (e) => { e.preventDefault(); const t = $("#chat-input").value.trim(); if (t) { $("#chat-input").value = ""; send(t); } });
  $("#handoff").addEventListener("click", () => send("转人工"));
  $("#photo-input").addEventListener("change", async (e) => {
    const file = e.target.files[0]; const number = e.target.dataset.ticket; if (!file || !number) return;
    const form = new FormData(); form.append("file", file);
    const res = await fetch(`/api/tickets/${encodeURIComponent(number)}/photos`, { method: "POST", credentials: "same-origin", body: form });
    const body = await res.json();
    if (!res.ok) { $("#photo-error").textContent = body?.error?.message || res.statusText; return; }
    $("#photo-error").textContent = "";
    const m = add("me", "已上传照片"); m.append(el("img", { class: "thumb", src: body.thumb_url, alt: "照片" }));
    e.target.value = "";
  });
}

function handoffConsole() {
  let open = null;
  const stateWords = { waiting: "等待接入", callback: "待回电", joined: "人工处理中" };
  const render = (c) => {
    $("#conv-title").textContent = `会话 ${c.id.slice(0, 8)} · ${stateWords[c.agent] || c.agent}${c.agent_user ? " · " + c.agent_user : ""}`;
    $("#conv-case").textContent = c.case ? `进行中的报修：${c.case.category} ${c.case.urgency}级 · ${c.case.issue || ""}` : (c.ticket_number ? `已建工单 ${c.ticket_number}` : "");
    $("#transcript").replaceChildren(...c.turns.flatMap((t) => [
      t.message ? el("div", { class: "msg me" }, `业主：${t.message}`) : null,
      t.answer ? el("div", { class: `msg ${t.speaker === "agent" ? "agent" : "bot"}` }, `${t.speaker === "agent" ? "客服" : "助手"}：${t.answer}`,
        t.message && t.speaker === "assistant" ? el("button", { type: "button", class: "fix-btn secondary", "data-turn": t.id, onclick: () => fixForm(t) }, "纠正答复") : "") : null,
    ].filter(Boolean)));
    $("#conv-panel").classList.remove("hidden");
  };
  const fixForm = (t) => {  // the agent's correct answer to the resident's question: an admin reviews it
    const box = $("#fix-box"); box.classList.remove("hidden");
    $("#fix-question").textContent = `业主问：${t.message}`;
    $("#fix-answer").value = ""; $("#fix-status").textContent = "";
    $("#fix-send").onclick = async () => {
      try {
        await api("/api/agent/corrections", { method: "POST", body: JSON.stringify({ turn_id: t.id, answer: $("#fix-answer").value.trim() }) });
        $("#fix-status").textContent = "已提交，管理员审核通过后写入知识库";
      } catch (err) { $("#fix-status").textContent = err.message; }
    };
  };
  const load = async () => {
    const rows = await api("/api/agent/conversations");
    $("#handoffs").replaceChildren(...rows.map((c) => el("li", { class: "row-click", "data-id": c.id, onclick: () => { open = c.id; render(c); } },
      `${stateWords[c.agent] || c.agent} · ${c.turns.filter((t) => t.message).slice(-1)[0]?.message?.slice(0, 30) || "（无消息）"}`)));
    const cur = rows.find((c) => c.id === open); if (cur) render(cur);
    $("#handoff-count").textContent = rows.filter((c) => c.agent !== "joined").length;
  };
  $("#join-btn").addEventListener("click", async () => { if (open) { render(await api(`/api/agent/conversations/${open}/join`, { method: "POST" })); load(); } });
  $("#release-btn").addEventListener("click", async () => { if (open) { await api(`/api/agent/conversations/${open}/release`, { method: "POST", body: JSON.stringify({ close: false }) }); open = null; $("#conv-panel").classList.add("hidden"); load(); } });
  $("#close-btn").addEventListener("click", async () => { if (open) { await api(`/api/agent/conversations/${open}/release`, { method: "POST", body: JSON.stringify({ close: true }) }); open = null; $("#conv-panel").classList.add("hidden"); load(); } });
  $("#conv-form").addEventListener("submit", async (e) => {
    e.preventDefault(); const text = $("#conv-input").value.trim(); if (!open || !text) return;
    try { await api(`/api/agent/conversations/${open}/messages`, { method: "POST", body: JSON.stringify({ text }) }); $("#conv-input").value = ""; $("#conv-error").textContent = ""; load(); }
    catch (err) { $("#conv-error").textContent = err.message; }
  });
  load(); setInterval(load, 2000);
}

function ticketCard(data) {
  if (!(data.intent === "report" || data.intent === "emergency" || data.ticket_number)) return;
  const card = $("#ticket-card"); card.classList.remove("hidden");
  const dl = $("#ticket-fields"); dl.replaceChildren();
  const row = (k, v) => { dl.append(el("dt", {}, k), el("dd", {}, v)); };
  row("工单号", data.ticket_number || "（信息补全后生成）");
  if (data.ticket_number) { $("#photo-label").classList.remove("hidden"); $("#photo-input").dataset.ticket = data.ticket_number; }
  row("类别", data.category); row("紧急程度", `${data.urgency}级`); row("负责部门", data.department);
  if (data.missing_fields.length) row("待补充", data.missing_fields.map((f) => ({ resident_name: "姓名", phone: "电话", address: "地址", description: "问题描述" }[f] || f)).join("、"));
  for (const d of data.deadlines) row(d.label, new Date(d.due_at).toLocaleString("zh-CN"));
}

async function openEntry(entryId, ref) {
  const e = await api(`/api/kb/entries/${encodeURIComponent(entryId)}`);
  const body = $("#entry-body"); body.replaceChildren(el("h3", {}, e.title));
  if (e.kind === "faq" || e.kind === "curated") body.append(el("p", {}, e.answer));
  else for (const c of e.clauses) { const p = el("p", {}, `${c.number} ${c.heading}\n${c.text}`); if (c.ref === ref) p.style.background = "#fff3c4"; body.append(p); }
  $("#entry-dialog").showModal();
}

function lintView(result, target) {
  target.replaceChildren();
  if (result.ok) { target.append(el("p", { class: "ok" }, "✓ 通过：无危险建议、无推诿用语，必备要素齐全")); return; }
  // safety findings (unsafe advice, wrong promises, policy contradictions) come first from the server
  const safety = new Set(["unsafe", "wrong_promise", "contradiction"]);
  for (const f of result.findings) target.append(el("div", { class: safety.has(f.kind) ? "finding safety" : "finding" },
    `${f.message}${f.text ? `（位置 ${f.start}–${f.end}）` : ""} → 建议：${f.suggestion}${f.quote ? `\n依据 ${f.quote}` : ""}`));
}

function pagesAlarm() {  // level-1 pages nobody acknowledged: loud, at the top, one click to acknowledge
  const load = async () => {
    const rows = await api("/api/agent/pages");
    const tickets = [...new Map(rows.map((p) => [p.ticket_number, p])).values()];
    $("#pages-count").textContent = rows.length;
    $("#pages-alarm").classList.toggle("hidden", rows.length === 0);
    $("#pages").replaceChildren(...tickets.map((p) => el("li", { "data-number": p.ticket_number },
      `${p.ticket_number} · 第${p.attempt}轮 · ${rows.filter((r) => r.ticket_number === p.ticket_number).map((r) => r.person).join("、")}${p.delivered === false ? "（发送失败：" + (p.error || "") + "）" : ""} `,
      el("button", { type: "button", class: "ack-btn", onclick: async () => { await api(`/api/agent/pages/${p.ticket_number}/ack`, { method: "POST" }); load(); } }, "确认"))));
  };
  load(); setInterval(load, 5000);
}

function callbackTasks() {  // 回访: resolved tickets, their script, and the outcome in one click
  const load = async () => {
    const rows = await api("/api/agent/callbacks");
    $("#callback-count").textContent = rows.length;
    $("#callbacks").replaceChildren(...rows.map((c) => {
      const score = el("select", { "aria-label": "满意度" }, ...[5, 4, 3, 2, 1].map((n) => el("option", { value: n }, `${n}分`)));
      const send = async (outcome) => {
        try { await api(`/api/agent/callbacks/${c.ticket_number}`, { method: "POST", body: JSON.stringify({ outcome, satisfaction: outcome === "satisfied" ? Number(score.value) : null }) }); load(); }
        catch (err) { $("#callback-error").textContent = err.message; }
      };
      return el("li", { "data-number": c.ticket_number },
        el("div", {}, `${c.ticket_number} · ${c.category} · ${c.resident_name} ${c.phone} · ${c.due_at ? "回访期限 " + new Date(c.due_at).toLocaleString("zh-CN") : ""}${c.tries ? ` · 已未接通${c.tries}次` : ""}${c.chat_score ? ` · 业主在线评价${c.chat_score}分` : ""}`),
        el("div", { class: "muted" }, c.script),
        el("div", { class: "row" }, score, el("button", { type: "button", class: "cb-ok", onclick: () => send("satisfied") }, "已解决·记录满意度"),
          el("button", { type: "button", class: "cb-reopen", onclick: () => send("not_solved") }, "未解决·重新打开"),
          el("button", { type: "button", class: "cb-miss", onclick: () => send("unreachable") }, "未接通")));
    }));
  };
  load(); setInterval(load, 15000);
}

function agentPage() {
  loadCommunities();
  pagesAlarm();
  callbackTasks();
  let current = null;
  const load = async () => {
    const rows = await api("/api/agent/queue");
    const tbody = $("#queue tbody"); tbody.replaceChildren();
    for (const t of rows) {
      const tr = el("tr", { class: `row-click u${t.urgency}`, "data-number": t.number, onclick: () => show(t.number) },
        el("td", {}, t.number), el("td", {}, `${t.urgency}级`), el("td", {}, t.category), el("td", {}, t.department), el("td", {}, t.address),
        el("td", { class: "countdown", "data-due": t.next_due_at || "" }, fmtLeft(t.seconds_left)), el("td", {}, t.status));
      tbody.append(tr);
    }
  };
  const show = async (number) => {
    current = number;
    const t = await api(`/api/tickets/${encodeURIComponent(number)}`);
    const d = $("#detail-body"); d.replaceChildren(
      el("p", {}, `${t.number} · ${t.category} · ${t.urgency}级 · ${t.department}${t.escalated ? " · 已升级" : ""}`),
      el("p", {}, `${t.resident_name} ${t.phone} ${t.address}`), el("p", { class: "community" }, `小区：${communityName(t.community)}`), el("p", {}, t.description),
      el("div", { class: "photos" }, ...t.photos.filter((p) => /^[0-9a-f]{64}$/.test(p)).map((p) =>
        el("a", { href: `/api/photos/${p}`, target: "_blank" }, el("img", { class: "thumb", src: `/api/photos/${p}?thumb=true`, alt: "照片" })))));
    for (const dl of t.deadlines) d.append(el("p", { class: dl.state === "breached" ? "late" : dl.state === "warning" ? "warn" : "muted" }, `${dl.label}：${new Date(dl.due_at).toLocaleString("zh-CN")}（${dl.state}）`));
    $("#events").replaceChildren(...t.events.map((e) => el("li", {}, `${new Date(e.at).toLocaleString("zh-CN")} ${e.actor}：${e.from_status || "—"} → ${e.to_status}${e.note ? "（" + e.note + "）" : ""}`)));
    const s = await api("/api/agent/suggest", { method: "POST", body: JSON.stringify({ ticket_number: number }) });
    const styles = { short: "简短直接", warm: "体贴安抚", full: "完整步骤" };
    $("#suggestions").replaceChildren(...s.suggestions.map((x) => el("div", { class: "sugg", "data-style": x.style },
      el("p", { class: "style" }, styles[x.style] || x.style), el("p", { class: "text" }, x.text),
      el("p", { class: "basis" }, `话术 ${x.scripts.join(" + ")} · 依据 ${x.basis.join("、")}`),
      el("button", { type: "button", onclick: () => { $("#reply-draft").value = x.text; } }, "采用"))));
  };
  $("#lint-btn").addEventListener("click", async () => lintView(await api("/api/agent/lint", { method: "POST", body: JSON.stringify({ text: $("#reply-draft").value || " ", ticket_number: current }) }), $("#lint-result")));
  $("#transition-form").addEventListener("submit", async (e) => {
    e.preventDefault(); if (!current) return; const f = new FormData(e.target);
    try {
      await api(`/api/tickets/${encodeURIComponent(current)}/transition`, { method: "POST", body: JSON.stringify({ to: f.get("to"), assignee: f.get("assignee") || null, note: f.get("note") || null, photos: f.get("photos") ? [f.get("photos")] : [] }) });
      $("#transition-error").textContent = ""; await show(current); await load();
    } catch (err) { $("#transition-error").textContent = err.message; }
  });
  $("#create-form").addEventListener("submit", async (e) => {
    e.preventDefault(); const f = Object.fromEntries(new FormData(e.target));
    try { const t = await api("/api/tickets", { method: "POST", body: JSON.stringify(f) }); $("#create-error").textContent = `已创建 ${t.number}`; await load(); }
    catch (err) { $("#create-error").textContent = err.message; }
  });
  setInterval(() => { for (const td of document.querySelectorAll(".countdown")) { if (td.dataset.due) { const s = Math.round((new Date(td.dataset.due) - Date.now()) / 1000); td.textContent = fmtLeft(s); td.className = "countdown " + (s < 0 ? "late" : ""); } } }, 1000);
  load(); setInterval(load, 30000);
  handoffConsole();
  agentQuizzes();
}

function trainerPage() {
  $("#lint-btn").addEventListener("click", async () => lintView(await api("/api/agent/lint", { method: "POST", body: JSON.stringify({ text: $("#reply-draft").value || " " }) }), $("#lint-result")));
  const results = async () => {
    const r = await api("/api/quiz/results/all");
    $("#results tbody").replaceChildren(...Object.entries(r.agents).map(([agent, rows]) => el("tr", {},
      el("td", {}, agent), el("td", {}, rows.length), el("td", {}, (rows.reduce((a, x) => a + x.score, 0) / rows.length).toFixed(1)),
      el("td", {}, rows.slice(-5).map((x) => x.score.toFixed(0)).join(" → ")))));
    $("#most-failed").replaceChildren(...r.most_failed.map((m) => el("li", {}, `${m.scenario}：失分 ${m.failed}/${m.attempts} 次，平均 ${m.mean_score}`)));
  };
  $("#quiz-form").addEventListener("submit", async (e) => {
    e.preventDefault(); const f = Object.fromEntries(new FormData(e.target));
    try {
      const q = await api("/api/quiz", { method: "POST", body: JSON.stringify({ title: f.title, count: Number(f.count), difficulty: f.difficulty || null, assignees: f.assignees.split(/[,，\s]+/).filter(Boolean) }) });
      $("#quiz-created").textContent = `已创建考核 #${q.id}（${q.scenario_ids.join("、")}），分配给 ${q.assignees.join("、")}`;
    } catch (err) { $("#quiz-created").textContent = err.message; }
  });
  results(); setInterval(results, 10000);
}

async function agentQuizzes() {
  const list = await api("/api/quiz");
  $("#my-quizzes").replaceChildren(...list.map((q) => el("li", {}, el("a", { href: "#", "data-quiz": q.id, onclick: (e) => { e.preventDefault(); takeQuiz(q.id); } }, `#${q.id} ${q.title}（${q.scenarios} 题）`))));
}

async function takeQuiz(id) {
  const q = await api(`/api/quiz/${id}`);
  const area = $("#quiz-area"); area.replaceChildren();
  for (const sc of q.scenarios) {
    const started = Date.now();
    const form = el("form", { class: "sugg quiz-item", "data-scenario": sc.id });
    form.append(el("h3", {}, sc.title), ...sc.messages.map((m) => el("p", {}, `业主：${m}`)));
    const sel = (name, opts) => { const s = el("select", { name }); for (const o of opts) s.append(el("option", { value: o }, o)); return s; };
    form.append(el("div", { class: "row wrap" }, sel("category", ["工程", "保洁", "安保", "投诉", "费用", "咨询建议"]), sel("urgency", ["1", "2", "3", "4"]),
      sel("department", ["工程部", "维修组", "技术团队", "环境部", "安保部", "客服主管", "客服部"]), el("input", { name: "time_limit_minutes", type: "number", min: "0", placeholder: "承诺时限（分钟）", required: "" })),
      el("textarea", { name: "reply", rows: "3", placeholder: "你的回复", required: "" }), el("button", { type: "submit" }, "提交本题"), el("div", { class: "grade" }));
    form.addEventListener("submit", async (e) => {
      e.preventDefault(); const f = Object.fromEntries(new FormData(form));
      const g = await api(`/api/quiz/${id}/answers`, { method: "POST", body: JSON.stringify({ scenario_id: sc.id, category: f.category, urgency: Number(f.urgency), department: f.department, time_limit_minutes: Number(f.time_limit_minutes), reply: f.reply, seconds: (Date.now() - started) / 1000 }) });
      $(".grade", form).replaceChildren(el("p", { class: g.score >= 60 ? "ok" : "late" }, `得分 ${g.score}/100`), ...g.feedback.map((x) => el("div", { class: "finding" }, x)));
    });
    area.append(form);
  }
}

function managerPage() {
  const charts = {};
  const draw = (id, type, labels, data, label) => {
    charts[id]?.destroy();
    const palette = ["#0b5cab", "#e8710a", "#34a853", "#b3261e", "#9334e6", "#f4b400", "#12b5cb"];
    const colors = type === "line" ? "#0b5cab" : labels.map((_, i) => palette[i % palette.length]);
    charts[id] = new Chart($(id), { type, data: { labels, datasets: [{ label, data, backgroundColor: colors, borderColor: type === "line" ? "#0b5cab" : "#fff" }] }, options: { responsive: true, maintainAspectRatio: false, animation: false, plugins: { legend: { display: type !== "bar" && type !== "line" } } } });
  };
  const load = async () => {
    const d = await api(`/api/dashboard?period=${$("#period").value}`);
    const pct = (x) => (x === null ? "—" : (100 * x).toFixed(1) + "%");
    const mins = (x) => (x === null ? "—" : x.toFixed(0) + " 分钟");
    $("#kpis").replaceChildren(...[["工单总数", d.total], ["SLA 达成率", pct(d.sla_compliance)], ["响应时长中位数", mins(d.median_response_minutes)],
      ["解决时长中位数", mins(d.median_resolution_minutes)], ["重复投诉率", pct(d.repeat_complaint_rate)], ["满意度", d.satisfaction === null ? "—" : d.satisfaction.toFixed(2)],
      ["回访 满意/未解决/未接通", `${d.callbacks.satisfied} / ${d.callbacks.not_solved} / ${d.callbacks.unreachable}`],
      ["业主在线评价", d.chat_ratings.count ? `${d.chat_ratings.count} 条 · ${d.chat_ratings.average.toFixed(1)} 分` : "0 条"]]
      .map(([k, v]) => el("div", { class: "kpi" }, k, el("b", {}, v))));
    draw("#chart-series", "line", Object.keys(d.series), Object.values(d.series), "工单量");
    draw("#chart-category", "doughnut", Object.keys(d.by_category), Object.values(d.by_category), "类别");
    draw("#chart-urgency", "bar", Object.keys(d.by_urgency).map((k) => k + "级"), Object.values(d.by_urgency), "紧急程度");
    draw("#chart-status", "pie", Object.keys(d.by_status), Object.values(d.by_status), "状态");
  };
  $("#period").addEventListener("change", load); load();
}

let COMMUNITIES = {};
const communityName = (id) => (id ? COMMUNITIES[id] || id : "未登记");
const loadCommunities = async () => { for (const c of await api("/api/kb/communities")) COMMUNITIES[c.id] = c.name; return COMMUNITIES; };

function adminPage() {
  $("#kb-search").addEventListener("submit", async (e) => {
    e.preventDefault();
    const r = await api(`/api/kb/search?q=${encodeURIComponent(new FormData(e.target).get("q"))}&top_k=8`);
    $("#kb-hits").replaceChildren(...r.hits.map((h) => el("li", {}, el("a", { href: "#", onclick: async (ev) => { ev.preventDefault(); const x = await api(`/api/kb/entries/${encodeURIComponent(h.entry_id)}`);
      $("#kb-entry").textContent = x.kind === "faq" || x.kind === "curated" ? `${x.title}\n\n${x.answer}\n\n依据：${x.basis.join("、")}` : `${x.title}\n\n` + x.clauses.map((c) => `${c.number} ${c.heading}\n${c.text}`).join("\n\n"); } }, `[${h.citation}] ${h.heading}`), ` score ${h.score}`)));
  });
  const poll = async () => { const s = await api("/api/kb/ingest"); $("#ingest-status").textContent = `${s.state}：${s.message}`; if (s.state === "running") setTimeout(poll, 1000); };
  $("#ingest-btn").addEventListener("click", async () => { try { await api("/api/kb/ingest", { method: "POST" }); } catch (err) { $("#ingest-status").textContent = err.message; } poll(); });
  poll();
  rosterEditor();
}

function rosterEditor() {  // the on-call roster: one table per department; a 422 marks the field it names
  let current = null;
  const channelNames = { console: "工作台", wecom: "企业微信", sms: "短信", webhook: "Webhook" };
  const personRow = (p, field, channels, removable) => {
    const input = (name, value, attrs = {}) => el("input", { name, value: value ?? "", "data-field": `${field}.${name}`, ...attrs });
    const channel = el("select", { name: "channel", "data-field": `${field}.channel` }, ...channels.map((c) => el("option", { value: c }, channelNames[c] || c)));
    channel.value = p.channel || "console";
    return el("tr", {}, el("td", {}, input("name", p.name, { "aria-label": "姓名" })), el("td", {}, input("phone", p.phone, { "aria-label": "手机", inputmode: "numeric" })),
      el("td", {}, channel), el("td", {}, input("wecom_user", p.wecom_user, { "aria-label": "企业微信账号", placeholder: "企业微信呼叫时填写" })),
      el("td", {}, input("hours", p.hours, { "aria-label": "当班时段", placeholder: "全天（后备）" })),
      el("td", {}, removable ? el("button", { type: "button", class: "secondary remove-person", onclick: (e) => e.target.closest("tr").remove() }, "删除") : ""));
  };
  const department = (name, people, channels) => {
    const body = el("tbody", {}, ...people.map((p, i) => personRow(p, `roster.departments.${name}.${i}`, channels, true)));
    return el("fieldset", { class: "dept", "data-dept": name }, el("legend", {}, name),
      el("table", {}, el("thead", {}, el("tr", {}, ...["姓名", "手机", "呼叫方式", "企业微信账号", "当班时段（HH:MM-HH:MM）", ""].map((h) => el("th", {}, h)))), body),
      el("button", { type: "button", class: "secondary add-person", onclick: () => body.append(personRow({}, `roster.departments.${name}.${body.children.length}`, channels, true)) }, "添加一人"));
  };
  const render = (r) => {
    current = r;
    $("#roster-meta").textContent = r.source === "kb" ? "当前使用知识库中的初始值班表（kb/rules/oncall.yaml），保存后以此处为准。" : `第 ${r.version} 版，${r.author} 保存于 ${new Date(r.saved_at).toLocaleString("zh-CN")}`;
    $("#roster-ack").value = r.roster.ack_minutes;
    $("#roster-manager").replaceChildren(personRow(r.roster.duty_manager || {}, "roster.duty_manager", r.channels, false));
    $("#roster-departments").replaceChildren(...Object.entries(r.roster.departments).map(([d, ps]) => department(d, ps, r.channels)));
    $("#roster-add-dept").replaceChildren(...r.departments.filter((d) => !(d in r.roster.departments)).map((d) => el("option", { value: d }, d)));
    addable();
  };
  const addable = () => $("#roster-add-dept").parentElement.classList.toggle("hidden", !$("#roster-add-dept").options.length);
  const person = (tr) => {
    const v = (n) => tr.querySelector(`[name=${n}]`).value.trim();
    const p = { name: v("name"), phone: v("phone"), channel: v("channel") };
    if (v("wecom_user")) p.wecom_user = v("wecom_user");
    if (v("hours")) p.hours = v("hours");
    return p;
  };
  const collect = () => {
    const departments = {};
    for (const fs of document.querySelectorAll("#roster-departments fieldset.dept")) departments[fs.dataset.dept] = [...fs.querySelectorAll("tbody tr")].map(person);
    const managerRow = $("#roster-manager tr");
    const manager = person(managerRow);
    return { ack_minutes: Number($("#roster-ack").value), duty_manager: manager.name || manager.phone ? manager : null, departments };
  };
  const renumber = () => {  // field paths follow the row order after rows were removed or added
    for (const fs of document.querySelectorAll("#roster-departments fieldset.dept"))
      [...fs.querySelectorAll("tbody tr")].forEach((tr, i) => tr.querySelectorAll("[data-field]").forEach((x) => { x.dataset.field = `roster.departments.${fs.dataset.dept}.${i}.${x.name}`; }));
  };
  $("#roster-add-dept-btn").addEventListener("click", () => {
    const d = $("#roster-add-dept").value; if (!d) return;
    $("#roster-departments").append(department(d, [{}], current.channels));
    $("#roster-add-dept").querySelector(`option[value="${CSS.escape(d)}"]`)?.remove();
    addable();
  });
  $("#roster-form").addEventListener("submit", async (e) => {
    e.preventDefault();
    renumber();
    document.querySelectorAll("#roster .invalid").forEach((x) => x.classList.remove("invalid"));
    $("#roster-error").textContent = ""; $("#roster-status").textContent = "";
    const res = await fetch("/api/admin/oncall", { method: "PUT", credentials: "same-origin", headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ base_version: current.version, roster: collect() }) });
    const body = await res.json();
    if (!res.ok) {
      $("#roster-error").textContent = body?.error?.message || res.statusText;
      for (const f of body?.error?.fields || []) document.querySelector(`#roster [data-field="${CSS.escape(f.field)}"]`)?.classList.add("invalid");
      return;
    }
    render(body); $("#roster-status").textContent = `已保存（第 ${body.version} 版）`;
  });
  api("/api/admin/oncall").then(render).catch((err) => { $("#roster-error").textContent = err.message; });
  adminGaps(); adminVotes(); adminCorrections();
}

function adminGaps() {
  $("#gaps-btn").addEventListener("click", async () => {
    $("#gaps-summary").textContent = "正在聚类…";
    const r = await api("/api/kb/gaps?top=30");
    $("#gaps-summary").textContent = `${r.questions} 个问题，${r.cluster_count} 类（余弦 ≥ ${r.threshold}，聚类 ${r.seconds.cluster} 秒）；按数量和新近程度排序`;
    const kinds = { not_found: "未找到", handoff: "答后转人工", downvote: "踩", correction: "坐席纠正" };
    $("#gaps").replaceChildren(...r.clusters.map((c) => el("li", { class: "gap", "data-rank": c.rank },
      el("b", {}, `${c.size} 次 · 权重 ${c.weight} · 最近 ${new Date(c.last_seen).toLocaleDateString("zh-CN")} · ${Object.entries(c.kinds).map(([k, v]) => `${kinds[k] || k} ${v}`).join("、")}`),
      el("ul", { class: "examples" }, ...c.examples.map((x) => el("li", {}, x))),
      ...(c.notes.length ? [el("div", { class: "notes" }, "反馈/纠正：", ...c.notes.map((n) => el("q", {}, n)))] : []),
      el("div", { class: "muted" }, "最接近的条目：" + (c.nearest.map((n) => `${n.ref} ${n.title}（向量 ${n.dense.toFixed(3)}，BM25 ${n.bm25.toFixed(1)}）`).join("；") || "无")),
      el("div", { class: "why" }, `未能答复的原因：${c.why}`),
      el("details", {}, el("summary", {}, "FAQ 草稿（补写 answer 后放入 kb/content/faq/）"), el("pre", { class: "draft" }, c.draft.yaml)))));
  });
}

async function adminVotes() {
  const rows = await api("/api/kb/votes");
  $("#votes tbody").replaceChildren(...rows.map((v) => el("tr", { "data-entry": v.entry_id }, el("td", {}, v.entry_id), el("td", {}, v.title),
    el("td", { class: "up" }, v.up), el("td", { class: "down" }, v.down), el("td", {}, v.reasons.join("；")))));
}

function adminCorrections() {
  const load = async () => {
    const rows = await api("/api/kb/corrections?status=pending");
    $("#corrections-count").textContent = rows.length;
    $("#corrections").replaceChildren(...rows.map((c) => {
      const answer = el("textarea", { class: "fix-answer", rows: "3", maxlength: "4000" }); answer.value = c.answer;
      const paraphrases = el("input", { class: "fix-paraphrases", placeholder: "其他问法，用 ；分隔（可不填）" });
      const act = async (path, body) => {
        try {
          const r = await api(`/api/kb/corrections/${c.id}/${path}`, { method: "POST", body: JSON.stringify(body) });
          $("#corrections-status").textContent = path === "approve" ? `已写入 ${r.entry_id}（${r.file}），索引导入：${r.ingest}` : "已驳回";
          if (path === "approve") ingestPoll();
          load();
        } catch (err) { $("#corrections-status").textContent = err.message; }
      };
      return el("li", { class: "correction", "data-id": c.id },
        el("div", {}, `业主问：${c.question}`), el("div", { class: "muted" }, `助手原答：${c.original}`),
        el("div", {}, `${c.agent} 的答复（可修改）：`), answer, paraphrases,
        el("div", { class: "row" },
          el("button", { type: "button", class: "approve-btn", onclick: () => act("approve", { answer: answer.value.trim(), paraphrases: paraphrases.value.split(/[；;]/).map((x) => x.trim()).filter(Boolean) }) }, "批准并写入知识库"),
          el("button", { type: "button", class: "reject-btn secondary", onclick: () => act("reject", {}) }, "驳回")));
    }));
  };
  const ingestPoll = async () => {
    const s = await api("/api/kb/ingest");
    $("#ingest-status").textContent = `${s.state}：${s.message}`;
    if (s.state === "running") setTimeout(ingestPoll, 1000);
  };
  load(); setInterval(load, 10000);
}

async function hittestPage() {
  await loadCommunities();
  for (const [id, name] of Object.entries(COMMUNITIES)) $("#hit-community").append(el("option", { value: id }, `${name}（${id}）`));
  const words = { answer: "按知识库答复", curated_answer: "按客服核定答复原文答复", not_found: "知识库未覆盖，转人工", out_of_scope: "与物业无关，礼貌拒答", emergency: "紧急情况，按一级处理", report: "报事报修，登记工单" };
  $("#hit-form").addEventListener("submit", async (e) => {
    e.preventDefault();
    const params = new URLSearchParams({ q: $("#hit-q").value.trim() });
    if ($("#hit-community").value) params.set("community", $("#hit-community").value);
    try {
      const r = await api(`/api/kb/hittest?${params}`);
      $("#hit-decision").replaceChildren(el("p", { class: `decision ${r.decision}` }, `决定：${words[r.decision] || r.decision}`),
        el("p", { class: "why" }, `原因：${r.why}`),
        el("p", { class: "muted" }, `最高向量相似度 ${r.best_dense}；门槛 ${r.thresholds.min_score}（有词面匹配 BM25 ≥ ${r.thresholds.min_bm25} 时 ${r.thresholds.min_score_with_terms}），核定答复 ${r.thresholds.curated_min_score}`),
        ...(r.grounding ? [el("p", { class: "muted" }, `落地检查 ${r.grounding.entry_id}：覆盖 ${(100 * r.grounding.coverage).toFixed(0)}%，已提及 ${r.grounding.covered.join("、") || "—"}，未提及 ${r.grounding.uncovered.join("、") || "—"}`)] : []),
        el("p", { class: "reply" }, `助手会说：${r.reply}`));
      $("#hit-table tbody").replaceChildren(...r.hits.map((h) => el("tr", { "data-ref": h.citation }, el("td", {}, h.rank), el("td", {}, h.citation), el("td", {}, h.title),
        el("td", {}, h.community ? `${h.kind}·${communityName(h.community)}` : h.kind), el("td", { class: "dense" }, h.dense.toFixed(3)), el("td", { class: "bm25" }, h.bm25.toFixed(2)), el("td", { class: "fused" }, h.score.toFixed(3)))));
    } catch (err) { $("#hit-decision").textContent = err.message; }
  });
}

(async () => {
  const page = document.body.dataset.page;
  if (page === "login") return loginPage();
  await header();
  ({ chat: chatPage, agent: agentPage, trainer: trainerPage, manager: managerPage, admin: adminPage, hittest: hittestPage }[page] || (() => {}))();
})();
