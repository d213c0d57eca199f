"""ElevenLabs' premade voice ids, each mapped onto the nearest studio voice.

Code written for ElevenLabs hard-codes its premade ("default") voice ids, e.g. ``21m00Tcm4TlvDq8ikWAM``
(Rachel). Every public route that takes a voice id accepts these ids too and speaks with the studio
voice this table names. It is a nearest-voice mapping, not the same voice: the studio's voices are
Kokoro's, and the mapping picks one with the same gender and the nearest accent.

Ids and labels (gender, age, accent, description) are ElevenLabs' own, as listed on its "Default
voices" documentation page (``fern/docs/pages/product-guides/voices/default-voices.mdx`` in
github.com/elevenlabs/elevenlabs-docs, August 2025: the current voices and the legacy ones);
Domi comes from the same page's July 2024 version (``voices/premade-voices.mdx``).
Left out: River (``SAz9YHcvj6GT2YYXdXww``, labelled non-binary: no studio voice matches that label)
and Elli (``MF3mGyEYCl7XYWbV9V6O``: its id is in the official Python SDK's 2023 docs, but no official
source found gives its labels).

How a studio voice is chosen:
- gender: always the label's;
- accent: the studio speaks American (``a*_``) or British (``b*_``) English only: American, American
  (South) and Transatlantic map to American; British, Irish and Australian to British; the
  non-native English voices (Swedish, Italian) to the accent of their own premade's sound
  (Charlotte and Mimi British-leaning, Giovanni American);
- then, where the names coincide (Adam, Sarah, Jessica, Eric, Liam, Michael, Nicole, Alice, Lily,
  Daniel, George), the studio voice of that name; otherwise by age and description: Kokoro's voices
  carry no age label, so "old" goes to the older-sounding voices (am_santa, bm_lewis), "deep" to
  am_onyx, young and casual to am_puck or am_echo, and so on. Several premades share a studio voice.

A user's own voice id (20 letters and digits, like these) is looked up first: the table only answers
for an id the user has no voice with.
"""

from dataclasses import dataclass

from studio.voices import VOICES, Voice


@dataclass(frozen=True)
class PremadeVoice:
    voice_id: str  # ElevenLabs' id
    name: str  # ElevenLabs' name
    gender: str  # ElevenLabs' labels: "female" / "male"
    age: str  # "young" / "middle-aged" / "old"
    accent: str  # as ElevenLabs writes it
    description: str
    studio_voice: str  # the studio voice id that speaks for it
    legacy: bool = False  # ElevenLabs lists it among its legacy voices

    @property
    def voice(self) -> Voice:
        return VOICES[self.studio_voice]


