"""Drives the generate job's answer-only n-gram ban on literal token ids; prints what the test checks.

Row 0: prompt [5, 6, 5] then answer [7, 8, 7]: the answer's bigram (7, 8) is banned after its
last 7, so 8 must be; the prompt's bigram (5, 6) is not the answer's, so 6 stays allowed.
Row 1: the same prompt, answer [9, 9, 9]: (9, 9) is the answer's own bigram, so 9 is banned.
"""

import json

import torch

from dermatune_worker.generate import answer_no_repeat

prompt = [5, 6, 5]
input_ids = torch.tensor([prompt + [7, 8, 7], prompt + [9, 9, 9]])
scores = torch.zeros((2, 12))
out = answer_no_repeat(2, len(prompt))(input_ids, scores.clone())
banned = [[i for i, v in enumerate(row.tolist()) if v == float("-inf")] for row in out]
# transformers' own processor over the prompt alone: it bans what would repeat the prompt.
from transformers import NoRepeatNGramLogitsProcessor

plain = NoRepeatNGramLogitsProcessor(2)(torch.tensor([prompt]), torch.zeros((1, 12)))
print(json.dumps({"banned": banned, "plain_banned": [i for i, v in enumerate(plain[0].tolist()) if v == float("-inf")]}))
