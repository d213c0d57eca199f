"""Activities of GenerateAudio that run on the orchestration worker (database) or on any GPU worker (upload)."""
