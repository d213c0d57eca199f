"""What talks to or runs Temporal: client factory, task-queue names, dev-server launcher."""