_P = PremadeVoice
# fmt: off
PREMADE_VOICES: dict[str, PremadeVoice] = {p.voice_id: p for p in (
    # ElevenLabs' current default voices
    _P("Xb7hH8MSUJpSbSDYk0k2", "Alice", "female", "middle-aged", "British", "confident", "bf_alice"),
    _P("9BWtsMINqrJLrRacOk9x", "Aria", "female", "middle-aged", "American", "expressive", "af_nova"),
    _P("pqHfZKP75CvOlQylNhV4", "Bill", "male", "old", "American", "trustworthy", "am_santa"),
    _P("nPczCjzI2devNBz1zQrb", "Brian", "male", "middle-aged", "American", "deep", "am_onyx"),
    _P("N2lVS1w4EtoT3dr4eOWO", "Callum", "male", "middle-aged", "Transatlantic", "intense", "am_fenrir"),
    _P("IKne3meq5aSn9XLyUdCD", "Charlie", "male", "middle-aged", "Australian", "natural", "bm_lewis"),
    _P("XB0fDUnXU5powFXDhCwa", "Charlotte", "female", "young", "Swedish", "seductive", "bf_isabella"),
    _P("iP95p4xoKVk53GoZ742B", "Chris", "male", "middle-aged", "American", "casual", "am_echo"),
    _P("onwK4e9ZLuTAKqWW03F9", "Daniel", "male", "middle-aged", "British", "authoritative", "bm_daniel"),
    _P("cjVigY5qzO86Huf0OWal", "Eric", "male", "middle-aged", "American", "friendly", "am_eric"),
    _P("JBFqnCBsd6RMkjVDRZzb", "George", "male", "middle-aged", "British", "warm", "bm_george"),
    _P("cgSgspJ2msm6clMCkdW9", "Jessica", "female", "young", "American", "expressive", "af_jessica"),
    _P("FGY2WhTYpPnrIDTdsKH5", "Laura", "female", "young", "American", "upbeat", "af_sky"),
    _P("TX3LPaxmHKxFdv7VOQHJ", "Liam", "male", "young", "American", "articulate", "am_liam"),
    _P("pFZP5JQG7iQjIQuC4Bku", "Lily", "female", "middle-aged", "British", "warm", "bf_lily"),
    _P("XrExE9yKIg1WjnnlVkGX", "Matilda", "female", "middle-aged", "American", "friendly", "af_bella"),
    _P("CwhRBWXzGAHq8TQ4Fs17", "Roger", "male", "middle-aged", "American", "confident", "am_michael"),
    _P("EXAVITQu4vr4xnSDxMaL", "Sarah", "female", "young", "American", "soft", "af_sarah"),  # once "Bella"
    _P("bIHbv24MWmeRgasZH58o", "Will", "male", "young", "American", "friendly", "am_puck"),
    # ElevenLabs' legacy voices (still answered by its API; the ids most older code hard-codes)
    _P("pNInz6obpgDQGcFmaJgB", "Adam", "male", "middle-aged", "American", "deep", "am_adam", True),
    _P("ErXwobaYiN019PkySvjV", "Antoni", "male", "young", "American", "well-rounded", "am_echo", True),
    _P("VR6AewLTigWG4xSOukaG", "Arnold", "male", "middle-aged", "American", "crisp", "am_fenrir", True),
    _P("2EiwWnXFnvU5JabPnv8n", "Clyde", "male", "middle-aged", "American", "war veteran", "am_onyx", True),
    _P("CYw3kZ02Hs0563khs1Fj", "Dave", "male", "young", "British", "conversational", "bm_fable", True),
    _P("AZnzlk1XvdvUeBnXmlld", "Domi", "female", "young", "American", "strong", "af_kore", True),
    _P("ThT5KcBeYPX3keUQqHPh", "Dorothy", "female", "young", "British", "pleasant", "bf_emma", True),
    _P("29vD33N1CtxCmqQRPOHJ", "Drew", "male", "middle-aged", "American", "well-rounded", "am_michael", True),
    _P("LcfcDJNUP1GQjkzn1xUU", "Emily", "female", "young", "American", "calm", "af_river", True),
    _P("g5CIjZEefAph4nQFvHAz", "Ethan", "male", "young", "American", "soft", "am_liam", True),
    _P("D38z5RcWu1voky8WS1ja", "Fin", "male", "old", "Irish", "sailor", "bm_lewis", True),
    _P("jsCqWAovK2LkecY7zXl4", "Freya", "female", "young", "American", "expressive", "af_nova", True),
    _P("Yko7PKHZNXotIFUBG7I9", "George", "male", "middle-aged", "British", "audiobook", "bm_george", True),
    _P("jBpfuIE2acCO8z3wKNLl", "Gigi", "female", "young", "American", "childish", "af_sky", True),
    _P("zcAOhNBS3c14rBihAFp1", "Giovanni", "male", "young", "Italian", "foreigner", "am_puck", True),
    _P("z9fAnlkpzviPz146aGWa", "Glinda", "female", "middle-aged", "American", "witch", "af_alloy", True),
    _P("oWAxZDx7w5VEj9dCyTzz", "Grace", "female", "young", "American (South)", "pleasant", "af_aoede", True),
    _P("SOYHLrjzK2X1ezoPC6cr", "Harry", "male", "young", "American", "anxious", "am_puck", True),
    _P("ZQe5CZNOzWyzPSCn5a3c", "James", "male", "old", "Australian", "calm", "bm_lewis", True),
    _P("bVMeCyTHy58xNoL34h3p", "Jeremy", "male", "young", "Irish", "excited", "bm_fable", True),
    _P("t0jbNlBVZ17f02VDIeMI", "Jessie", "male", "old", "American", "raspy", "am_santa", True),
    _P("Zlb1dXrM653N07WRdFW3", "Joseph", "male", "middle-aged", "British", "articulate", "bm_daniel", True),
    _P("TxGEqnHWrfWFTfGW9XjX", "Josh", "male", "young", "American", "deep", "am_liam", True),
    _P("flq6f7yk4E4fJM5XTYuZ", "Michael", "male", "old", "American", "calm", "am_michael", True),
    _P("zrHiDhphv9ZnVXBqCLjz", "Mimi", "female", "young", "Swedish", "childish", "bf_alice", True),
    _P("piTKgcLEGmPE4e6mEKli", "Nicole", "female", "young", "American", "soft", "af_nicole", True),
    _P("ODq5zmih8GrVes37Dizd", "Patrick", "male", "middle-aged", "American", "shouty", "am_fenrir", True),
    _P("5Q0t7uMcjvnagumLfvZi", "Paul", "male", "middle-aged", "American", "authoritative", "am_michael", True),
    _P("21m00Tcm4TlvDq8ikWAM", "Rachel", "female", "young", "American", "calm", "af_heart", True),
    _P("yoZ06aMxZJJ28mfd3POQ", "Sam", "male", "young", "American", "raspy", "am_echo", True),
    _P("pMsXgVXv3BLzUgSXRplE", "Serena", "female", "middle-aged", "American", "pleasant", "af_aoede", True),
    _P("GBv7mTt0atIp3Br8iCZE", "Thomas", "male", "young", "American", "calm", "am_liam", True),
)}
# fmt: on


def premade_voice(voice_id: str) -> PremadeVoice | None:
    """The premade ElevenLabs voice with this id, or None."""
    return PREMADE_VOICES.get(voice_id)
