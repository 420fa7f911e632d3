"""From JSONL records to chat examples, token ids, label masks and batches.

Supervision types (the paper's three training sets):
- qa: user turn = image + question, assistant turn = answer; one example per QA record.
- caption: user turn = image + a fixed instruction, assistant turn = the figure caption; one
  example per distinct image (QA rows repeat their image's caption; it is used once).
- qa_caption: both sets together.
Every example goes through the model's own chat template and processor, so the stand-in and the
real SmolVLM build their inputs by the same code.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .images import load_image
from .protocol import WorkerError

IGNORE = -100


@dataclass(frozen=True)
class ChatExample:
    image: str
    prompt: str
    target: str
    source: str  # "qa" or "caption"
    record_index: int


@dataclass
class EncodedExample:
    input_ids: list[int]
    labels: list[int]
    pixel_values: Any  # tensor [tiles, 3, H, W]
    pixel_attention_mask: Any  # tensor [tiles, H, W]
    truncated: bool

    @property
    def label_tokens(self) -> int:
        """Tokens that carry loss once shifted for next-token prediction."""
        return sum(1 for label in self.labels[1:] if label != IGNORE)


def read_records(path: str) -> list[dict[str, Any]]:
    records = []
    with open(path, encoding="utf-8") as handle:
        for number, line in enumerate(handle, start=1):
            if not line.strip():
                continue
            try:
                record = json.loads(line)
            except ValueError as error:
                raise WorkerError("bad-job", f"{path}:{number}: not JSON ({error})") from error
            if not isinstance(record, dict):
                raise WorkerError("bad-job", f"{path}:{number}: a record must be a JSON object")
            records.append(record)
    if not records:
        raise WorkerError("bad-job", f"{path} holds no records")
    return records


def image_path(record: dict[str, Any], root: str, where: str) -> str:
    image = record.get("image")
    if not isinstance(image, str) or not image:
        raise WorkerError("bad-job", f"{where}: record has no `image` path")
    return str((Path(root) / image).resolve()) if not Path(image).is_absolute() else image


def chat_examples(
    records: list[dict[str, Any]], supervision: str, caption_instruction: str, image_root: str, source_name: str
) -> list[ChatExample]:
    qa: list[ChatExample] = []
    captions: dict[str, ChatExample] = {}
    for index, record in enumerate(records):
        where = f"{source_name} record {index + 1}"
        image = image_path(record, image_root, where)
        question, answer, caption = record.get("question"), record.get("answer"), record.get("caption")
        if _text(question) and _text(answer):
            qa.append(ChatExample(image, question.strip(), answer.strip(), "qa", index))
        if _text(caption) and image not in captions:
            captions[image] = ChatExample(image, caption_instruction, caption.strip(), "caption", index)
    chosen = {
        "qa": qa,
        "caption": list(captions.values()),
        "qa_caption": qa + list(captions.values()),
    }[supervision]
    if not chosen:
        raise WorkerError("bad-job", f"{source_name} yields no {supervision} examples (missing question/answer/caption fields?)")
    return chosen


def messages(prompt: str, target: str | None) -> list[dict[str, Any]]:
    turns = [{"role": "user", "content": [{"type": "image"}, {"type": "text", "text": prompt}]}]
    if target is not None:
        turns.append({"role": "assistant", "content": [{"type": "text", "text": target}]})
    return turns


def image_layout_ids(processor) -> set[int]:
    """Ids of every token that stands for or frames an image: never a training target."""
    tokenizer = processor.tokenizer
    names = [processor.image_token, processor.fake_image_token, processor.global_image_tag]
    names += [f"<row_{r}_col_{c}>" for r in range(1, 7) for c in range(1, 7)]
    ids = set()
    for name in names:
        token_id = tokenizer.convert_tokens_to_ids(name)
        if token_id is not None and tokenizer.convert_ids_to_tokens(token_id) == name:
            ids.add(token_id)
    return ids


def encode(
    processor, example: ChatExample, loss_on: str, max_seq_length: int, layout_ids: set[int]
) -> EncodedExample | None:
    """Token ids, labels and pixels of one example; None when image and prompt alone overflow."""
    image = load_image(example.image)
    full_text = processor.apply_chat_template(messages(example.prompt, example.target))
    prompt_text = processor.apply_chat_template(messages(example.prompt, None), add_generation_prompt=True)
    full = processor(text=[full_text], images=[[image]], add_special_tokens=False, return_tensors="pt")
    prompt_ids = processor(text=[prompt_text], images=[[image]], add_special_tokens=False)["input_ids"][0]
    input_ids = full["input_ids"][0].tolist()
    # The user turn ends where the prompt's tokens stop agreeing with the full text's tokens
    # (identical unless a tokenizer merges across the "Assistant:" boundary).
    prompt_len = _common_prefix(input_ids, list(prompt_ids))
    if prompt_len >= max_seq_length:
        return None
    labels = [IGNORE if token in layout_ids else token for token in input_ids]
    # The image block's layout text (<row_i_col_j>, <global-img>, the newlines between rows) is
    # split into ordinary sub-word tokens by the real SmolVLM tokenizer, so ids alone cannot find
    # it: everything from the first to the last <fake_token_around_image> is the image's.
    fake = processor.tokenizer.convert_tokens_to_ids(processor.fake_image_token)
    framing = [i for i, token in enumerate(input_ids) if token == fake]
    if framing:
        labels[framing[0] : framing[-1] + 1] = [IGNORE] * (framing[-1] + 1 - framing[0])
    if loss_on == "assistant":
        labels[:prompt_len] = [IGNORE] * prompt_len
    truncated = len(input_ids) > max_seq_length
    return EncodedExample(
        input_ids=input_ids[:max_seq_length],
        labels=labels[:max_seq_length],
        pixel_values=full["pixel_values"][0],
        pixel_attention_mask=full["pixel_attention_mask"][0],
        truncated=truncated,
    )


def collate(batch: list[EncodedExample], pad_id: int) -> dict[str, Any]:
    """Right-pads ids (labels ignore padding) and pads tiles with all-zero images, which Idefics3 drops."""
    import torch

    length = max(len(example.input_ids) for example in batch)
    tiles = max(example.pixel_values.shape[0] for example in batch)
    height = max(example.pixel_values.shape[-2] for example in batch)
    width = max(example.pixel_values.shape[-1] for example in batch)
    input_ids = torch.full((len(batch), length), pad_id, dtype=torch.long)
    labels = torch.full((len(batch), length), IGNORE, dtype=torch.long)
    attention_mask = torch.zeros((len(batch), length), dtype=torch.long)
    channels = batch[0].pixel_values.shape[1]
    pixel_values = torch.zeros((len(batch), tiles, channels, height, width), dtype=batch[0].pixel_values.dtype)
    pixel_mask = torch.zeros((len(batch), tiles, height, width), dtype=batch[0].pixel_attention_mask.dtype)
    for row, example in enumerate(batch):
        n = len(example.input_ids)
        input_ids[row, :n] = torch.tensor(example.input_ids)
        labels[row, :n] = torch.tensor(example.labels)
        attention_mask[row, :n] = 1
        t, _, h, w = example.pixel_values.shape
        pixel_values[row, :t, :, :h, :w] = example.pixel_values
        pixel_mask[row, :t, :h, :w] = example.pixel_attention_mask
    return {
        "input_ids": input_ids,
        "attention_mask": attention_mask,
        "pixel_values": pixel_values,
        "pixel_attention_mask": pixel_mask,
        "labels": labels,
    }


def _text(value: Any) -> bool:
    return isinstance(value, str) and value.strip() != ""


def _common_prefix(a: list[int], b: list[int]) -> int:
    n = 0
    for x, y in zip(a, b):
        if x != y:
            break
        n += 1
    return n
