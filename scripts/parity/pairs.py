"""Seeded (prediction, reference) pairs for the parity tests and the metrics benchmark.

Realistic answers about bacterial skin infections, perturbed the way model answers differ
from references (dropped, swapped, repeated or invented words, truncation, credit lines),
plus hand-written edge cases for every tokenizer rule the metrics depend on.
"""

import random

SENTENCES = [
    "The image shows a well-demarcated, erythematous plaque with honey-colored crusts, typical of impetigo.",
    "Impetigo is a superficial bacterial infection usually caused by Staphylococcus aureus or Streptococcus pyogenes.",
    "Cellulitis presents as a spreading area of warmth, swelling and tenderness with ill-defined borders.",
    "Erysipelas involves the upper dermis and superficial lymphatics, giving a raised, sharply demarcated edge.",
    "A furuncle is a deep infection of the hair follicle that forms a painful, fluctuant nodule.",
    "Multiple coalescing furuncles form a carbuncle, often on the back of the neck.",
    "Folliculitis appears as small follicular pustules surrounded by a rim of erythema.",
    "Necrotizing fasciitis is a surgical emergency; pain out of proportion to the findings is an early clue.",
    "Ecthyma produces punched-out ulcers covered by a thick, adherent crust.",
    "Erythrasma shows a coral-red fluorescence under Wood's lamp because of porphyrins from Corynebacterium minutissimum.",
    "Pitted keratolysis causes crater-like depressions on the soles and a strong odour.",
    "The differential diagnosis includes contact dermatitis, herpes simplex and tinea corporis.",
    "Culture of the exudate and a Gram stain would confirm the organism and guide therapy.",
    "Topical mupirocin is effective for limited impetigo; extensive disease needs oral antibiotics.",
    "For cellulitis, oral cephalexin 500 mg four times daily for 5-7 days is a common first-line choice.",
    "MRSA should be suspected when there is purulence, prior MRSA infection or failure of beta-lactams.",
    "Incision and drainage is the main treatment for an abscess larger than 2 cm.",
    "The lesion measures approximately 3.5 x 2.0 cm and has a central necrotic area.",
    "Lymphangitic streaking toward the axilla suggests spread along the lymphatic vessels.",
    "Diabetes, obesity and venous insufficiency are risk factors for recurrent cellulitis.",
    "Please see a doctor promptly if you develop fever, rapidly spreading redness or severe pain.",
    "This does not look like a malignant lesion; its features fit an acute infectious process.",
    "Staphylococcal scalded skin syndrome causes widespread blistering, mostly in young children.",
    "The patient's history of a recent insect bite may explain the portal of entry.",
    "Follow-up in 48 to 72 hours is advisable to check that the erythema is receding.",
]

SYNONYMS = {
    "shows": "demonstrates", "typical": "characteristic", "usually": "commonly",
    "painful": "tender", "small": "tiny", "strong": "marked", "main": "principal",
    "lesion": "plaque", "infection": "disease", "spreading": "expanding", "deep": "profound",
    "suggests": "indicates", "recent": "prior", "common": "frequent", "severe": "intense",
}

LEAKS = [
    "Photo courtesy of Dr. A. Smith.", "(A) Clinical photograph; (B) dermoscopy.",
    "Reproduced with permission from the publisher.", "Fig. 2 shows the same lesion after therapy.",
    "Image credit: the authors.", "Panel C: close-up view.",
]

