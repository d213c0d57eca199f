"""Which device a GPU worker runs on: the worker's setting, where "auto" means CUDA when present."""


def cuda_available() -> bool:
    try:
        import torch
    except ImportError:
        return False
    return torch.cuda.is_available()


def resolve_device(setting: str) -> str:
    """``auto`` -> ``cuda`` when a CUDA device is present, else ``cpu``; ``cpu``/``cuda`` as given."""
    if setting == "auto":
        return "cuda" if cuda_available() else "cpu"
    return setting
