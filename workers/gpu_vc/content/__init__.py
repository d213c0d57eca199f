"""The voice changer's learned content encoder: audio -> the frame features Kokoro's decoder reads.

Kokoro's decoder turns phoneme features (repeated over their frames), F0, energy and a voice's
style into that voice's speech. An encoder that reads those features back from any speaker's
audio lets the decoder re-voice the recording in any style pack, with no per-voice profile.
Training data is Kokoro itself: each rendered frame comes with the exact features that made it
(``corpus`` makes the text, ``synth`` the batches, ``train`` the weights).
"""
