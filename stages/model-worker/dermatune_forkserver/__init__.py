"""A fork server for the model worker: import torch, transformers and PEFT once, fork per job.

Every train or generate stage used to start a new interpreter and pay about four seconds of
imports before its first step; a sweep of twenty such stages paid it twenty times. The server
(`server.py`) imports them once and forks a child for each job. The child runs the worker's own
entry point (`dermatune_worker.__main__.main`) on the launcher's stdin, stdout and stderr, so the
job, its events, its log and its exit status are those of a worker started on its own.

The runner starts a job with `launch.py`, a small client that hands its three standard streams
to the server over a Unix socket (SCM_RIGHTS), forwards SIGTERM and SIGINT to the job's process,
and exits with the job's exit status. Nothing here decides an output, which is why this package
is not part of the worker's code digest (stages/model-worker/worker-fingerprint.ts).
"""