EDGE_CASES = [
    ("", "A non-empty reference answer."),
    ("A non-empty prediction with no reference.", ""),
    ("", ""),
    ("   ", "whitespace only prediction"),
    ("...", "!!!"),
    ("?!", "Is it impetigo?!"),
    ("Impetigo.", "Impetigo."),
    ("impetigo", "IMPETIGO"),
    ("The lesion is 3.5 mm wide, not 1,000 mm.", "The lesion is 3.5mm wide and not 1,000mm."),
    ("Treat for 5-7 days, then 10-14 days if needed.", "Treat for 5 - 7 days, then 10 - 14 days."),
    ("Values: 1.5, 2.5 and 3.", "Values: 1.5,2.5 and 3."),
    ("Take 500mg q6h (max 4g/day).", "Take 500 mg every 6 h (max 4 g per day)."),
    ("It's a 'classic' \"honey-crust\" look.", "It is a classic honey crust look."),
    ("AT&amp;T &quot;quoted&quot; &lt;tag&gt;", "AT&T \"quoted\" <tag>"),
    ("Tom &amp Jerry", "Tom & Jerry"),
    ("<skipped> The remaining answer.", "The remaining answer."),
    ("A hyphen-\nated word and a line\nbreak.", "A hyphenated word and a line break."),
    ("Ends with a hyphen-\n", "Ends with a hyphen"),
    ("Trailing spaces and tabs \t  ", "Trailing spaces and tabs"),
    ("First sentence.\nSecond sentence.\nThird.", "First sentence.\nThird sentence.\nSecond."),
    ("One line only.", "Line one.\nLine two.\n\nLine four after a blank."),
    ("Windows\r\nline endings\r\nhere.", "Windows line endings here."),
    ("Caf\u00e9 na\u00efve r\u00e9sum\u00e9 \u00fcber", "Cafe naive resume uber"),
    ("\u0130stanbul \u0130MPET\u0130GO", "istanbul impetigo"),
    ("\u212aelvin sign in \u212aOH", "kelvin sign in koh"),
    ("\u76ae\u75b9\u306f\u7d30\u83cc\u611f\u67d3\u3067\u3059\u3002", "\u76ae\u75b9\u306f\u7d30\u83cc\u611f\u67d3\u3002"),
    ("Emoji \U0001F600 in the answer \U0001F9A0.", "Emoji in the answer."),
    ("Non\u00a0breaking\u00a0spaces and\u2003em\u2003spaces", "Non breaking spaces and em spaces"),
    ("Python-only\u0085whitespace\u001cand\u001fmore", "Python-only whitespace and more"),
    ("Zero\u200bwidth and BOM\ufeffhere", "Zero width and BOM here"),
    ("Greek \u03a3\u039f\u03a6\u0399\u0391 and \u03c3\u03bf\u03c6\u03af\u03b1", "Greek sophia"),
    ("Mixed  CASE   Words And   SPACES", "mixed case words and spaces"),
    ("the the the the the the the the", "the"),
    ("impetigo impetigo impetigo cellulitis cellulitis", "impetigo cellulitis"),
    ("crusted crusts crusting crust", "crust crusted"),
    ("relational conditional rational digitizer operator feudalism", "relate condition rational digitize operate feudal"),
    ("hopefulness callousness formality sensitivity sensibility", "hopeful callous formal sensitive sensible"),
    ("generalization generalizations generalized generally", "general generalize"),
    ("skies dying lying tying news innings outings proceed exceed succeed",
     "sky die lie tie news inning outing proceeding exceeding succeeding"),
    ("flies dies spied died cries tried", "fly die spy dye cry try"),
    ("yyyy yyyyyyy syzygy toy boy enjoy happy", "yyy syzygi toi boi enjoi happi"),
    ("geology theology archaeology biology", "geologic theologic archaeologic biologic"),
    ("controlling rolling falling hissing fizzing hopping", "control roll fall hiss fizz hop"),
    ("agreed feed bled plastered motoring sing", "agree fee bleed plaster motor sung"),
    ("1990s 2nd 3rd 4th 10mg 20ml", "1990 2 3 4 10 mg 20 ml"),
    ("a b c d e f g", "a b c d e f g h"),
    ("x", "y"),
    ("word", "word"),
    ("two words", "two words"),
    ("three words here", "three words here"),
    ("four words are here", "four words are here"),
    ("-- -- --", "- - -"),
    ("e.g. i.e. etc. vs. Dr. St.", "eg ie etc vs Dr St"),
    ("U.S.A. and U.K.", "USA and UK"),
    ("$100 @home #tag 50% ^caret ~tilde `tick` {brace} [bracket] |pipe| \\slash/",
     "100 home tag 50 caret tilde tick brace bracket pipe slash"),
    ("3-4 cm, 5.-6. and 7,8", "3 - 4 cm, 5 . - 6 . and 7 , 8"),
    (".5 and 5. and ,5 and 5,", "0.5 and 5 and 5"),
]


def _perturb(rng, text):
    words = text.split()
    kind = rng.randrange(9)
    if kind == 0:
        return text
    if kind == 1 and len(words) > 3:
        del words[rng.randrange(len(words))]
        del words[rng.randrange(len(words))]
    elif kind == 2:
        words = [SYNONYMS.get(w, w) for w in words]
    elif kind == 3 and len(words) > 4:
        i = rng.randrange(len(words) - 1)
        words[i], words[i + 1] = words[i + 1], words[i]
    elif kind == 4:
        words = words[: max(1, len(words) // 2)]
    elif kind == 5:
        i = rng.randrange(len(words))
        words = words[: i + 1] + words[i : i + 3] * 3 + words[i + 1 :]
    elif kind == 6:
        return text + " " + rng.choice(LEAKS)
    elif kind == 7:
        return text.lower()
    else:
        return rng.choice(SENTENCES)
    return " ".join(words)


def _answer(rng, lo, hi):
    return " ".join(rng.choice(SENTENCES) for _ in range(rng.randint(lo, hi)))


def make_pairs(seed, realistic, edge_cases=True):
    """`realistic` generated pairs, then (if asked) the edge cases, the long and multi-reference ones."""
    rng = random.Random(seed)
    pairs = []
    for i in range(realistic):
        reference = _answer(rng, 1, 4)
        if rng.random() < 0.15:
            # Multi-line answers exercise ROUGE-Lsum's sentence split.
            reference = reference.replace(". ", ".\n")
        prediction = " ".join(_perturb(rng, s + ".") for s in reference.split(". ") if s).replace("..", ".")
        if rng.random() < 0.1:
            prediction = _answer(rng, 1, 3)
        pairs.append({"id": f"gen-{i}", "prediction": prediction, "references": [reference]})
    if not edge_cases:
        return pairs
    for i, (prediction, reference) in enumerate(EDGE_CASES):
        pairs.append({"id": f"edge-{i}", "prediction": prediction, "references": [reference]})
    long_reference = _answer(rng, 60, 60)
    pairs.append({"id": "long-0", "prediction": _answer(rng, 80, 80), "references": [long_reference]})
    pairs.append({
        "id": "long-1",
        "prediction": " ".join(_perturb(rng, s + ".") for s in long_reference.split(". ")),
        "references": [long_reference],
    })
    pairs.append({"id": "long-repeat", "prediction": "the lesion is red " * 300, "references": [_answer(rng, 3, 3)]})
    for i in range(12):
        references = [_answer(rng, 1, 2) for _ in range(rng.randint(2, 4))]
        if i % 4 == 0:
            references.append("")
        pairs.append({"id": f"multi-{i}", "prediction": _perturb(rng, references[0]), "references": references})
    return pairs
