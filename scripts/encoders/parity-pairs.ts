/**
 * The candidate/reference pairs the encoder golden files are made from: hand-written edge
 * cases (empty strings, whitespace, unicode, numbers, punctuation, special-token text, texts
 * past both truncation limits) and seeded, answer-like pairs in the style of the study's
 * dermatology QA. Deterministic, so regenerating the golden files gives the same inputs.
 */
export interface TextPair {
  candidate: string;
  reference: string;
}

const LESIONS = ['papule', 'plaque', 'pustule', 'vesicle', 'nodule', 'ulcer', 'macule', 'crust'];
const COLOURS = ['erythematous', 'violaceous', 'hyperpigmented', 'yellowish', 'pale', 'brown'];
const SITES = ['forearm', 'scalp', 'trunk', 'lower leg', 'face', 'dorsal hand', 'groin', 'axilla'];
const CAUSES = [
  'impetigo caused by Staphylococcus aureus',
  'cellulitis',
  'erysipelas',
  'folliculitis',
  'cutaneous anthrax',
  'ecthyma',
  'a secondary bacterial infection',
  'leprosy (Hansen disease)',
];
const STARTS = ['The image shows', 'There is', 'This figure depicts', 'We can see', 'It shows'];

function longText(words: number, seed: number): string {
  const random = mulberry32(seed);
  const parts: string[] = [];
  while (parts.length < words) {
    parts.push(pick(random, [...LESIONS, ...COLOURS, ...SITES, 'with', 'and', 'of', 'the']));
  }
  return `${parts.join(' ')}.`;
}

const EDGE_CASES: TextPair[] = [
  { candidate: '', reference: 'An erythematous plaque on the forearm.' },
  { candidate: 'An erythematous plaque on the forearm.', reference: '' },
  { candidate: '', reference: '' },
  { candidate: '   ', reference: 'A pustule.' },
  { candidate: '\t\n', reference: '\n' },
  { candidate: 'A pustule.', reference: 'A pustule.' },
  { candidate: 'A PUSTULE ON THE SCALP', reference: 'a pustule on the scalp' },
  {
    candidate: 'Café-au-lait macules, naïve patient',
    reference: 'cafe au lait macules in a naive patient',
  },
  { candidate: 'Eczéma herpétiforme à Staphylococcus', reference: 'eczema herpeticum' },
  { candidate: 'e\u0301ruption (decomposed accent)', reference: 'éruption (composed accent)' },
  { candidate: '皮疹 on the 顔 (face)', reference: 'rash on the face' },
  { candidate: 'Кожная сыпь на руке', reference: 'Skin rash on the arm' },
  { candidate: 'Ελκος στο πόδι', reference: 'Ulcer on the foot' },
  { candidate: 'طفح جلدي', reference: 'skin rash' },
  { candidate: 'Lesion 🙂 with 🔥 redness', reference: 'Lesion with redness' },
  { candidate: 'zero\u200bwidth\u200bspace', reference: 'zero width space' },
  { candidate: 'non\u00a0breaking\u00a0space', reference: 'non breaking space' },
  { candidate: 'control\u0007char and\u0000null', reference: 'control char and null' },
  {
    candidate: '3.5 cm × 2 cm lesion, 40% BSA',
    reference: 'A 35 mm by 20 mm lesion covering 40 percent',
  },
  {
    candidate: '12/03/2021: T 38.9°C, CRP 120 mg/L',
    reference: 'fever of 38.9 degrees and high CRP',
  },
  { candidate: '!!!', reference: '???' },
  { candidate: '...', reference: 'A nodule.' },
  { candidate: '(a) (b) (c)', reference: 'Panels a, b and c.' },
  { candidate: 'Courtesy of Dr. Smith; © 2019 Elsevier.', reference: 'An ulcer on the shin.' },
  { candidate: '[CLS] a plaque [SEP]', reference: 'a plaque' },
  { candidate: '[MASK] on the trunk', reference: 'papules on the trunk' },
  { candidate: '<s>pustule</s>', reference: 'pustule' },
  {
    candidate: 'well-demarcated, honey-coloured crusts',
    reference: 'well demarcated honey colored crusts',
  },
  {
    candidate: 'pneumonoultramicroscopicsilicovolcanoconiosis'.repeat(3),
    reference: 'a long word',
  },
  { candidate: 'https://example.org/case?id=42&x=1', reference: 'a link to case 42' },
  {
    candidate: "patient's lesion isn't painful",
    reference: 'the lesion of the patient is not painful',
  },
  { candidate: 'Yes.', reference: 'No.' },
  { candidate: 'a', reference: 'b' },
  { candidate: 'the the the the the the', reference: 'the' },
  { candidate: longText(300, 1), reference: longText(280, 2) },
  { candidate: longText(700, 3), reference: 'A short reference about a plaque.' },
  { candidate: 'A short candidate.', reference: longText(650, 4) },
  { candidate: longText(600, 5), reference: longText(620, 6) },
  { candidate: '  leading and trailing spaces  ', reference: 'leading and trailing spaces' },
  { candidate: 'multiple     inner    spaces', reference: 'multiple inner spaces' },
];

/** `count` pairs in all: the edge cases first, then seeded answer-like pairs. */
export function parityPairs(count = 240, seed = 20240917): TextPair[] {
  const random = mulberry32(seed);
  const pairs = [...EDGE_CASES];
  while (pairs.length < count) {
    const reference = answer(random);
    const roll = random();
    let candidate: string;
    if (roll < 0.25) candidate = answer(random);
    else if (roll < 0.5) candidate = perturb(reference, random);
    else if (roll < 0.65) candidate = reference;
    else if (roll < 0.8) candidate = `${reference} ${answer(random)}`;
    else candidate = reference.toUpperCase();
    pairs.push({ candidate, reference });
  }
  return pairs;
}

function answer(random: () => number): string {
  const count = 1 + Math.floor(random() * 4);
  return `${pick(random, STARTS)} ${count} ${pick(random, COLOURS)} ${pick(random, LESIONS)}${
    count > 1 ? 's' : ''
  } on the ${pick(random, SITES)}, consistent with ${pick(random, CAUSES)}.`;
}

function perturb(text: string, random: () => number): string {
  const words = text.split(' ');
  const at = Math.floor(random() * words.length);
  if (random() < 0.5) words.splice(at, 1);
  else words[at] = pick(random, [...LESIONS, ...COLOURS, ...SITES]);
  return words.join(' ');
}

function pick<T>(random: () => number, items: readonly T[]): T {
  return items[Math.floor(random() * items.length)] as T;
}

/** A small seeded PRNG, so the pairs never change with a Node version. */
function mulberry32(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
