"""Temporal client factory: every process connects the same way, from settings."""

from temporalio.client import Client

from studio.settings import get_settings


async def connect(address: str | None = None, namespace: str | None = None) -> Client:
    settings = get_settings()
    return await Client.connect(
        address or settings.temporal_address, namespace=namespace or settings.temporal_namespace
    )


def workflow_ui_url(workflow_id: str) -> str:
    """Link to a workflow in the Temporal Web UI."""
    settings = get_settings()
    return f"{settings.temporal_ui_url}/namespaces/{settings.temporal_namespace}/workflows/{workflow_id}"
