"""FC 3.0 entry points: `index.handler` (HTTP trigger) and `index.initialize` (instance initializer)."""

from ossgate import config
from ossgate.app import App

_app = None


def _instance_app():
    global _app
    if _app is None:
        _app = App(config.load)
    return _app


def initialize(context):
    """Runs once per instance: builds and validates the configuration before the first request."""
    app = _instance_app()
    try:
        app.config
        app.warm()
    except Exception:
        pass  # every request answers the config error, and /healthz names it


def handler(event, context):
    return _instance_app().handle(event, context)
