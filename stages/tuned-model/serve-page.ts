/**
 * The page `serve` answers with. It holds no data: variants, their Table 1 values and every
 * answer arrive as JSON and are put on the page with `textContent`, never as HTML, so nothing
 * from data (answers, questions, names) can become markup. The image is read in the browser
 * and sent as a data URL; each variant keeps its own conversation until the image changes.
 */
export const SERVE_PAGE = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>dermatune: ask the tuned variants</title>
<style>
  body { font: 15px/1.4 system-ui, sans-serif; margin: 1.5em; color: #222; }
  h1 { font-size: 1.3em; }
  table { border-collapse: collapse; margin: .5em 0 1em; }
  td, th { border: 1px solid #ccc; padding: .25em .6em; text-align: right; }
  td:first-child, th:first-child { text-align: left; }
  #answers { display: flex; gap: 1em; flex-wrap: wrap; }
  .column { flex: 1 1 18em; border: 1px solid #ccc; border-radius: 6px; padding: .6em; }
  .column h2 { font-size: 1em; margin: 0 0 .4em; }
  .state { color: #666; font-size: .9em; }
  .question { font-weight: 600; margin-top: .6em; }
  .answer { white-space: pre-wrap; }
  #preview { max-height: 160px; display: block; margin: .5em 0; }
</style>
</head>
<body>
<h1>Ask the tuned variants</h1>
<p id="study"></p>
<table id="variants"><thead><tr><th>variant</th><th>model</th><th>BLEU</th><th>ROUGE-L</th><th>BERTScore F1</th><th>accuracy</th><th>state</th></tr></thead><tbody></tbody></table>
<p><input type="file" id="image" accept="image/*"> <img id="preview" alt=""></p>
<p><input type="text" id="question" size="70" placeholder="What is the most likely diagnosis?"> <button id="ask">Ask</button></p>
<p id="status" class="state"></p>
<div id="answers"></div>
<script>
const $ = (id) => document.getElementById(id);
let image = null;
const conversations = {};
const columns = {};

function cell(row, text) {
  const td = document.createElement('td');
  td.textContent = text;
  row.appendChild(td);
  return td;
}

function metric(value) {
  return typeof value === 'number' ? value.toFixed(3) : '—';
}

async function refresh() {
  const { states } = await (await fetch('api/status')).json();
  for (const [name, state] of Object.entries(states)) {
    const el = document.querySelector('[data-state="' + CSS.escape(name) + '"]');
    if (el) el.textContent = state.state === 'failed' ? 'failed: ' + state.message : state.state;
  }
  return states;
}

async function start() {
  const { spec, variants } = await (await fetch('api/variants')).json();
  $('study').textContent = 'Study ' + spec + ': tick the variants to ask.';
  const body = $('variants').querySelector('tbody');
  for (const v of variants) {
    const row = document.createElement('tr');
    const first = cell(row, '');
    const box = document.createElement('input');
    box.type = 'checkbox';
    box.name = 'variant';
    box.value = v.name;
    box.disabled = !v.trained;
    const label = document.createElement('label');
    label.append(box, ' ', v.name);
    first.appendChild(label);
    cell(row, v.tuned ? 'LoRA adapter' : 'untuned base');
    cell(row, metric(v.metrics['eval/bleu']));
    cell(row, metric(v.metrics['eval/rougeL']));
    cell(row, metric(v.metrics['eval/bertscore_f1']));
    cell(row, metric(v.metrics['eval/accuracy']));
    cell(row, v.trained ? 'not loaded' : 'not trained: ' + v.hint).dataset.state = v.name;
    box.addEventListener('change', async () => {
      if (box.checked) {
        await fetch('api/load', { method: 'POST', body: JSON.stringify({ variants: [v.name] }) });
        refresh();
      }
    });
    body.appendChild(row);
  }
  setInterval(refresh, 1000);
}

$('image').addEventListener('change', () => {
  const file = $('image').files[0];
  if (!file) return;
  const reader = new FileReader();
  reader.onload = () => {
    image = reader.result;
    $('preview').src = image;
    for (const key of Object.keys(conversations)) delete conversations[key];
    $('answers').replaceChildren();
    for (const key of Object.keys(columns)) delete columns[key];
  };
  reader.readAsDataURL(file);
});

function column(name) {
  if (!columns[name]) {
    const div = document.createElement('div');
    div.className = 'column';
    div.dataset.variant = name;
    const title = document.createElement('h2');
    title.textContent = name;
    div.appendChild(title);
    $('answers').appendChild(div);
    columns[name] = div;
  }
  return columns[name];
}

$('ask').addEventListener('click', async () => {
  const variants = [...document.querySelectorAll('input[name=variant]:checked')].map((b) => b.value);
  const question = $('question').value.trim();
  if (!image || !question || variants.length === 0) {
    $('status').textContent = 'Pick at least one variant, an image and a question.';
    return;
  }
  $('status').textContent = 'Asking ' + variants.join(', ') + '…';
  const response = await fetch('api/ask', {
    method: 'POST',
    body: JSON.stringify({ variants, question, image, conversations }),
  });
  const result = await response.json();
  if (!response.ok) {
    $('status').textContent = result.error;
    return;
  }
  for (const a of result.answers) {
    const div = column(a.variant);
    const q = document.createElement('div');
    q.className = 'question';
    q.textContent = 'Q: ' + question;
    const answer = document.createElement('div');
    answer.className = 'answer';
    answer.textContent = a.error ? 'error: ' + a.error : a.answer;
    div.append(q, answer);
    if (!a.error) (conversations[a.variant] ??= []).push({ question, answer: a.answer });
  }
  $('status').textContent = 'Answered.';
  $('question').value = '';
  refresh();
});

start();
</script>
</body>
</html>
`;
