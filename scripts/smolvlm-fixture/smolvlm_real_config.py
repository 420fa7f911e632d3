"""SmolVLM's real configuration, as a test fixture: built offline and deterministically.

`build OUT_DIR base|instruct GGUF` writes a random-weight Idefics3 model whose every setting is
SmolVLM-Base's / SmolVLM-Instruct's own, except the layer counts and widths, which are cut down
so that it trains on a CPU in seconds:
- config.json: vision patch 14, image 384, scale factor 3 (so 81 image tokens a tile), the text
  model's vocabulary (49,155), max positions (16,384), RoPE theta, head_dim, token ids;
- preprocessor_config.json: longest_edge 1536, max_image_size 384, image splitting on;
- processor_config.json: image_seq_len 81;
- chat_template.json: Base's (turns end with <|endoftext|>) or Instruct's (<end_of_utterance>);
- the SmolLM2 tokenizer (read from the SmolLM2-135M-Instruct GGUF the project installs for its
  local LLM; SmolVLM's text model uses SmolLM2's 49,152-token vocabulary) with SmolVLM's three
  added tokens at 49152-49154. <global-img> and <row_i_col_j> are NOT tokens: the real
  tokenizer splits them, which the tiny stand-in hides.

`census` prints, for the FULL-size configuration built on the meta device (no memory, no
weights), the parameter count per tower and which modules LoRA wraps for [q_proj, v_proj].

Sources of the values (read 2026-12-01): the SmolVLM-Base and -Instruct chat_template.json on
the hub (HuggingFaceTB/SmolVLM-Base blob main chat_template.json, commit 6c1094d;
HuggingFaceTB/SmolVLM-Instruct chat_template.json, commit 748d43f); SmolVLM-Base's config.json
as a fine-tune republishes it (frontrx/ECGv3 config.json, `_name_or_path:
HuggingFaceTB/SmolVLM-Base`: image_token_id 49153, scale_factor 3, text hidden 2048,
intermediate 8192, 24 layers, head_dim 64, max positions 16384, bos/eos 0, pad 2); the
processor values in dermatune's DESIGN.md (read from the hub files). The SigLIP vision widths
(1152 / 4304 / 27 layers / 16 heads), 32 key-value heads and RoPE theta are SmolVLM's as
transformers' Idefics3 configs give them; `census` checks them: it must count 2,246,272,880
parameters, SmolVLM-Base's published size (4.49 GB of bf16 weights).
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import struct
import sys
import tempfile
from pathlib import Path

WORKER = Path(__file__).resolve().parents[2] / "stages" / "model-worker"
sys.path.insert(0, str(WORKER))
from dermatune_worker.known_models import SMOLVLM  # noqa: E402 - the worker's record of the architecture

MARKER = "real-config.json"
SEED = 20261201

_WIDTHS = ("hidden_size", "intermediate_size", "num_hidden_layers", "num_attention_heads", "num_key_value_heads", "head_dim")
VISION_FULL = {k: v for k, v in SMOLVLM["vision"].items() if k in _WIDTHS}
TEXT_FULL = {k: v for k, v in SMOLVLM["text"].items() if k in _WIDTHS}
# Cut down: widths and layer counts only. Everything below them is SmolVLM's.
VISION_CUT = dict(hidden_size=64, intermediate_size=128, num_hidden_layers=2, num_attention_heads=4)
TEXT_CUT = dict(hidden_size=64, intermediate_size=128, num_hidden_layers=2, num_attention_heads=4, num_key_value_heads=4, head_dim=16)
VISION_SHARED = dict(
    patch_size=SMOLVLM["vision"]["patch_size"],
    image_size=SMOLVLM["vision"]["image_size"],
    hidden_act="gelu_pytorch_tanh",
    layer_norm_eps=1e-6,
)
TEXT_SHARED = dict(
    model_type="llama",
    vocab_size=SMOLVLM["text"]["vocab_size"],
    max_position_embeddings=16384,
    rope_theta=273768.0,
    rms_norm_eps=1e-5,
    hidden_act="silu",
    bos_token_id=0,
    eos_token_id=0,
    pad_token_id=2,
    tie_word_embeddings=False,
)
SCALE_FACTOR = SMOLVLM["scale_factor"]
IMAGE_SEQ_LEN = 81  # (384 / 14)^2 patches = 27^2 = 729, pixel-shuffled by 3^2
IMAGE_TOKEN_ID = 49153
ADDED_TOKENS = ["<fake_token_around_image>", "<image>", "<end_of_utterance>"]  # ids 49152, 49153, 49154
PREPROCESSOR = dict(
    do_convert_rgb=True,
    do_resize=True,
    size={"longest_edge": SMOLVLM["longest_edge"]},
    resample=1,  # Lanczos
    do_image_splitting=True,
    max_image_size={"longest_edge": SMOLVLM["max_image_size"]},
    do_rescale=True,
    rescale_factor=1 / 255,
    do_normalize=True,
    image_mean=[0.5, 0.5, 0.5],
    image_std=[0.5, 0.5, 0.5],
    do_pad=True,
)
_TEMPLATE = (
    "<|im_start|>{% for message in messages %}{{message['role'].capitalize()}}"
    "{% if message['content'][0]['type'] == 'image' %}{{':'}}{% else %}{{': '}}{% endif %}"
    "{% for line in message['content'] %}{% if line['type'] == 'text' %}{{line['text']}}"
    "{% elif line['type'] == 'image' %}{{ '<image>' }}{% endif %}{% endfor %}TURN_END\n{% endfor %}"
    "{% if add_generation_prompt %}{{ 'Assistant:' }}{% endif %}"
)
VARIANTS = {
    # SmolVLM-Base's template ends each turn with <|endoftext|>; Instruct's with <end_of_utterance>
    # (and writes the role with Jinja's `| capitalize`, which renders the same).
    "base": {"stands_for": "HuggingFaceTB/SmolVLM-Base", "turn_end": "<|endoftext|>"},
    "instruct": {"stands_for": "HuggingFaceTB/SmolVLM-Instruct", "turn_end": "<end_of_utterance>"},
}


def chat_template(variant: str) -> str:
    return _TEMPLATE.replace("TURN_END", VARIANTS[variant]["turn_end"])


def builder_digest() -> str:
    return hashlib.sha256(Path(__file__).read_bytes()).hexdigest()


def idefics3_config(vision: dict, text: dict):
    from transformers import Idefics3Config

    return Idefics3Config(
        vision_config={**VISION_SHARED, **vision},
        text_config={**TEXT_SHARED, **text},
        scale_factor=SCALE_FACTOR,
        image_token_id=IMAGE_TOKEN_ID,
        tie_word_embeddings=False,
    )


def build(out_dir: Path, variant: str, gguf: Path) -> bool:
    marker = out_dir / MARKER
    if marker.is_file() and json.loads(marker.read_text()).get("builder_digest") == builder_digest():
        return False
    out_dir.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{out_dir.name}-", dir=out_dir.parent))
    try:
        _write(staging, variant, gguf)
        staging.chmod(0o755)
        if out_dir.exists():
            shutil.rmtree(out_dir)
        os.replace(staging, out_dir)
    finally:
        if staging.exists():
            shutil.rmtree(staging, ignore_errors=True)
    return True


def _write(out: Path, variant: str, gguf: Path) -> None:
    import torch
    from transformers import Idefics3ForConditionalGeneration, Idefics3Processor
    from transformers.models.idefics3.image_processing_pil_idefics3 import Idefics3ImageProcessorPil

    turn_end = VARIANTS[variant]["turn_end"]
    tokenizer = smollm2_tokenizer(gguf, eos=turn_end)
    processor = Idefics3Processor(
        image_processor=Idefics3ImageProcessorPil(**PREPROCESSOR),
        tokenizer=tokenizer,
        image_seq_len=IMAGE_SEQ_LEN,
        chat_template=chat_template(variant),
    )
    ids = [tokenizer.convert_tokens_to_ids(t) for t in ADDED_TOKENS]
    if ids != [49152, 49153, 49154] or len(tokenizer) != TEXT_SHARED["vocab_size"]:
        raise SystemExit(f"SmolVLM's added tokens must be 49152-49154 in a 49,155 vocabulary; got {ids}, {len(tokenizer)}")
    config = idefics3_config(VISION_CUT, TEXT_CUT)
    torch.manual_seed(SEED)
    model = Idefics3ForConditionalGeneration(config).eval()
    model.generation_config.bos_token_id = TEXT_SHARED["bos_token_id"]
    model.generation_config.eos_token_id = tokenizer.convert_tokens_to_ids(turn_end)
    model.generation_config.pad_token_id = TEXT_SHARED["pad_token_id"]
    model.save_pretrained(out, safe_serialization=True)
    processor.save_pretrained(out)
    (out / MARKER).write_text(
        json.dumps(
            {
                "stands_for": VARIANTS[variant]["stands_for"],
                "variant": variant,
                "note": "SmolVLM's real configuration with layers and widths cut down; random weights, a test fixture",
                "builder_digest": builder_digest(),
                "parameters": sum(p.numel() for p in model.parameters()),
            },
            indent=2,
        )
        + "\n"
    )


def smollm2_tokenizer(gguf: Path, eos: str):
    """SmolLM2's byte-level BPE from the GGUF's tokenizer tables, plus SmolVLM's added tokens."""
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers
    from transformers import PreTrainedTokenizerFast

    meta = gguf_metadata(gguf, ("tokenizer.ggml.tokens", "tokenizer.ggml.merges", "tokenizer.ggml.token_type"))
    tokens = meta["tokenizer.ggml.tokens"]
    vocab = {token: index for index, token in enumerate(tokens)}
    merges = [tuple(line.split(" ", 1)) for line in meta["tokenizer.ggml.merges"]]
    bpe = Tokenizer(models.BPE(vocab=vocab, merges=merges))
    # SmolLM2's pre-tokenizer ("smollm" in llama.cpp): digits one by one, then GPT-2 byte level.
    bpe.pre_tokenizer = pre_tokenizers.Sequence(
        [pre_tokenizers.Digits(individual_digits=True), pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=True)]
    )
    bpe.decoder = decoders.ByteLevel()
    # GGUF token type 3 = control: SmolLM2's special tokens (<|endoftext|>, <|im_start|>, ...).
    bpe.add_special_tokens([t for t, kind in zip(tokens, meta["tokenizer.ggml.token_type"]) if kind == 3])
    # SmolVLM's own, in their order (the processor looks them up by text; ids must match config).
    bpe.add_special_tokens(ADDED_TOKENS)
    tokenizer = PreTrainedTokenizerFast(
        tokenizer_object=bpe,
        bos_token="<|im_start|>",
        eos_token=eos,
        pad_token="<|im_end|>",
        unk_token="<|endoftext|>",
        model_max_length=TEXT_SHARED["max_position_embeddings"],
        padding_side="right",
        extra_special_tokens={"image_token": "<image>"},
    )
    return tokenizer


