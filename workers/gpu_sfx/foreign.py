"""Sounds the procedural catalogue cannot make: the open-set background for the prompt matcher.

A clause whose meaning sits nearer one of these than any catalogue source is refused instead of
being handed to the nearest catalogue source ("creaky door" is not a knock, "a lion roaring" not
wind). Written as a broad list of everyday sound categories (in the spirit of the AudioSet
ontology), a few phrasings each, deliberately excluding what the catalogue covers; it is not a
list of the evaluation prompts (tests/sfx_open_set.py keeps a held-out set it was not tuned on).
"""

FOREIGN_SOUNDS: list[str] = [
    # animals the catalogue has no voice for (it has dogs, songbirds and insects)
    "a cat meowing", "a cat purring", "a kitten", "a cow mooing", "cattle", "a horse neighing",
    "horse hooves galloping", "a pig oinking", "a sheep bleating", "a goat", "a donkey braying",
    "a lion roaring", "a tiger growl", "a bear growling", "a wolf howling", "coyotes yipping",
    "an elephant trumpeting", "a monkey screeching", "a frog croaking", "a toad", "a snake hissing",
    "a rooster crowing", "a chicken clucking", "a duck quacking", "a goose honking", "a turkey gobbling",
    "a whale song", "dolphins clicking", "a sea lion", "a seal", "a mouse squeaking", "a hamster",
    "a rattlesnake rattle", "a bee buzzing around a hive", "a mosquito whine",
    # people: voices and bodies
    "a baby crying", "a baby laughing", "a child giggling", "a man talking", "a woman speaking",
    "a person reading aloud", "a speech", "someone singing", "a choir", "a person whistling",
    "someone screaming", "a shout", "a whisper", "laughter", "someone coughing", "a sneeze",
    "snoring", "breathing heavily", "a sigh", "a burp", "hiccups", "someone yawning", "chewing",
    "eating crunchy food", "slurping a drink", "gulping", "a kiss", "a finger snap",
    "a punch", "a slap", "a kick", "a body falling", "a fist fight",
    # music and instruments
    "music", "a song", "a melody", "a piano", "a guitar", "an electric guitar", "a bass guitar",
    "a violin", "a cello", "a double bass", "a harp", "a flute", "a clarinet", "a saxophone",
    "a trumpet", "a trombone", "a tuba", "a french horn", "bagpipes", "an accordion",
    "a harmonica", "a church organ", "a synthesizer", "a drum kit", "a snare drum", "a drum roll",
    "a bass drum", "cymbals", "a tambourine", "a xylophone", "bongos", "an orchestra", "a band playing",
    "a DJ scratching records", "a music box",
    # vehicles and machines the catalogue has no sound for (it has road engines, sirens, drones)
    "a helicopter", "helicopter rotor blades", "an airplane", "a jet plane taking off",
    "a propeller plane", "a train", "a train horn", "a train on the tracks", "a subway",
    "a tram bell", "a car horn honking", "a car door slamming", "tires screeching",
    "a car crash", "a bicycle", "a skateboard", "a rocket launch", "a space shuttle lifting off",
    "a chainsaw", "a lawn mower", "a leaf blower", "a power drill", "a jackhammer",
    "a circular saw", "a hand saw cutting wood", "a hammer hitting a nail", "a nail gun",
    "a sewing machine", "a printer printing", "a fax machine", "a dial-up modem", "a vacuum cleaner",
    "a hair dryer", "a blender", "a washing machine", "a dishwasher", "a refrigerator",
    "an elevator", "an escalator", "an air conditioner", "a ceiling fan", "a cash register",
    "a camera shutter", "a vending machine", "a slot machine", "a robot moving",
    # household and objects
    "a creaking door", "a door creaking open", "a squeaky hinge", "a door slamming", "a door closing",
    "a creaky floorboard", "a squeaky chair", "a drawer opening", "keys jingling", "a lock turning",
    "a zipper", "velcro", "paper crumpling", "pages turning", "scissors cutting",
    "a pen scribbling", "a light switch", "a kettle whistling", "a toaster popping",
    "bacon sizzling", "frying food", "boiling water bubbling", "a pot lid rattling",
    "dishes clattering", "cutlery", "pouring a drink", "a cork popping", "a can opening",
    "ice cubes clinking", "a toilet flushing", "a shower running", "brushing teeth",
    "a telephone ringing", "a cell phone vibrating", "a balloon popping", "a balloon",
    "a coin dropping", "a ball bouncing", "a basketball", "a tennis match", "a golf swing",
    "a bowling strike", "a ping pong ball", "a whip crack", "swords clashing", "metal clanging",
    "chains rattling", "a rubber duck squeak", "a spring boing", "a cartoon sound effect",
    "a slide whistle", "a record scratch", "a game show buzzer",
    # nature the catalogue lacks
    "an earthquake", "an avalanche", "a landslide", "a volcano erupting", "hail",
    "a tree falling", "branches snapping", "leaves rustling", "ice cracking", "mud squelching",
    "a splash", "someone swimming", "a diver underwater", "bubbles",
    # not a sound at all
    "silence", "a picture", "a color", "a feeling", "a story", "a poem",
]  # fmt: skip
