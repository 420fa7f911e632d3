"""Reads a built demo stand-in back the way the worker does and prints what the test checks.

Input: argv = MODEL_DIR GGUF_FILE. Output: one JSON object on stdout.
"""

import json
import sys

import numpy as np
import torch
from gguf import GGUFReader
from gguf.quants import dequantize
from PIL import Image
from transformers import AutoModelForImageTextToText, AutoProcessor, AutoTokenizer

model_dir, gguf_file = sys.argv[1], sys.argv[2]
processor = AutoProcessor.from_pretrained(model_dir)
model = AutoModelForImageTextToText.from_pretrained(model_dir, dtype=torch.float32).eval()
text_model = model.model.text_model

# The same tensor straight from the GGUF file, dequantised by the gguf package itself. ffn_down
# is stored unpermuted (unlike Q and K, which llama.cpp's converter permutes).
reader = GGUFReader(gguf_file)
tensors = {t.name: t for t in reader.tensors}
raw = tensors["blk.3.ffn_down.weight"]
from_gguf = dequantize(raw.data, raw.tensor_type).reshape(text_model.layers[3].mlp.down_proj.weight.shape)
down_equal = bool(np.array_equal(from_gguf.astype(np.float32), text_model.layers[3].mlp.down_proj.weight.detach().numpy()))
raw_embed = tensors["token_embd.weight"]
embed = dequantize(raw_embed.data, raw_embed.tensor_type)
embed_rows = embed.shape[0]
embed_equal = bool(
    np.array_equal(embed.astype(np.float32), text_model.embed_tokens.weight[:embed_rows].detach().numpy())
)

sentence = "Impetigo is a common bacterial skin infection."
original = AutoTokenizer.from_pretrained(gguf_file.rsplit("/", 1)[0], gguf_file=gguf_file.rsplit("/", 1)[1])
same_ids = original(sentence)["input_ids"] == processor.tokenizer(sentence)["input_ids"]

image = Image.new("RGB", (96, 64), (190, 120, 100))
messages = [
    {"role": "user", "content": [{"type": "image"}, {"type": "text", "text": "What is impetigo?"}]}
]
prompt = processor.apply_chat_template(messages, add_generation_prompt=True)
processor.image_processor.size = {"longest_edge": 64}
inputs = processor(text=[prompt], images=[[image]], return_tensors="pt", add_special_tokens=False)
image_token = processor.tokenizer.convert_tokens_to_ids("<image>")
with torch.no_grad():
    out = model.generate(**inputs, max_new_tokens=24, do_sample=False)
answer = processor.tokenizer.decode(out[0][inputs["input_ids"].shape[1] :], skip_special_tokens=True)

print(
    json.dumps(
        {
            "architecture": type(model).__name__,
            "text_layers": len(text_model.layers),
            "hidden_size": text_model.config.hidden_size,
            "vocab": len(processor.tokenizer),
            "gguf_vocab": embed_rows,
            "down_proj_equals_gguf": down_equal,
            "embeddings_equal_gguf": embed_equal,
            "tokenizer_keeps_smollm2_ids": same_ids,
            "image_tokens_in_prompt": int((inputs["input_ids"][0] == image_token).sum()),
            "prompt": prompt,
            "answer": answer,
        }
    )
)
