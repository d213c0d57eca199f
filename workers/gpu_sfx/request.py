"""What a sound-effect request may ask for, checked the same way by the site and the worker."""

import math

MIN_SECONDS, MAX_SECONDS, DEFAULT_SECONDS = 0.5, 22.0, 10.0
MAX_PROMPT_CHARS = 450
MAX_VARIATIONS = 4
DEFAULT_INFLUENCE = 0.3


def problem(prompt: str, seconds: float, influence: float, variations: int) -> str | None:
    """A message for the user if the request is out of range, else None."""
    if not prompt.strip():
        return "Describe the sound you want."
    if len(prompt) > MAX_PROMPT_CHARS:
        return f"The prompt is {len(prompt)} characters; the limit is {MAX_PROMPT_CHARS}."
    if math.isnan(seconds) or not (MIN_SECONDS <= seconds <= MAX_SECONDS):
        return f"Duration must be between {MIN_SECONDS:g} and {MAX_SECONDS:g} seconds."
    if math.isnan(influence) or not (0 <= influence <= 1):
        return "Prompt influence must be between 0 and 1."
    if not (1 <= variations <= MAX_VARIATIONS):
        return f"Variations must be between 1 and {MAX_VARIATIONS}."
    return None
