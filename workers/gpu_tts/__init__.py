"""Text-to-speech GPU worker: Kokoro-82M served on the ``gpu-tts`` task queue."""
