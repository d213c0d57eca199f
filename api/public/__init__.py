"""The public HTTP API, compatible with ElevenLabs and OpenAI clients; every call is a GenerateAudio workflow."""
