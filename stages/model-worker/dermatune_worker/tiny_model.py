"""Builds the local stand-in for SmolVLM: a tiny Idefics3 model, offline and deterministically.

It has SmolVLM's architecture (SigLIP-like vision tower, pixel-shuffle connector, Llama text
model), SmolVLM's processor type (Idefics3Processor with image splitting and row/col tokens) and a
chat template of SmolVLM's shape, but random weights and a byte-level BPE vocabulary trained on a
few dermatology sentences written here. It is a stand-in for tests and the demo, never a model of
skin disease: every file it writes says so.

The output folder carries `stand-in.json` with the digest the runner computed over this file; a
folder whose digest matches is left alone (the build is deterministic, so rebuilding would write
the same bytes). `build_staged` is shared with the demo's stand-in (smollm2_standin.py).
"""

from __future__ import annotations

import json
import os
import shutil
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path

STAND_IN_NAME = "tiny-smolvlm-standin"
MARKER = "stand-in.json"
SEED = 20260604

# The layout tokens SmolVLM's processor writes around images; the processor looks them up by text.
IMAGE_TOKENS = ["<fake_token_around_image>", "<image>", "<global-img>"]
ROW_COL_TOKENS = [f"<row_{r}_col_{c}>" for r in range(1, 7) for c in range(1, 7)]
SPECIAL_TOKENS = ["<pad>", "<|im_start|>", "<end_of_utterance>", *IMAGE_TOKENS, *ROW_COL_TOKENS]

# SmolVLM's chat template shape: "<|im_start|>User:<image>question<end_of_utterance>\nAssistant: answer<end_of_utterance>\n".
CHAT_TEMPLATE = (
    "<|im_start|>"
    "{% for message in messages %}"
    "{{ message['role'] | capitalize }}"
    "{% if message['content'][0]['type'] == 'image' %}{{ ':' }}{% else %}{{ ': ' }}{% endif %}"
    "{% for part in message['content'] %}"
    "{% if part['type'] == 'text' %}{{ part['text'] }}{% elif part['type'] == 'image' %}{{ '<image>' }}{% endif %}"
    "{% endfor %}"
    "<end_of_utterance>\n"
    "{% endfor %}"
    "{% if add_generation_prompt %}{{ 'Assistant:' }}{% endif %}"
)

