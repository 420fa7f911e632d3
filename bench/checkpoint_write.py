"""Times the worker's checkpoint writer on a training state of a given size (the adapter in fp32
plus AdamW's two moments), as the paper's SmolVLM-Base LoRA would have it. Prints one JSON line.
Usage: python checkpoint_write.py FOLDER TRAINABLE_PARAMETERS [ROUNDS]
"""

import json
import os
import sys
import time

import torch

from dermatune_worker.checkpoint import TrainCheckpoints

folder, parameters = sys.argv[1], int(sys.argv[2])
rounds = int(sys.argv[3]) if len(sys.argv) > 3 else 5
weights = torch.randn(parameters)
state = {
    "trainable": {"adapter": weights},
    "optimizer": {"state": {0: {"step": torch.tensor(1.0), "exp_avg": torch.randn(parameters), "exp_avg_sq": torch.rand(parameters)}}},
}
checkpoints = TrainCheckpoints(folder, "bench")
seconds = []
for step in range(1, rounds + 1):
    seconds.append(checkpoints.save(step, rounds, {"metrics": []}, state))
newest = checkpoints.dir / f"step-{rounds:08d}"
size = sum(os.path.getsize(newest / name) for name in os.listdir(newest))
print(json.dumps({"parameters": parameters, "bytes": size, "seconds": sorted(seconds)[len(seconds) // 2]}))
