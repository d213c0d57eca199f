"""Voice-conversion GPU worker: re-voices a user's recording in a studio voice (queue ``gpu-vc``)."""