# Vision: SmolVLM's 384 px tiles (so `train.image_size` means the same for both), cut into 32 px
# patches (12 x 12) -> pixel shuffle by 3, as in SmolVLM -> 16 image tokens per tile.
VISION = dict(
    hidden_size=32,
    intermediate_size=64,
    num_hidden_layers=2,
    num_attention_heads=2,
    image_size=384,
    patch_size=32,
)
SCALE_FACTOR = 3
IMAGE_SEQ_LEN = (VISION["image_size"] // VISION["patch_size"]) ** 2 // SCALE_FACTOR**2
TEXT = dict(
    hidden_size=64,
    intermediate_size=128,
    num_hidden_layers=2,
    num_attention_heads=4,
    num_key_value_heads=2,
    max_position_embeddings=1024,
    rms_norm_eps=1e-5,
    # Wider than Llama's 0.02: a frozen random base with tiny weights caps how far a rank-8 adapter
    # on q_proj/v_proj can move the logits; at 0.1 the loss visibly falls within a few dozen steps.
    initializer_range=0.1,
)
VOCAB_SIZE = 1024

# Written for this builder: the kind of text the fixtures and demo data contain, so the BPE merges
# give words rather than bytes and sequences stay short.
CORPUS = """
The image shows a red, swollen plaque with a yellow crust on the skin of the forearm.
Honey-coloured crusts around the nose and mouth suggest impetigo, a bacterial skin infection.
A warm, tender, spreading area of redness with ill-defined borders is typical of cellulitis.
Erysipelas presents as a raised, sharply demarcated, bright red plaque, often on the face or leg.
A painful red nodule with a central pustule points to a furuncle; several joined ones form a carbuncle.
Folliculitis appears as small pustules centred on hair follicles.
Necrotizing fasciitis is an emergency: pain out of proportion to the visible findings, rapid spread.
Lesions of cutaneous anthrax form a painless black eschar surrounded by oedema.
Ecthyma is a deeper form of impetigo with punched-out ulcers covered by crusts.
Erythrasma shows brown, scaly patches in skin folds that glow coral red under a Wood lamp.
Pitted keratolysis causes crater-like pits on the soles, often with a strong odour.
Staphylococcal scalded skin syndrome shows widespread blistering and peeling in young children.
Question: What visual features are visible in this image? Answer: The lesion is red, raised and crusted.
Question: What is the most likely diagnosis? Answer: The appearance is most consistent with impetigo.
Question: Which conditions could look similar? Answer: Herpes simplex, eczema and contact dermatitis.
Question: How would you explain this to a worried patient? Answer: This is a common, treatable infection.
Question: What follow-up is advisable? Answer: Review in one week, or sooner if fever or spreading redness.
Question: Is this lesion malignant? Answer: No, the features suggest an infection rather than a tumour.
Question: What further evaluation would help? Answer: A swab for culture and sensitivity testing.
Caption: Clinical photograph of the lower leg showing erythema, swelling and a central ulcer.
Caption: Figure 1. Pustules and crusts on the cheek of a child before treatment.
Caption: Figure 2. The same patient after two weeks of topical antibiotic therapy.
Describe the image. Explain the findings. What does the morphology indicate?
What does the pigment distribution suggest? Which disorders resemble it?
redness swelling crust pustule plaque nodule ulcer blister scale erosion eschar papule macule
bacterial infection antibiotic culture treatment diagnosis patient skin lesion clinical imaging
staphylococcus streptococcus pseudomonas mycobacterium corynebacterium
User: What is the most likely diagnosis?
Assistant: The most likely diagnosis is impetigo.
User: Describe this clinical image.
Assistant: Redness and crusts on the skin.
"""


def is_current(out_dir: Path, digest: str) -> bool:
    marker = out_dir / MARKER
    if not marker.is_file():
        return False
    try:
        return json.loads(marker.read_text()).get("builder_digest") == digest
    except (OSError, ValueError):
        return False


def build_staged(out_dir: Path, digest: str, write: Callable[[Path], None]) -> bool:
    """Runs write(folder) unless out_dir is current for digest, then swaps the folder in whole.

    Shared by every stand-in builder. The digest comes from the runner (stand-in-model.ts), which
    computes it over the builder files and their inputs. Returns whether it built.
    """
    if is_current(out_dir, digest):
        return False
    out_dir.parent.mkdir(parents=True, exist_ok=True)
    # Build beside the target and swap it in whole, so a crash never leaves a half model behind.
    staging = Path(tempfile.mkdtemp(prefix=f".{out_dir.name}-", dir=out_dir.parent))
    try:
        write(staging)
        staging.chmod(0o755)
        if out_dir.exists():
            shutil.rmtree(out_dir)
        os.replace(staging, out_dir)
    finally:
        if staging.exists():
            shutil.rmtree(staging, ignore_errors=True)
    return True


def _write_model(out: Path, digest: str) -> None:
    import torch
    from transformers import Idefics3Config, Idefics3ForConditionalGeneration, Idefics3Processor
    from transformers.models.idefics3.image_processing_pil_idefics3 import Idefics3ImageProcessorPil

    tokenizer = _train_tokenizer()
    image_processor = Idefics3ImageProcessorPil(
        # Up to 2 x 2 tiles plus the global image by default (SmolVLM: up to 4 x 4).
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

    vocab = len(tokenizer)
    config = Idefics3Config(
        vision_config=dict(VISION),
        text_config=dict(
            TEXT,
            model_type="llama",
            vocab_size=vocab,
            pad_token_id=tokenizer.convert_tokens_to_ids("<pad>"),
            bos_token_id=tokenizer.convert_tokens_to_ids("<|im_start|>"),
            eos_token_id=tokenizer.convert_tokens_to_ids("<end_of_utterance>"),
        ),
        scale_factor=SCALE_FACTOR,
        image_token_id=tokenizer.convert_tokens_to_ids("<image>"),
        tie_word_embeddings=False,
        pad_token_id=tokenizer.convert_tokens_to_ids("<pad>"),
    )
    torch.manual_seed(SEED)
    model = Idefics3ForConditionalGeneration(config).eval()
    model.generation_config.eos_token_id = config.text_config.eos_token_id
    model.generation_config.pad_token_id = config.text_config.pad_token_id
    model.generation_config.bos_token_id = config.text_config.bos_token_id

    model.save_pretrained(out, safe_serialization=True)
    processor.save_pretrained(out)
    n_params = sum(p.numel() for p in model.parameters())
    (out / "README.md").write_text(
        "# tiny-smolvlm-standin (local stand-in, NOT SmolVLM)\n\n"
        "A randomly initialised model of SmolVLM's architecture (Idefics3ForConditionalGeneration:\n"
        "SigLIP-like vision tower, pixel-shuffle connector, Llama text model) with SmolVLM's processor\n"
        "type and chat-template shape, built offline by dermatune's model worker so that training and\n"
        "generation run for real on a CPU. It knows nothing of skin disease; its outputs mean nothing\n"
        "clinically. The study itself uses HuggingFaceTB/SmolVLM-Base and -Instruct.\n\n"
        f"Parameters: {n_params}; vocabulary: {vocab}; image tokens per tile: {IMAGE_SEQ_LEN}.\n"
    )
    (out / MARKER).write_text(
        json.dumps(
            {
                "name": STAND_IN_NAME,
                "stand_in_for": "HuggingFaceTB/SmolVLM-Base",
                "note": "random weights; a stand-in for tests and the demo, not a real model",
                "builder_digest": digest,
                "parameters": n_params,
            },
            indent=2,
        )
        + "\n"
    )


def _train_tokenizer():
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import PreTrainedTokenizerFast

    bpe = Tokenizer(models.BPE())
    bpe.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    bpe.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=VOCAB_SIZE,
        special_tokens=SPECIAL_TOKENS,
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
        show_progress=False,
    )
    bpe.train_from_iterator([line for line in CORPUS.splitlines() if line.strip()], trainer)
    return PreTrainedTokenizerFast(
        tokenizer_object=bpe,
        pad_token="<pad>",
        bos_token="<|im_start|>",
        eos_token="<end_of_utterance>",
        unk_token=None,
        model_max_length=1024,
        padding_side="right",
        extra_special_tokens={"image_token": "<image>"},
    )


def main(argv: list[str]) -> int:
    if len(argv) != 2:
        print("usage: python -m dermatune_worker.tiny_model OUT_DIR DIGEST", file=sys.stderr)
        return 2
    out, digest = Path(argv[0]), argv[1]
    built = build_staged(out, digest, lambda staging: _write_model(staging, digest))
    print(json.dumps({"event": "done", "built": built, "path": str(Path(argv[0]).resolve())}))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