_SCALARS = {0: "B", 1: "b", 2: "H", 3: "h", 4: "I", 5: "i", 6: "f", 7: "?", 10: "Q", 11: "q", 12: "d"}


def gguf_metadata(path: Path, wanted: tuple[str, ...]) -> dict:
    """The key-value header of a GGUF file (v2/v3: little-endian, u64 lengths)."""
    found: dict = {}
    with open(path, "rb") as handle:

        def read(fmt: str):
            size = struct.calcsize("<" + fmt)
            return struct.unpack("<" + fmt, handle.read(size))[0]

        def string() -> str:
            return handle.read(read("Q")).decode("utf-8")

        def value(kind: int):
            if kind == 8:
                return string()
            if kind == 9:
                inner, count = read("I"), read("Q")
                return [value(inner) for _ in range(count)]
            return read(_SCALARS[kind])

        if handle.read(4) != b"GGUF":
            raise SystemExit(f"{path} is not a GGUF file")
        read("I")  # version
        read("Q")  # tensor count
        for _ in range(read("Q")):
            key = string()
            item = value(read("I"))
            if key in wanted:
                found[key] = item
    missing = [key for key in wanted if key not in found]
    if missing:
        raise SystemExit(f"{path} lacks {', '.join(missing)}")
    return found


def census() -> dict:
    """The full-size model on the meta device: parameters per tower, and what LoRA wraps."""
    import torch
    from peft import LoraConfig, get_peft_model
    from transformers import Idefics3ForConditionalGeneration

    from dermatune_worker.train import lora_targets

    config = idefics3_config(VISION_FULL, TEXT_FULL)
    with torch.device("meta"):
        model = Idefics3ForConditionalGeneration(config)
    towers = {"vision_model": 0, "connector": 0, "text_model": 0, "lm_head": 0}
    for name, parameter in model.named_parameters():
        tower = next((t for t in towers if f"{t}." in name or name.startswith(t)), None)
        towers[tower or "other"] = towers.get(tower or "other", 0) + parameter.numel()
    result = {"parameters": sum(p.numel() for p in model.parameters()), "towers": towers, "lora": {}}
    if result["parameters"] != SMOLVLM["parameters"]:
        result["mismatch"] = f"known_models.py says {SMOLVLM['parameters']}"
    for scope in ("all", "text_model"):
        with torch.device("meta"):
            fresh = Idefics3ForConditionalGeneration(config)
        lora = LoraConfig(r=8, lora_alpha=32, lora_dropout=0.1, target_modules=lora_targets(["q_proj", "v_proj"], scope))
        peft_model = get_peft_model(fresh, lora)
        wrapped = [name for name, module in peft_model.named_modules() if hasattr(module, "lora_A") and name.endswith(("q_proj", "v_proj"))]
        trainable, _ = peft_model.get_nb_trainable_parameters()
        result["lora"][scope] = {
            "modules": len(wrapped),
            "vision_model": sum(1 for n in wrapped if ".vision_model." in n),
            "text_model": sum(1 for n in wrapped if ".text_model." in n),
            "trainable": trainable,
        }
    return result


def main(argv: list[str]) -> int:
    if argv[:1] == ["census"]:
        print(json.dumps(census()))
        return 0
    if len(argv) == 4 and argv[0] == "build" and argv[2] in VARIANTS:
        built = build(Path(argv[1]), argv[2], Path(argv[3]))
        print(json.dumps({"built": built, "path": str(Path(argv[1]).resolve())}))
        return 0
    print("usage: smolvlm_real_config.py build OUT_DIR base|instruct GGUF | census", file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
