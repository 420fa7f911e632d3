"""The S3 side of a Ray job: fetch what the job reads, run it, upload what it wrote (boto3)."""
