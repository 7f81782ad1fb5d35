// The study page's script: answers kept in localStorage, "Download answers" as CSV.
// The study's id and task ids come from the page's <script id="study-data"> JSON.
const STUDY_DATA = JSON.parse(document.getElementById("study-data").textContent);
const STUDY_ID = STUDY_DATA.study_id;
const TASK_IDS = STUDY_DATA.task_ids;
const STORE = "rjkeras-2afc-" + STUDY_ID;
// The page's answers: {task_id: {choice: "left" | "right", answered_at: ISO time}}.
window.answers = {};
function randomWorkerId() {
  const bytes = new Uint8Array(4);
  crypto.getRandomValues(bytes);
  return "anon-" + Array.from(bytes, b => b.toString(16).padStart(2, "0")).join("");
}
function workerId() {
  return document.getElementById("worker-id").value.trim() || window.anonymousId;
}
function csvField(value) {
  value = String(value);
  return /[",\n\r]/.test(value) ? '"' + value.replace(/"/g, '""') + '"' : value;
}
// The answers as CSV: what "Download answers" saves and `rjkeras.human_eval score` reads.
window.answersCsv = function () {
  const rows = [["study_id", "task_id", "choice", "worker_id", "answered_at"]];
  for (const id of TASK_IDS) {
    const a = window.answers[id];
    if (a) rows.push([STUDY_ID, id, a.choice, workerId(), a.answered_at]);
  }
  return rows.map(row => row.map(csvField).join(",")).join("\n") + "\n";
};
function refresh() {
  const done = Object.keys(window.answers).length;
  document.getElementById("progress").textContent = done + " of " + TASK_IDS.length + " answered";
  document.getElementById("answers-csv").value = window.answersCsv();
  try {
    localStorage.setItem(STORE, JSON.stringify({answers: window.answers,
                                                worker: document.getElementById("worker-id").value}));
  } catch (e) { /* storage unavailable: answers live in the page only */ }
}
function choose(input) {
  window.answers[input.name] = {choice: input.value, answered_at: new Date().toISOString()};
  refresh();
}
function download() {
  const blob = new Blob([window.answersCsv()], {type: "text/csv"});
  const link = document.createElement("a");
  link.href = URL.createObjectURL(blob);
  link.download = "answers_" + STUDY_ID + "_" + workerId().replace(/[^A-Za-z0-9_-]/g, "_") + ".csv";
  document.body.appendChild(link);
  link.click();
  link.remove();
}
window.addEventListener("DOMContentLoaded", () => {
  window.anonymousId = randomWorkerId();
  try {
    const saved = JSON.parse(localStorage.getItem(STORE) || "null");
    if (saved) {  // a reload keeps the answers given so far
      window.answers = saved.answers || {};
      document.getElementById("worker-id").value = saved.worker || "";
      for (const [id, a] of Object.entries(window.answers)) {
        const input = document.querySelector(`input[name="${id}"][value="${a.choice}"]`);
        if (input) input.checked = true;
      }
    }
  } catch (e) { /* storage unavailable */ }
  for (const input of document.querySelectorAll(".option input")) {
    input.addEventListener("change", () => choose(input));
  }
  document.getElementById("worker-id").addEventListener("input", refresh);
  document.getElementById("download").addEventListener("click", download);
  refresh();
  window.studyReady = true;  // answers restored, handlers in place
});
