"""Builds the demo's stand-in for SmolVLM: an Idefics3 model whose text model is SmolLM2-135M-Instruct.

SmolVLM-256M is an Idefics3 model whose text model is SmolLM2-135M. This builder makes a model of
that shape offline: the text model carries SmolLM2-135M-Instruct's pretrained weights, read from
the GGUF file the project installs for its local LLM (Q4_1, dequantised to fp32 by transformers'
GGUF loader through the `gguf` package, so the weights are the quantised ones, not the original
bf16), the tokenizer is SmolLM2's (read from the same GGUF) plus SmolVLM's image and utterance
tokens, and the vision tower and connector are small and random (no package ships SigLIP weights
that fit). It therefore writes and answers in English from the start, and LoRA fine-tuning moves
its answers towards the training answers within a few dozen steps on a CPU; what it sees in the
pixels is noise. A stand-in for the demo, never a model of skin disease: every file it writes says so.

Deterministic: the GGUF's bytes and the seed fix every weight; the folder's `stand-in.json` carries
the digest the runner computed over this builder, the shared one and the GGUF.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from .tiny_model import IMAGE_TOKENS, MARKER, ROW_COL_TOKENS, build_staged

STAND_IN_NAME = "smolvlm-smollm2-standin"
SEED = 20261201

# SmolVLM's 384 px tiles (so `train.image_size` means what it means for SmolVLM), cut into 64 px
# patches (6 x 6), pixel-shuffled by 3 -> 4 image tokens per tile: the random tower carries no
# information, so every image token would only cost the 135M text model time.
VISION = dict(
    hidden_size=64,
    intermediate_size=128,
    num_hidden_layers=2,
    num_attention_heads=2,
    image_size=384,
    patch_size=64,
)
SCALE_FACTOR = 3
IMAGE_SEQ_LEN = (VISION["image_size"] // VISION["patch_size"]) ** 2 // SCALE_FACTOR**2
END_OF_UTTERANCE = "<end_of_utterance>"
END_OF_TURN = "<|im_end|>"

# SmolLM2-Instruct's own turn format (ChatML) rather than SmolVLM's "User:/Assistant:", and no system
# turn: in SmolVLM's format the untuned instruct weights answer with an empty turn, in their own
# they answer in sentences, which is the untuned baseline the paper compares against.
CHAT_TEMPLATE = (
    "{% for message in messages %}"
    "{{ '<|im_start|>' + message['role'] + '\\n' }}"
    "{% for part in message['content'] %}"
    "{% if part['type'] == 'text' %}{{ part['text'] }}{% elif part['type'] == 'image' %}{{ '<image>' }}{% endif %}"
    "{% endfor %}"
    "{{ '<|im_end|>\\n' }}"
    "{% endfor %}"
    "{% if add_generation_prompt %}{{ '<|im_start|>assistant\\n' }}{% endif %}"
)


def _write_model(out: Path, gguf: Path, digest: str) -> None:
    import torch
    from transformers import (
        AutoModelForCausalLM,
        AutoTokenizer,
        Idefics3Config,
        Idefics3ForConditionalGeneration,
        Idefics3Processor,
    )
    from transformers.models.idefics3.image_processing_pil_idefics3 import Idefics3ImageProcessorPil

    tokenizer = AutoTokenizer.from_pretrained(str(gguf.parent), gguf_file=gguf.name)
    original_vocab = len(tokenizer)
    # SmolVLM's tokenizer is SmolLM2's plus these; the processor finds them by their text.
    tokenizer.add_tokens([*IMAGE_TOKENS, END_OF_UTTERANCE, *ROW_COL_TOKENS], special_tokens=True)
    tokenizer.model_max_length = 2048
    tokenizer.padding_side = "right"
    if tokenizer.pad_token is None:
        tokenizer.pad_token = tokenizer.eos_token

    text = AutoModelForCausalLM.from_pretrained(str(gguf.parent), gguf_file=gguf.name, dtype=torch.float32)
    text_config = text.config.to_dict()
    for key in ("quantization_config", "architectures", "_name_or_path", "transformers_version", "dtype"):
        text_config.pop(key, None)
    image_processor = Idefics3ImageProcessorPil(
        size={"longest_edge": 2 * VISION["image_size"]},
        max_image_size={"longest_edge": VISION["image_size"]},
        do_image_splitting=True,
    )
    processor = Idefics3Processor(
        image_processor=image_processor,
        tokenizer=tokenizer,
        image_seq_len=IMAGE_SEQ_LEN,
        chat_template=CHAT_TEMPLATE,
    )
    end_id = tokenizer.convert_tokens_to_ids(END_OF_TURN)
    text_config.update(
        vocab_size=len(tokenizer),
        pad_token_id=tokenizer.pad_token_id,
        bos_token_id=tokenizer.bos_token_id,
        eos_token_id=end_id,
    )
    config = Idefics3Config(
        vision_config=dict(VISION),
        text_config=text_config,
        scale_factor=SCALE_FACTOR,
        image_token_id=tokenizer.convert_tokens_to_ids("<image>"),
        tie_word_embeddings=bool(text.config.tie_word_embeddings),
        pad_token_id=tokenizer.pad_token_id,
    )
    torch.manual_seed(SEED)
    model = Idefics3ForConditionalGeneration(config).eval()
    with torch.no_grad():
        source = text.model.state_dict()
        target = model.model.text_model.state_dict()
        for name, tensor in source.items():
            if name == "embed_tokens.weight":
                # New token rows start at the mean embedding: a neutral point the adapter can move from.
                rows = target[name]
                rows[:original_vocab] = tensor
                rows[original_vocab:] = tensor.mean(dim=0, keepdim=True)
            else:
                target[name].copy_(tensor)
        if not config.tie_word_embeddings:
            head = model.lm_head.weight
            head[:original_vocab] = text.lm_head.weight
            head[original_vocab:] = text.lm_head.weight.mean(dim=0, keepdim=True)
    model.tie_weights()
    # Stop at SmolLM2's end of turn, which the instruct weights write when they have answered.
    model.generation_config.eos_token_id = end_id
    model.generation_config.pad_token_id = tokenizer.pad_token_id
    model.generation_config.bos_token_id = tokenizer.bos_token_id

    model.save_pretrained(out, safe_serialization=True)
    processor.save_pretrained(out)
    n_params = sum(p.numel() for p in model.parameters())
    (out / "README.md").write_text(
        f"# {STAND_IN_NAME} (local stand-in, NOT SmolVLM)\n\n"
        "SmolVLM-256M's shape (Idefics3ForConditionalGeneration with SmolLM2-135M as its text model),\n"
        "built offline by dermatune's model worker for the demo. The text model carries\n"
        f"SmolLM2-135M-Instruct's pretrained weights, dequantised from {gguf.name}; the tokenizer is\n"
        "SmolLM2's plus SmolVLM's image and utterance tokens; the vision tower and connector are small\n"
        "and RANDOM, so the model sees nothing in an image. It knows nothing of skin disease beyond what\n"
        "a 135M text model read; its outputs mean nothing clinically. The study itself uses\n"
        "HuggingFaceTB/SmolVLM-Base and -Instruct.\n\n"
        f"Parameters: {n_params}; vocabulary: {len(tokenizer)}; image tokens per tile: {IMAGE_SEQ_LEN}.\n"
    )
    (out / MARKER).write_text(
        json.dumps(
            {
                "name": STAND_IN_NAME,
                "stand_in_for": "HuggingFaceTB/SmolVLM-256M-Instruct",
                "text_weights": f"SmolLM2-135M-Instruct from {gguf.name} (dequantised)",
                "vision_weights": "random",
                "note": "a stand-in for the demo, not a real vision-language model",
                "builder_digest": digest,
                "parameters": n_params,
            },
            indent=2,
        )
        + "\n"
    )


def main(argv: list[str]) -> int:
    if len(argv) != 3:
        print("usage: python -m dermatune_worker.smollm2_standin OUT_DIR GGUF_FILE DIGEST", file=sys.stderr)
        return 2
    out, gguf, digest = Path(argv[0]), Path(argv[1]), argv[2]
    if not gguf.is_file():
        print(f"GGUF file {gguf} does not exist", file=sys.stderr)
        return 2
    built = build_staged(out, digest, lambda staging: _write_model(staging, gguf, digest))
    print(json.dumps({"event": "done", "built": built, "path": str(out.resolve())}))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
