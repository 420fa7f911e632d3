"""dermatune's model worker: trains LoRA adapters for SmolVLM-class models and generates answers.

The runner (TypeScript) hands it one JSON job and reads JSON lines back; see `protocol.py`.
"""
