"""The architecture of the study's models, for questions asked before they are downloaded (the
memory estimate of `dermatune doctor` and of a train job's preflight). Read from the models'
config.json and processor files on the hub (SmolVLM-Base and -Instruct share one architecture);
the real-config test fixture (scripts/smolvlm-fixture) builds from these same values and checks
the parameter count against SmolVLM-Base's published size.
"""

from __future__ import annotations

SMOLVLM = {
    "parameters": 2_246_272_880,
    "vision": {
        "hidden_size": 1152,
        "intermediate_size": 4304,
        "num_hidden_layers": 27,
        "num_attention_heads": 16,
        "patch_size": 14,
        "image_size": 384,
    },
    "text": {
        "hidden_size": 2048,
        "intermediate_size": 8192,
        "num_hidden_layers": 24,
        "num_attention_heads": 32,
        "num_key_value_heads": 32,
        "head_dim": 64,
        "vocab_size": 49155,
    },
    "scale_factor": 3,
    # The processor: images resized to a 1536 px longest edge, cut into 384 px tiles.
    "longest_edge": 1536,
    "max_image_size": 384,
}

KNOWN_MODELS = {
    "HuggingFaceTB/SmolVLM-Base": SMOLVLM,
    "HuggingFaceTB/SmolVLM-Instruct": SMOLVLM,
}
